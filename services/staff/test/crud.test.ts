import { assertValidEvent, type Staff } from '@hms/contracts';
import type { RunningService } from '@hms/testkit';
import { expectProblem, readAllPages } from '@hms/testkit/vitest';
import { describe, expect, it } from 'vitest';
import {
  MERGE_PATCH,
  STAFF,
  counts,
  newStaff,
  onboard,
  outboxOf,
  putBodyOf,
  storedRow,
  useStaffService,
  type Tokens,
} from './helpers.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** The fixed time the service's clock answers, so timestamps are the test's, not the machine's. */
const NOW = new Date('2026-03-29T00:30:00.000Z');

let svc: RunningService;
let t: Tokens;

useStaffService(
  (s, tokens) => {
    svc = s;
    t = tokens;
  },
  { clock: { now: () => NOW } },
);

const get = (id: string, token = t.reader) => svc.request<Staff>('GET', `${STAFF}/${id}`, { token });

describe('POST /api/v1/staff', () => {
  it('onboards a staff member: 201 with the full record, Location, ETag, and the clock’s time', async () => {
    const input = newStaff();
    const res = await svc.request<Staff>('POST', STAFF, { token: t.writer, body: input });
    expect(res.status).toBe(201);
    expect(res.body.id).toMatch(UUID_V7);
    expect(res.headers.get('location')).toBe(`${STAFF}/${res.body.id}`);
    expect(res.headers.get('etag')).toBe('"v1"');
    expect(res.body).toEqual({
      ...input,
      id: res.body.id,
      active: true,
      version: 1,
      createdAt: '2026-03-29T00:30:00.000Z',
      updatedAt: '2026-03-29T00:30:00.000Z',
    });
    expect((await get(res.body.id)).body).toEqual(res.body);
  });

  it('fills the defaults: no specialties, no hours, no overrides, active', async () => {
    const input = {
      givenName: 'Min',
      familyName: 'Imal',
      role: 'nurse' as const,
      department: 'Ward 3',
      timezone: 'UTC',
    };
    const s = await onboard(svc, t.writer, input);
    expect(s).toMatchObject({ ...input, specialties: [], weeklyHours: [], overrides: [], active: true });
    expect(s).not.toHaveProperty('email');
  });

  it('publishes staff.onboarded.v1 with the full record, schedule and version, in the same transaction', async () => {
    const s = await onboard(svc, t.writer);
    const rows = await outboxOf(svc, s.id);
    expect(rows.map((r) => r.type)).toEqual(['staff.onboarded.v1']);
    const envelope = rows[0]?.envelope;
    expect(() => {
      assertValidEvent(envelope);
    }).not.toThrow();
    expect(envelope?.source).toBe('/hms/staff');
    expect(envelope?.data).toEqual({ staff: s });
    expect((envelope?.data.staff as Staff).weeklyHours).toEqual([
      { day: 'mon', start: '09:00', end: '17:00' },
      { day: 'tue', start: '21:00', end: '03:00' },
    ]);
  });

  it('replays the first answer for the same Idempotency-Key: same id, one row, one event', async () => {
    const input = newStaff();
    const send = () =>
      svc.request<Staff>('POST', STAFF, {
        token: t.writer,
        body: input,
        headers: { 'idempotency-key': `onboard-${input.familyName}` },
      });
    const first = await send();
    const before = await counts(svc);
    const second = await send();
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('location')).toBe(first.headers.get('location'));
    expect(await counts(svc)).toEqual(before);
    expect(await outboxOf(svc, first.body.id)).toHaveLength(1);
  });
});

describe('GET /api/v1/staff/:id', () => {
  it('answers 404 staff_not_found for an unknown id', async () => {
    const problem = expectProblem(await get('0190f3a0-0000-7000-8000-000000000000'), 404);
    expect(problem.code).toBe('staff_not_found');
  });

  it('answers 400 naming /params/id for an id that is not a uuid', async () => {
    const problem = expectProblem(await get('not-a-uuid'), 400);
    expect(problem.errors?.map((e) => e.path)).toEqual(['/params/id']);
  });
});

describe('PUT /api/v1/staff/:id', () => {
  it('answers 428 without If-Match and changes nothing', async () => {
    const s = await onboard(svc, t.writer);
    const res = await svc.request('PUT', `${STAFF}/${s.id}`, {
      token: t.writer,
      body: { ...putBodyOf(s), department: 'Oncology' },
    });
    expect(expectProblem(res, 428).code).toBe('precondition_required');
    expect(await storedRow(svc, s.id)).toMatchObject({ version: 1 });
  });

  it('answers 412 with a stale If-Match and changes nothing', async () => {
    const s = await onboard(svc, t.writer);
    const res = await svc.request('PUT', `${STAFF}/${s.id}`, {
      token: t.writer,
      body: { ...putBodyOf(s), department: 'Oncology' },
      headers: { 'if-match': '"v7"' },
    });
    const problem = expectProblem(res, 412);
    expect(problem.code).toBe('precondition_failed');
    expect(problem.currentETag).toBe('"v1"');
    expect(await storedRow(svc, s.id)).toMatchObject({ version: 1 });
    expect(await outboxOf(svc, s.id)).toHaveLength(1);
  });

  it('replaces the record with the current If-Match: version 2, staff.updated.v1 naming the changed fields', async () => {
    const s = await onboard(svc, t.writer);
    const body = {
      ...putBodyOf(s),
      department: 'Oncology',
      timezone: 'America/New_York',
      weeklyHours: [{ day: 'fri' as const, start: '22:00', end: '06:00' }],
    };
    delete body.licenseNumber;
    const res = await svc.request<Staff>('PUT', `${STAFF}/${s.id}`, {
      token: t.writer,
      body,
      headers: { 'if-match': '"v1"' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"v2"');
    expect(res.body).toMatchObject({ department: 'Oncology', version: 2, timezone: 'America/New_York' });
    expect(res.body).not.toHaveProperty('licenseNumber');
    const events = await outboxOf(svc, s.id);
    expect(events.map((e) => e.type)).toEqual(['staff.onboarded.v1', 'staff.updated.v1']);
    expect(events[1]?.envelope.data).toEqual({
      staff: res.body,
      changedFields: ['department', 'licenseNumber', 'timezone', 'weeklyHours'],
    });
  });

  it('a PUT of the same record changes nothing: no new version, no event', async () => {
    const s = await onboard(svc, t.writer);
    const res = await svc.request<Staff>('PUT', `${STAFF}/${s.id}`, {
      token: t.writer,
      body: putBodyOf(s),
      headers: { 'if-match': '"v1"' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(s);
    expect(await outboxOf(svc, s.id)).toHaveLength(1);
  });
});

describe('PATCH /api/v1/staff/:id', () => {
  it('changes only the fields sent; null clears an optional field; If-Match is optional', async () => {
    const s = await onboard(svc, t.writer);
    const res = await svc.request<Staff>('PATCH', `${STAFF}/${s.id}`, {
      token: t.writer,
      body: { email: null, specialties: ['cardiology'] },
      headers: MERGE_PATCH,
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      ...s,
      email: undefined,
      specialties: ['cardiology'],
      version: 2,
      updatedAt: res.body.updatedAt,
    });
    expect(res.body).not.toHaveProperty('email');
    const events = await outboxOf(svc, s.id);
    expect(events[1]?.envelope.data.changedFields).toEqual(['specialties', 'email']);
  });

  it('answers 412 with a stale If-Match', async () => {
    const s = await onboard(svc, t.writer);
    const res = await svc.request('PATCH', `${STAFF}/${s.id}`, {
      token: t.writer,
      body: { department: 'Oncology' },
      headers: { ...MERGE_PATCH, 'if-match': '"v2"' },
    });
    expectProblem(res, 412);
    expect(await storedRow(svc, s.id)).toMatchObject({ version: 1 });
  });

  it('answers 404 for an unknown staff member', async () => {
    const res = await svc.request('PATCH', `${STAFF}/0190f3a0-0000-7000-8000-000000000001`, {
      token: t.writer,
      body: { department: 'Oncology' },
      headers: MERGE_PATCH,
    });
    expect(expectProblem(res, 404).code).toBe('staff_not_found');
  });
});

describe('DELETE /api/v1/staff/:id', () => {
  it('deactivates: 204, the record is kept inactive, staff.updated.v1 names active', async () => {
    const s = await onboard(svc, t.writer);
    const res = await svc.request('DELETE', `${STAFF}/${s.id}`, { token: t.writer });
    expect(res.status).toBe(204);
    expect(res.headers.get('etag')).toBe('"v2"');
    const after = (await get(s.id)).body;
    expect(after).toMatchObject({ active: false, version: 2 });
    const events = await outboxOf(svc, s.id);
    expect(events.map((e) => e.type)).toEqual(['staff.onboarded.v1', 'staff.updated.v1']);
    expect(events[1]?.envelope.data).toEqual({ staff: after, changedFields: ['active'] });
  });

  it('deactivating twice changes nothing the second time', async () => {
    const s = await onboard(svc, t.writer);
    await svc.request('DELETE', `${STAFF}/${s.id}`, { token: t.writer });
    const res = await svc.request('DELETE', `${STAFF}/${s.id}`, { token: t.writer });
    expect(res.status).toBe(204);
    expect(await storedRow(svc, s.id)).toMatchObject({ version: 2, active: false });
    expect(await outboxOf(svc, s.id)).toHaveLength(2);
  });

  it('answers 412 with a stale If-Match and stays active', async () => {
    const s = await onboard(svc, t.writer);
    const res = await svc.request('DELETE', `${STAFF}/${s.id}`, {
      token: t.writer,
      headers: { 'if-match': '"v9"' },
    });
    expectProblem(res, 412);
    expect(await storedRow(svc, s.id)).toMatchObject({ version: 1, active: true });
  });
});

describe('GET /api/v1/staff: filters and keyset paging', () => {
  it('filters by department, role, specialty and active, across pages', async () => {
    const department = `Dept-${Date.now().toString(36)}`;
    const made: Staff[] = [];
    for (let i = 0; i < 7; i++)
      made.push(
        await onboard(
          svc,
          t.writer,
          newStaff({
            department,
            role: i % 2 === 0 ? 'physician' : 'nurse',
            specialties: i < 3 ? ['neurology'] : ['oncology'],
          }),
        ),
      );
    const retired = made[6];
    if (!retired) throw new Error('unreachable');
    await svc.request('DELETE', `${STAFF}/${retired.id}`, { token: t.writer });

    const ids = async (params: Record<string, string | number>) =>
      (await readAllPages<Staff>(svc, STAFF, t.reader, { department, limit: 2, ...params })).items.map(
        (s) => s.id,
      );
    const idsOf = (indexes: number[]) => indexes.map((i) => made[i]?.id);

    expect(await ids({})).toEqual(idsOf([0, 1, 2, 3, 4, 5, 6]));
    expect(await ids({ role: 'physician' })).toEqual(idsOf([0, 2, 4, 6]));
    expect(await ids({ specialty: 'neurology' })).toEqual(idsOf([0, 1, 2]));
    expect(await ids({ active: 'true' })).toEqual(idsOf([0, 1, 2, 3, 4, 5]));
    expect(await ids({ active: 'false' })).toEqual(idsOf([6]));
    expect(await ids({ role: 'nurse', specialty: 'oncology' })).toEqual(idsOf([3, 5]));
    expect(await ids({ department: 'nowhere' })).toEqual([]);
  });

  it('answers 400 for a role it does not know and for a cursor it did not issue', async () => {
    expectProblem(await svc.request('GET', `${STAFF}?role=wizard`, { token: t.reader }), 400);
    const res = await svc.request('GET', `${STAFF}?cursor=bm9wZQ`, { token: t.reader });
    expect(expectProblem(res, 400).errors).toEqual([
      { path: '/querystring/cursor', message: 'is not a cursor this list issued' },
    ]);
  });
});
