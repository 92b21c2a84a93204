import { assertValidEvent, type Medication, type Prescription } from '@hms/contracts';
import { outboxRows } from '@hms/testkit';
import { expectProblem } from '@hms/testkit/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  PRESCRIPTIONS,
  addMedication,
  eventually,
  item,
  prescribed,
  register,
  settableClock,
  useWorld,
  type World,
} from './helpers.js';

/** The expiry job (kit scheduler) against Pharmacy's clock, which the test moves by hand. */
describe('prescriptions expire at their validUntil', () => {
  const clock = settableClock('2026-06-01T10:00:00.000Z');
  const world = useWorld({ pharmacyClock: clock, pharmacyEnv: { PHARMACY_EXPIRY_JOB_MS: '100' } });
  let w: World;
  let med: Medication;
  let patientId: string;

  beforeAll(async () => {
    w = world();
    med = await addMedication(w);
    patientId = (await register(w)).id;
  });

  const read = async (id: string) =>
    (await w.pharmacy.request<Prescription>('GET', `${PRESCRIPTIONS}/${id}`, { token: w.tokens.pharmacist }))
      .body;

  it('expires an open prescription once the clock reaches its validUntil, publishes it, and leaves the others', async () => {
    const soon = await prescribed(w, {
      patientId,
      items: [item(med.id)],
      validUntil: '2026-06-08T10:00:00.000Z',
    });
    const yearLong = await prescribed(w, { patientId, items: [item(med.id)] });
    expect(yearLong.validUntil).toBe('2027-06-01T10:00:00.000Z');
    const cancelled = await prescribed(w, {
      patientId,
      items: [item(med.id)],
      validUntil: '2026-06-02T10:00:00.000Z',
    });
    const c = await w.pharmacy.request('POST', `${PRESCRIPTIONS}/${cancelled.id}/cancel`, {
      token: w.tokens.physician,
      body: { reason: 'not needed' },
    });
    expect(c.status).toBe(200);

    // a millisecond before: still active, after several runs of the job
    clock.set('2026-06-08T09:59:59.999Z');
    await new Promise((r) => setTimeout(r, 400));
    expect((await read(soon.id)).status).toBe('active');

    clock.set('2026-06-08T10:00:00.000Z');
    await eventually(async () => (await read(soon.id)).status === 'expired', 'the expiry job');
    const expired = await read(soon.id);
    expect(expired).toMatchObject({ status: 'expired', expiredAt: '2026-06-08T10:00:00.000Z', version: 2 });
    expect((await read(yearLong.id)).status).toBe('active');
    expect((await read(cancelled.id)).status).toBe('cancelled');

    const events = await outboxRows(w.pharmacy.db, { type: 'prescription.expired.v1' });
    expect(events.map((e) => e.subject)).toEqual([soon.id]);
    assertValidEvent(events[0]?.envelope);
    expect(events[0]?.envelope.data).toEqual({ prescription: expired });

    const cancel = await w.pharmacy.request('POST', `${PRESCRIPTIONS}/${soon.id}/cancel`, {
      token: w.tokens.physician,
      body: { reason: 'too late' },
    });
    expect(expectProblem(cancel, 409).code).toBe('invalid_transition');
  });

  it('refuses a validUntil that is not after the clock', async () => {
    clock.set('2026-07-01T00:00:00.000Z');
    const res = await w.pharmacy.request('POST', PRESCRIPTIONS, {
      token: w.tokens.physician,
      body: { patientId, items: [item(med.id)], validUntil: '2026-07-01T00:00:00.000Z' },
    });
    expect(expectProblem(res, 400).errors?.map((e) => e.path)).toEqual(['/body/validUntil']);
  });
});
