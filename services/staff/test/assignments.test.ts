import type {
  AccessRecord,
  Appointment,
  Assignment,
  EventEnvelope,
  Staff,
  StaffAvailability,
} from '@hms/contracts';
import type { Page, RunningService } from '@hms/testkit';
import { expectProblem, expectValidationErrors, readAllPages } from '@hms/testkit/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CANCELLED,
  CREATED,
  MERGE_PATCH,
  STAFF,
  appointmentEnvelope,
  appointmentOf,
  consumed,
  feed,
  newStaff,
  onboard,
  putBodyOf,
  storedRow,
  useStaffService,
  type AppointmentEvent,
  type Tokens,
} from './helpers.js';

/**
 * Staff's copy of assignments, kept from the Appointment service's events (issue #11): applied
 * once and never moved back by an older version, listed by staff member, holding a staff member
 * active while they have appointments to come, and taken out of their availability with the
 * buffers around them. Events are published on the bus the service consumes, as Appointment's
 * outbox relay would. Every expected instant is written by hand in UTC.
 */

/** The service's clock: Saturday 2027-03-20, 12:00 UTC. */
const NOW = new Date('2027-03-20T12:00:00.000Z');
const UNKNOWN = '0190f3a0-0000-7000-8000-0000000000ff';

let svc: RunningService;
let t: Tokens;
const accessEvents: EventEnvelope[] = [];

useStaffService(
  async (s, tokens) => {
    svc = s;
    t = tokens;
    // what the audit service would receive: the access records the kit emits
    await svc.bus.subscribe({
      consumer: 'audit-probe',
      types: ['access.recorded.v1'],
      handler: async (envelope) => void accessEvents.push(envelope),
    });
  },
  { clock: { now: () => NOW } },
);

const assignmentsOf = (id: string, query: string, token = t.reader) =>
  svc.request<Page<Assignment>>('GET', `${STAFF}/${id}/assignments?${query}`, { token });

/** The assignments the API lists for a staff member over March and April 2027's first days. */
const listed = async (id: string) => {
  const res = await assignmentsOf(id, 'from=2027-03-20T00:00:00Z&to=2027-04-15T00:00:00Z&limit=100');
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.items;
};

describe('the assignments copy, from appointment events', () => {
  it('applies each event once and keeps the newest version whatever the order', async () => {
    const s = await onboard(svc, t.writer);
    const v1 = appointmentOf(s.id, { start: '2027-03-29T09:00:00.000Z', end: '2027-03-29T09:30:00.000Z' });
    const v2 = {
      ...v1,
      start: '2027-03-30T14:00:00.000Z',
      end: '2027-03-30T14:30:00.000Z',
      version: 2,
      updatedAt: '2027-03-02T08:00:00.000Z',
    };
    await feed(svc, [v1, CREATED]);
    expect(await listed(s.id)).toEqual([
      {
        appointmentId: v1.id,
        staffId: s.id,
        patientId: v1.patientId,
        type: 'consult-30',
        start: '2027-03-29T09:00:00.000Z',
        end: '2027-03-29T09:30:00.000Z',
        status: 'scheduled',
        version: 1,
      },
    ]);

    const rescheduled = appointmentEnvelope(v2, {
      type: 'appointment.updated.v1',
      change: 'rescheduled',
      previousStart: v1.start,
      previousEnd: v1.end,
    });
    // the same event delivered twice, then the creation again (an older version) after it
    await svc.bus.publish([rescheduled]);
    await consumed(svc, [rescheduled.id]);
    await svc.bus.publish([rescheduled]);
    await feed(svc, [v1, CREATED]);
    const expected = {
      appointmentId: v1.id,
      staffId: s.id,
      patientId: v1.patientId,
      type: 'consult-30',
      start: '2027-03-30T14:00:00.000Z',
      end: '2027-03-30T14:30:00.000Z',
      status: 'scheduled',
      version: 2,
    };
    expect(await listed(s.id)).toEqual([expected]);
    const { rows } = await svc.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM inbox WHERE event_id = $1',
      [rescheduled.id],
    );
    expect(rows[0]?.n).toBe(1);
  });

  it('a v2 that arrives before its v1 stays: the late v1 changes nothing', async () => {
    const s = await onboard(svc, t.writer);
    const v1 = appointmentOf(s.id, {
      start: '2027-03-31T08:00:00.000Z',
      end: '2027-03-31T08:45:00.000Z',
      seriesId: '0190f3a0-0000-7000-8000-00000000a001',
    });
    const v2 = { ...v1, status: 'checked-in' as const, version: 2 };
    await feed(svc, [v2, { type: 'appointment.updated.v1', change: 'checked-in' }]);
    await feed(svc, [v1, CREATED]);
    expect(await listed(s.id)).toEqual([
      {
        appointmentId: v1.id,
        staffId: s.id,
        patientId: v1.patientId,
        type: 'consult-30',
        start: '2027-03-31T08:00:00.000Z',
        end: '2027-03-31T08:45:00.000Z',
        status: 'checked-in',
        seriesId: '0190f3a0-0000-7000-8000-00000000a001',
        version: 2,
      },
    ]);
  });

  it('a cancellation with a higher version is kept as the state, and a stale one after it is not', async () => {
    const s = await onboard(svc, t.writer);
    const booked = appointmentOf(s.id, {
      start: '2027-04-01T10:00:00.000Z',
      end: '2027-04-01T10:30:00.000Z',
    });
    const cancelled = { ...booked, status: 'cancelled' as const, version: 3 };
    const checkedIn = { ...booked, status: 'checked-in' as const, version: 2 };
    await feed(svc, [booked, CREATED], [cancelled, CANCELLED]);
    await feed(svc, [checkedIn, { type: 'appointment.updated.v1', change: 'checked-in' }]);
    expect((await listed(s.id)).map((a) => [a.status, a.version])).toEqual([['cancelled', 3]]);
  });
});

describe('GET /api/v1/staff/:id/assignments', () => {
  let s: Staff;
  let other: Staff;
  /** by name: the appointments of `s` */
  const a = {} as Record<'before' | 'across' | 'first' | 'cancelled' | 'later' | 'after', Appointment>;

  beforeAll(async () => {
    s = await onboard(svc, t.writer);
    other = await onboard(svc, t.writer);
    const at = (start: string, end: string, fields = {}) => appointmentOf(s.id, { start, end, ...fields });
    // ends exactly at `from`: outside the half-open range
    a.before = at('2027-03-28T23:00:00.000Z', '2027-03-29T00:00:00.000Z');
    // starts before `from`, ends after it: inside
    a.across = at('2027-03-28T23:45:00.000Z', '2027-03-29T00:15:00.000Z');
    a.first = at('2027-03-29T09:00:00.000Z', '2027-03-29T09:30:00.000Z');
    a.cancelled = at('2027-03-29T10:00:00.000Z', '2027-03-29T10:30:00.000Z', { status: 'cancelled' });
    a.later = at('2027-04-02T13:00:00.000Z', '2027-04-02T13:20:00.000Z', { type: 'checkup-20' });
    // starts exactly at `to`: outside
    a.after = at('2027-04-05T00:00:00.000Z', '2027-04-05T00:30:00.000Z');
    const elsewhere = appointmentOf(other.id, {
      start: '2027-03-30T09:00:00.000Z',
      end: '2027-03-30T09:30:00.000Z',
    });
    // published out of start order: the list orders them itself
    await feed(
      svc,
      ...[a.later, a.after, a.first, a.before, a.across, a.cancelled, elsewhere].map(
        (x): [Appointment, AppointmentEvent] => [x, x.status === 'cancelled' ? CANCELLED : CREATED],
      ),
    );
  });

  const RANGE = { from: '2027-03-29T00:00:00Z', to: '2027-04-05T00:00:00Z' };

  it('lists the appointments overlapping [from, to) in start order, paged on [start, id]', async () => {
    const all = await readAllPages<Assignment>(svc, `${STAFF}/${s.id}/assignments`, t.reader, {
      ...RANGE,
      limit: 2,
    });
    expect(all.pages).toBe(2);
    expect(all.items.map((x) => x.appointmentId)).toEqual([
      a.across.id,
      a.first.id,
      a.cancelled.id,
      a.later.id,
    ]);
    expect(all.items[3]).toEqual({
      appointmentId: a.later.id,
      staffId: s.id,
      patientId: a.later.patientId,
      type: 'checkup-20',
      start: '2027-04-02T13:00:00.000Z',
      end: '2027-04-02T13:20:00.000Z',
      status: 'scheduled',
      version: 1,
    });
  });

  it('keeps only one status when asked', async () => {
    const scheduled = await readAllPages<Assignment>(svc, `${STAFF}/${s.id}/assignments`, t.reader, {
      ...RANGE,
      status: 'scheduled',
      limit: 1,
    });
    expect(scheduled.items.map((x) => x.appointmentId)).toEqual([a.across.id, a.first.id, a.later.id]);
    const cancelled = await readAllPages<Assignment>(svc, `${STAFF}/${s.id}/assignments`, t.reader, {
      ...RANGE,
      status: 'cancelled',
    });
    expect(cancelled.items.map((x) => x.appointmentId)).toEqual([a.cancelled.id]);
  });

  it('refuses a range that ends before it starts or spans more than 31 days, naming /querystring/to', async () => {
    const backwards = await assignmentsOf(s.id, `from=${RANGE.to}&to=${RANGE.from}`);
    expect(expectValidationErrors(backwards)).toEqual([
      { path: '/querystring/to', message: 'must be after from' },
    ]);
    const empty = await assignmentsOf(s.id, `from=${RANGE.from}&to=${RANGE.from}`);
    expect(expectValidationErrors(empty).map((e) => e.path)).toEqual(['/querystring/to']);
    const long = await assignmentsOf(s.id, 'from=2027-03-01T00:00:00Z&to=2027-04-01T00:00:01Z');
    expect(expectValidationErrors(long)).toEqual([
      { path: '/querystring/to', message: 'must be at most 31 days after from' },
    ]);
    // exactly 31 days is allowed
    expect((await assignmentsOf(s.id, 'from=2027-03-01T00:00:00Z&to=2027-04-01T00:00:00Z')).status).toBe(200);
  });

  it('requires from and to as RFC 3339 instants, a known status and its own cursor', async () => {
    const missing = await assignmentsOf(s.id, `from=${RANGE.from}`);
    expect(expectValidationErrors(missing).map((e) => e.path)).toContain('/querystring/to');
    const malformed = await assignmentsOf(s.id, `from=yesterday&to=${RANGE.to}`);
    expect(expectValidationErrors(malformed).map((e) => e.path)).toContain('/querystring/from');
    const status = await assignmentsOf(s.id, `from=${RANGE.from}&to=${RANGE.to}&status=booked`);
    expect(expectValidationErrors(status).map((e) => e.path)).toContain('/querystring/status');
    const cursor = await assignmentsOf(s.id, `from=${RANGE.from}&to=${RANGE.to}&cursor=WyJ4Il0`);
    expect(expectValidationErrors(cursor).map((e) => e.path)).toEqual(['/querystring/cursor']);
  });

  it('answers 404 staff_not_found for an unknown staff member', async () => {
    const res = await assignmentsOf(UNKNOWN, `from=${RANGE.from}&to=${RANGE.to}`);
    expect(expectProblem(res, 404).code).toBe('staff_not_found');
  });

  it('records who read which appointments of which patients (access.recorded.v1), ids only', async () => {
    const sub = '0190d6f2-5b1c-7c3e-9a4b-00000000bbbb';
    const token = await svc.keys.mint({ roles: ['physician'], sub });
    const res = await assignmentsOf(s.id, `from=${RANGE.from}&to=${RANGE.to}&status=scheduled`, token);
    expect(res.status).toBe(200);
    const records = () =>
      accessEvents
        .flatMap((e) => (e.data as { records: AccessRecord[] }).records)
        .filter((r) => r.actor.id === sub);
    await expect.poll(() => records().length, { timeout: 10_000 }).toBe(1);
    const [record] = records();
    expect(record).toMatchObject({
      service: 'staff',
      action: 'search',
      method: 'GET',
      route: '/api/v1/staff/:id/assignments',
      resource: { type: 'staff-assignments', ids: [a.across.id, a.first.id, a.later.id] },
      status: 200,
      actor: { kind: 'user', id: sub },
    });
    expect([...(record?.patientIds ?? [])].sort()).toEqual(
      [a.across.patientId, a.first.patientId, a.later.patientId].sort(),
    );
    // no query string in what was emitted
    expect(JSON.stringify(accessEvents)).not.toContain('status=');
  });
});

describe('deactivation while appointments are to come', () => {
  it('DELETE is refused with 409 naming the active appointments to come, and succeeds once they are cancelled', async () => {
    const s = await onboard(svc, t.writer);
    // under way at NOW (checked in 11:50–12:20Z), to come, already over, and cancelled
    const underWay = appointmentOf(s.id, {
      start: '2027-03-20T11:50:00.000Z',
      end: '2027-03-20T12:20:00.000Z',
      status: 'checked-in',
    });
    const toCome = appointmentOf(s.id, {
      start: '2027-03-22T09:00:00.000Z',
      end: '2027-03-22T09:30:00.000Z',
    });
    const over = appointmentOf(s.id, { start: '2027-03-19T09:00:00.000Z', end: '2027-03-19T09:30:00.000Z' });
    const dropped = appointmentOf(s.id, {
      start: '2027-03-23T09:00:00.000Z',
      end: '2027-03-23T09:30:00.000Z',
      status: 'cancelled',
    });
    await feed(svc, [toCome, CREATED], [underWay, CREATED], [over, CREATED], [dropped, CANCELLED]);

    const refused = await svc.request('DELETE', `${STAFF}/${s.id}`, { token: t.writer });
    const problem = expectProblem(refused, 409);
    expect(problem.code).toBe('staff_has_appointments');
    expect(problem.appointmentIds).toEqual([underWay.id, toCome.id]);
    expect(problem.count).toBe(2);
    expect(await storedRow(svc, s.id)).toMatchObject({ version: 1, active: true });

    // the one under way completes, the one to come is cancelled: nothing holds the staff member
    await feed(
      svc,
      [
        { ...underWay, status: 'completed', version: 2 },
        { type: 'appointment.updated.v1', change: 'completed' },
      ],
      [{ ...toCome, status: 'cancelled', version: 2 }, CANCELLED],
    );
    expect((await svc.request('DELETE', `${STAFF}/${s.id}`, { token: t.writer })).status).toBe(204);
    expect(await storedRow(svc, s.id)).toMatchObject({ version: 2, active: false });
  });

  it('PATCH and PUT setting active to false are refused the same way; other changes pass', async () => {
    const s = await onboard(svc, t.writer);
    const toCome = appointmentOf(s.id, {
      start: '2027-04-12T09:00:00.000Z',
      end: '2027-04-12T09:30:00.000Z',
    });
    await feed(svc, [toCome, CREATED]);

    const patch = await svc.request('PATCH', `${STAFF}/${s.id}`, {
      token: t.writer,
      body: { active: false },
      headers: MERGE_PATCH,
    });
    const patched = expectProblem(patch, 409);
    expect(patched.code).toBe('staff_has_appointments');
    expect(patched.appointmentIds).toEqual([toCome.id]);
    expect(patched.count).toBe(1);

    const put = await svc.request('PUT', `${STAFF}/${s.id}`, {
      token: t.writer,
      body: { ...putBodyOf(s), active: false },
      headers: { 'if-match': '"v1"' },
    });
    expect(expectProblem(put, 409).appointmentIds).toEqual([toCome.id]);
    expect(await storedRow(svc, s.id)).toMatchObject({ version: 1, active: true });

    const renamed = await svc.request<Staff>('PATCH', `${STAFF}/${s.id}`, {
      token: t.writer,
      body: { department: 'Oncology' },
      headers: MERGE_PATCH,
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ department: 'Oncology', active: true, version: 2 });
  });

  it('names at most 20 appointments, the first in start order, and counts them all', async () => {
    const s = await onboard(svc, t.writer);
    // 22 daily appointments at 09:00Z from 2027-03-21, published last day first
    const days = Array.from({ length: 22 }, (_, i) => {
      const day = new Date(Date.UTC(2027, 2, 21 + i, 9)).toISOString();
      const end = new Date(Date.UTC(2027, 2, 21 + i, 9, 30)).toISOString();
      return appointmentOf(s.id, { start: day, end });
    });
    expect(days[0]?.start).toBe('2027-03-21T09:00:00.000Z');
    expect(days[21]?.start).toBe('2027-04-11T09:00:00.000Z');
    await feed(svc, ...[...days].reverse().map((x): [Appointment, AppointmentEvent] => [x, CREATED]));
    const problem = expectProblem(await svc.request('DELETE', `${STAFF}/${s.id}`, { token: t.writer }), 409);
    expect(problem.count).toBe(22);
    expect(problem.appointmentIds).toEqual(days.slice(0, 20).map((x) => x.id));
  });
});

describe('availability less booked appointments', () => {
  it('takes out active appointments with their buffers, and gives the time back when cancelled', async () => {
    const s = await onboard(
      svc,
      t.writer,
      newStaff({
        timezone: 'Europe/Berlin',
        weeklyHours: [{ day: 'mon', start: '09:00', end: '17:00' }],
        overrides: [],
      }),
    );
    // Monday 2027-03-29, Berlin on CEST (UTC+2): working 09:00–17:00 local is 07:00–15:00Z
    const morning = appointmentOf(s.id, {
      start: '2027-03-29T10:00:00.000Z',
      end: '2027-03-29T10:30:00.000Z',
      bufferBeforeMin: 10,
      bufferAfterMin: 15,
    });
    const lastOfDay = appointmentOf(s.id, {
      start: '2027-03-29T14:00:00.000Z',
      end: '2027-03-29T14:30:00.000Z',
      bufferAfterMin: 45,
    });
    const cancelled = appointmentOf(s.id, {
      start: '2027-03-29T12:00:00.000Z',
      end: '2027-03-29T13:00:00.000Z',
      status: 'cancelled',
    });
    await feed(svc, [morning, CREATED], [lastOfDay, CREATED], [cancelled, CANCELLED]);
    const free = () =>
      svc.request<StaffAvailability>(
        'GET',
        `${STAFF}/${s.id}/availability?from=2027-03-29T00:00:00Z&to=2027-03-30T00:00:00Z`,
        { token: t.reader },
      );
    const res = await free();
    expect(res.status).toBe(200);
    expect(res.body.intervals).toEqual([
      // busy 09:50–10:45Z (10 minutes before, 15 after); 14:00Z to the shift's end (45 after 14:30Z)
      { start: '2027-03-29T07:00:00.000Z', end: '2027-03-29T09:50:00.000Z' },
      { start: '2027-03-29T10:45:00.000Z', end: '2027-03-29T14:00:00.000Z' },
    ]);

    await feed(svc, [{ ...morning, status: 'cancelled', version: 2 }, CANCELLED]);
    expect((await free()).body.intervals).toEqual([
      { start: '2027-03-29T07:00:00.000Z', end: '2027-03-29T14:00:00.000Z' },
    ]);
  });

  it('a buffer reaching into the range from an appointment outside it still counts', async () => {
    const s = await onboard(
      svc,
      t.writer,
      newStaff({
        timezone: 'UTC',
        weeklyHours: [{ day: 'tue', start: '08:00', end: '12:00' }],
        overrides: [],
      }),
    );
    // ends at 09:00Z, before the range starts at 09:00Z; its 30-minute buffer runs to 09:30Z
    const early = appointmentOf(s.id, {
      start: '2027-03-30T08:30:00.000Z',
      end: '2027-03-30T09:00:00.000Z',
      bufferAfterMin: 30,
    });
    // starts at 11:20Z, after the range ends at 11:00Z; its 30-minute buffer begins inside it
    const late = appointmentOf(s.id, {
      start: '2027-03-30T11:20:00.000Z',
      end: '2027-03-30T11:40:00.000Z',
      bufferBeforeMin: 30,
    });
    await feed(svc, [early, CREATED], [late, CREATED]);
    const res = await svc.request<StaffAvailability>(
      'GET',
      `${STAFF}/${s.id}/availability?from=2027-03-30T09:00:00Z&to=2027-03-30T11:00:00Z`,
      { token: t.reader },
    );
    // late's buffer begins 10:50Z (30 minutes before 11:20Z)
    expect(res.body.intervals).toEqual([
      { start: '2027-03-30T09:30:00.000Z', end: '2027-03-30T10:50:00.000Z' },
    ]);
  });
});
