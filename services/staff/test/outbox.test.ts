import { assertValidEvent, type Closure, type Staff, type TimeOff } from '@hms/contracts';
import type { RunningService } from '@hms/testkit';
import { expectProblem } from '@hms/testkit/vitest';
import { describe, expect, it } from 'vitest';
import {
  CLOSURES,
  MERGE_PATCH,
  STAFF,
  counts,
  newStaff,
  onboard,
  outboxOf,
  storedRow,
  useStaffService,
  type Tokens,
} from './helpers.js';

/**
 * A real fault in the real database: a trigger refuses outbox rows whose subject, or whose staff
 * member's family name, is listed in `test_poison`, so a test can watch the change roll back.
 */
const POISON = `
  CREATE TABLE test_poison (value text PRIMARY KEY);
  CREATE FUNCTION test_poison_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF EXISTS (SELECT 1 FROM test_poison
                WHERE value = NEW.subject OR value = NEW.envelope->'data'->'staff'->>'familyName') THEN
      RAISE EXCEPTION 'injected failure: INSERT INTO outbox refused for %', NEW.subject;
    END IF;
    RETURN NEW;
  END $$;
  CREATE TRIGGER test_poison_outbox BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION test_poison_outbox();
`;

let svc: RunningService;
let t: Tokens;

useStaffService(async (s, tokens) => {
  svc = s;
  t = tokens;
  await svc.db.exec(POISON);
});

const poison = (value: string) => svc.db.query('INSERT INTO test_poison (value) VALUES ($1)', [value]);

describe('a change and its event commit together', () => {
  it('when the event cannot be written, the onboarding is not stored either (500, no row)', async () => {
    const input = newStaff();
    await poison(input.familyName);
    const before = await counts(svc);
    expectProblem(await svc.request('POST', STAFF, { token: t.writer, body: input }), 500);
    expect(await counts(svc)).toEqual(before);
  });

  it('when the event cannot be written, the update is not stored either (version and values kept)', async () => {
    const s = await onboard(svc, t.writer);
    await poison(s.id);
    const res = await svc.request('PATCH', `${STAFF}/${s.id}`, {
      token: t.writer,
      body: { department: 'Oncology' },
      headers: MERGE_PATCH,
    });
    expectProblem(res, 500);
    expect(await storedRow(svc, s.id)).toMatchObject({ version: 1 });
    const read = await svc.request<Staff>('GET', `${STAFF}/${s.id}`, { token: t.reader });
    expect(read.body.department).toBe(s.department);
  });

  it('every change publishes one valid event carrying its version, in order', async () => {
    const s = await onboard(svc, t.writer);
    for (const department of ['Oncology', 'Radiology'])
      await svc.request('PATCH', `${STAFF}/${s.id}`, {
        token: t.writer,
        body: { department },
        headers: MERGE_PATCH,
      });
    await svc.request('DELETE', `${STAFF}/${s.id}`, { token: t.writer });
    const rows = await outboxOf(svc, s.id);
    for (const row of rows) assertValidEvent(row.envelope);
    expect(rows.map((r) => [r.type, (r.envelope.data.staff as Staff).version])).toEqual([
      ['staff.onboarded.v1', 1],
      ['staff.updated.v1', 2],
      ['staff.updated.v1', 3],
      ['staff.updated.v1', 4],
    ]);
    expect(rows.map((r) => r.envelope.data.changedFields)).toEqual([
      undefined,
      ['department'],
      ['department'],
      ['active'],
    ]);
  });
});

describe('time off and closures publish their events with the change', () => {
  it('recording and deleting time off publish staff.time-off-recorded.v1 and …-removed.v1 with the row', async () => {
    const s = await onboard(svc, t.writer);
    const added = await svc.request<TimeOff>('POST', `${STAFF}/${s.id}/time-off`, {
      token: t.writer,
      body: { start: '2026-07-06T07:00:00Z', end: '2026-07-10T16:00:00Z', reason: 'conference' },
    });
    expect(added.status).toBe(201);
    expect(
      (await svc.request('DELETE', `${STAFF}/${s.id}/time-off/${added.body.id}`, { token: t.writer })).status,
    ).toBe(204);
    const rows = await outboxOf(svc, s.id);
    for (const row of rows) assertValidEvent(row.envelope);
    const timeOff = {
      id: added.body.id,
      staffId: s.id,
      start: '2026-07-06T07:00:00.000Z',
      end: '2026-07-10T16:00:00.000Z',
      reason: 'conference',
      createdAt: added.body.createdAt,
    };
    expect(rows.map((r) => [r.type, r.envelope.data])).toEqual([
      ['staff.onboarded.v1', { staff: s }],
      ['staff.time-off-recorded.v1', { timeOff }],
      ['staff.time-off-removed.v1', { timeOff }],
    ]);
  });

  it('closing and reopening a date publish staff.closure-added.v1 and …-removed.v1, subject the date', async () => {
    const added = await svc.request<Closure>('POST', CLOSURES, {
      token: t.writer,
      body: { date: '2026-10-03', name: 'Tag der Deutschen Einheit' },
    });
    expect(added.status).toBe(201);
    expect((await svc.request('DELETE', `${CLOSURES}/2026-10-03`, { token: t.writer })).status).toBe(204);
    const rows = await outboxOf(svc, '2026-10-03');
    for (const row of rows) assertValidEvent(row.envelope);
    const closure = {
      id: added.body.id,
      date: '2026-10-03',
      name: 'Tag der Deutschen Einheit',
      timezone: 'UTC',
      createdAt: added.body.createdAt,
    };
    expect(added.body).toEqual(closure);
    expect(rows.map((r) => [r.type, r.envelope.data])).toEqual([
      ['staff.closure-added.v1', { closure }],
      ['staff.closure-removed.v1', { closure }],
    ]);
  });

  it('when the event cannot be written, neither time off nor a closure is stored (500)', async () => {
    const s = await onboard(svc, t.writer);
    await poison(s.id);
    await poison('2026-11-01');
    const before = await counts(svc);
    const off = await svc.request('POST', `${STAFF}/${s.id}/time-off`, {
      token: t.writer,
      body: { start: '2026-07-06T07:00:00Z', end: '2026-07-06T16:00:00Z' },
    });
    expectProblem(off, 500);
    const closed = await svc.request('POST', CLOSURES, {
      token: t.writer,
      body: { date: '2026-11-01', name: 'Allerheiligen' },
    });
    expectProblem(closed, 500);
    expect(await counts(svc)).toEqual(before);
  });

  it('when the removal event cannot be written, the time off and the closure stay', async () => {
    const s = await onboard(svc, t.writer);
    const off = await svc.request<TimeOff>('POST', `${STAFF}/${s.id}/time-off`, {
      token: t.writer,
      body: { start: '2026-08-03T07:00:00Z', end: '2026-08-03T16:00:00Z' },
    });
    expect(off.status).toBe(201);
    expect(
      (
        await svc.request('POST', CLOSURES, {
          token: t.writer,
          body: { date: '2026-12-31', name: 'Silvester' },
        })
      ).status,
    ).toBe(201);
    await poison(s.id);
    await poison('2026-12-31');
    const before = await counts(svc);
    expectProblem(
      await svc.request('DELETE', `${STAFF}/${s.id}/time-off/${off.body.id}`, { token: t.writer }),
      500,
    );
    expectProblem(await svc.request('DELETE', `${CLOSURES}/2026-12-31`, { token: t.writer }), 500);
    expect(await counts(svc)).toEqual(before);
  });
});

describe('concurrent updates with the same If-Match', () => {
  it('ten PATCHes racing on "v1": exactly one wins, the rest answer 412, one event', async () => {
    const s = await onboard(svc, t.writer);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        svc.request('PATCH', `${STAFF}/${s.id}`, {
          token: t.writer,
          body: { department: `Ward ${i}` },
          headers: { ...MERGE_PATCH, 'if-match': '"v1"' },
        }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, ...Array<number>(9).fill(412)]);
    expect(await storedRow(svc, s.id)).toMatchObject({ version: 2 });
    expect((await outboxOf(svc, s.id)).map((r) => r.type)).toEqual([
      'staff.onboarded.v1',
      'staff.updated.v1',
    ]);
  });
});
