import type { Closure, TimeOff } from '@hms/contracts';
import type { RunningService } from '@hms/testkit';
import { expectProblem, expectValidationErrors, readAllPages } from '@hms/testkit/vitest';
import { describe, expect, it } from 'vitest';
import { CLOSURES, STAFF, counts, onboard, useStaffService, type Tokens } from './helpers.js';

let svc: RunningService;
let t: Tokens;

useStaffService(
  (s, tokens) => {
    svc = s;
    t = tokens;
  },
  { env: { FACILITY_TIMEZONE: 'Europe/Berlin' } },
);

const UNKNOWN = '0190f3a0-0000-7000-8000-0000000000ff';

describe('time off: /api/v1/staff/:id/time-off', () => {
  it('records time off (201, Location), lists it in start order, deletes it (204)', async () => {
    const s = await onboard(svc, t.writer);
    const path = `${STAFF}/${s.id}/time-off`;
    const later = await svc.request<TimeOff>('POST', path, {
      token: t.writer,
      body: { start: '2026-08-10T07:00:00Z', end: '2026-08-21T17:00:00Z', reason: 'annual leave' },
    });
    expect(later.status).toBe(201);
    expect(later.body).toEqual({
      id: later.body.id,
      staffId: s.id,
      start: '2026-08-10T07:00:00.000Z',
      end: '2026-08-21T17:00:00.000Z',
      reason: 'annual leave',
      createdAt: later.body.createdAt,
    });
    expect(later.headers.get('location')).toBe(`${path}/${later.body.id}`);
    // an offset is accepted and answered in UTC
    const earlier = await svc.request<TimeOff>('POST', path, {
      token: t.writer,
      body: { start: '2026-03-02T09:00:00+01:00', end: '2026-03-02T13:00:00+01:00' },
    });
    expect(earlier.status).toBe(201);
    expect(earlier.body).toMatchObject({
      start: '2026-03-02T08:00:00.000Z',
      end: '2026-03-02T12:00:00.000Z',
    });
    expect(earlier.body).not.toHaveProperty('reason');

    const all = await readAllPages<TimeOff>(svc, path, t.reader, { limit: 1 });
    expect(all.items.map((x) => x.id)).toEqual([earlier.body.id, later.body.id]);
    const inAugust = await readAllPages<TimeOff>(svc, path, t.reader, {
      from: '2026-08-01T00:00:00Z',
      to: '2026-09-01T00:00:00Z',
    });
    expect(inAugust.items.map((x) => x.id)).toEqual([later.body.id]);

    const del = await svc.request('DELETE', `${path}/${earlier.body.id}`, { token: t.writer });
    expect(del.status).toBe(204);
    const again = await svc.request('DELETE', `${path}/${earlier.body.id}`, { token: t.writer });
    expect(expectProblem(again, 404).code).toBe('time_off_not_found');
    expect((await readAllPages<TimeOff>(svc, path, t.reader)).items.map((x) => x.id)).toEqual([
      later.body.id,
    ]);
  });

  it.each([
    ['an end before the start', '2026-05-02T10:00:00Z', '2026-05-02T09:00:00Z'],
    ['an end equal to the start', '2026-05-02T10:00:00Z', '2026-05-02T10:00:00Z'],
  ])('refuses %s with 400 naming /body/end, and stores nothing', async (_what, start, end) => {
    const s = await onboard(svc, t.writer);
    const before = await counts(svc);
    const res = await svc.request('POST', `${STAFF}/${s.id}/time-off`, {
      token: t.writer,
      body: { start, end },
    });
    expect(expectValidationErrors(res)).toEqual([{ path: '/body/end', message: 'must be after start' }]);
    expect(await counts(svc)).toEqual(before);
  });

  it('names a start that is not an RFC 3339 instant', async () => {
    const s = await onboard(svc, t.writer);
    const res = await svc.request('POST', `${STAFF}/${s.id}/time-off`, {
      token: t.writer,
      body: { start: '2026-05-02 10:00', end: '2026-05-02T11:00:00Z' },
    });
    expect(expectValidationErrors(res).map((e) => e.path)).toEqual(['/body/start']);
  });

  it('answers 404 staff_not_found for time off of an unknown staff member', async () => {
    const body = { start: '2026-05-02T09:00:00Z', end: '2026-05-02T10:00:00Z' };
    const post = await svc.request('POST', `${STAFF}/${UNKNOWN}/time-off`, { token: t.writer, body });
    expect(expectProblem(post, 404).code).toBe('staff_not_found');
    const list = await svc.request('GET', `${STAFF}/${UNKNOWN}/time-off`, { token: t.reader });
    expect(expectProblem(list, 404).code).toBe('staff_not_found');
  });

  it('time off of one staff member cannot be deleted through another', async () => {
    const a = await onboard(svc, t.writer);
    const b = await onboard(svc, t.writer);
    const off = await svc.request<TimeOff>('POST', `${STAFF}/${a.id}/time-off`, {
      token: t.writer,
      body: { start: '2026-06-01T08:00:00Z', end: '2026-06-01T12:00:00Z' },
    });
    const res = await svc.request('DELETE', `${STAFF}/${b.id}/time-off/${off.body.id}`, { token: t.writer });
    expect(expectProblem(res, 404).code).toBe('time_off_not_found');
    expect((await readAllPages<TimeOff>(svc, `${STAFF}/${a.id}/time-off`, t.reader)).items).toHaveLength(1);
  });
});

describe('facility closures: /api/v1/staff/closures (static segment before /:id)', () => {
  it('closes the facility on a date in its own time zone, lists closures in date order, reopens (204)', async () => {
    const boxing = await svc.request<Closure>('POST', CLOSURES, {
      token: t.writer,
      body: { date: '2026-12-26', name: 'Zweiter Weihnachtstag' },
    });
    expect(boxing.status).toBe(201);
    expect(boxing.headers.get('location')).toBe(`${CLOSURES}/2026-12-26`);
    expect(boxing.body).toEqual({
      id: boxing.body.id,
      date: '2026-12-26',
      name: 'Zweiter Weihnachtstag',
      timezone: 'Europe/Berlin',
      createdAt: boxing.body.createdAt,
    });
    const christmas = await svc.request<Closure>('POST', CLOSURES, {
      token: t.writer,
      body: { date: '2026-12-25', name: 'Erster Weihnachtstag' },
    });
    expect(christmas.status).toBe(201);
    // each closure has an id of its own (UUIDv7, version nibble 7)
    expect(boxing.body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(christmas.body.id).not.toBe(boxing.body.id);

    const all = await readAllPages<Closure>(svc, CLOSURES, t.reader, { limit: 1 });
    expect(all.items.map((c) => c.date)).toEqual(['2026-12-25', '2026-12-26']);
    const one = await readAllPages<Closure>(svc, CLOSURES, t.reader, {
      from: '2026-12-26',
      to: '2026-12-31',
    });
    expect(one.items.map((c) => c.date)).toEqual(['2026-12-26']);

    expect((await svc.request('DELETE', `${CLOSURES}/2026-12-25`, { token: t.writer })).status).toBe(204);
    const again = await svc.request('DELETE', `${CLOSURES}/2026-12-25`, { token: t.writer });
    expect(expectProblem(again, 404).code).toBe('closure_not_found');
  });

  it('refuses a second closure on the same date with 409 closure_exists, keeping the first name', async () => {
    await svc.request('POST', CLOSURES, {
      token: t.writer,
      body: { date: '2027-05-01', name: 'Tag der Arbeit' },
    });
    const res = await svc.request('POST', CLOSURES, {
      token: t.writer,
      body: { date: '2027-05-01', name: 'Other' },
    });
    const problem = expectProblem(res, 409);
    expect(problem.code).toBe('closure_exists');
    expect(problem.date).toBe('2027-05-01');
    const listed = await readAllPages<Closure>(svc, CLOSURES, t.reader, {
      from: '2027-05-01',
      to: '2027-05-01',
    });
    expect(listed.items.map((c) => c.name)).toEqual(['Tag der Arbeit']);
  });

  it('names an impossible date and a blank name', async () => {
    const bad = await svc.request('POST', CLOSURES, {
      token: t.writer,
      body: { date: '2027-02-29', name: 'x' },
    });
    expect(expectValidationErrors(bad).map((e) => e.path)).toEqual(['/body/date']);
    const blank = await svc.request('POST', CLOSURES, {
      token: t.writer,
      body: { date: '2027-03-01', name: '  ' },
    });
    expect(expectValidationErrors(blank)).toEqual([{ path: '/body/name', message: 'must not be blank' }]);
    const badParam = await svc.request('DELETE', `${CLOSURES}/tomorrow`, { token: t.writer });
    expect(expectValidationErrors(badParam).map((e) => e.path)).toEqual(['/params/date']);
  });
});
