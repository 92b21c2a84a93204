import { assertValidEvent } from '@hms/contracts';
import { buildEnvelope, runWithContext } from '@hms/platform';
import { describe, expect, test } from 'vitest';
import { registered } from './events.fixtures.js';

describe('the envelope names who caused the change (actor)', () => {
  test('the verified caller of the request the event was written in', () => {
    const envelope = runWithContext({ requestId: 'r-1', actor: '0190a1b2-0000-7000-8000-0000000000aa' }, () =>
      buildEnvelope('patient', registered()),
    );
    expect(envelope.actor).toBe('0190a1b2-0000-7000-8000-0000000000aa');
    expect(() => assertValidEvent(envelope)).not.toThrow();
  });

  test("the service itself for its own work (a consumer's, a job's: no caller in the context)", () => {
    expect(buildEnvelope('billing', registered()).actor).toBe('svc:billing');
    expect(runWithContext({ requestId: 'evt-1' }, () => buildEnvelope('billing', registered())).actor).toBe(
      'svc:billing',
    );
  });

  test('an envelope from before the attribute existed is still valid', () => {
    const older: Record<string, unknown> = { ...buildEnvelope('patient', registered()) };
    delete older.actor;
    expect(() => assertValidEvent(older)).not.toThrow();
  });
});
