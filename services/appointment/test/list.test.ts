import type { Appointment } from '@hms/contracts';
import { qs, type Page } from '@hms/testkit';
import { expectValidationErrors, readAllPages } from '@hms/testkit/vitest';
import { beforeAll, describe, expect, test } from 'vitest';
import { APPOINTMENTS, booked, createType, onboard, register, useWorld } from './helpers.js';

/**
 * GET /appointments: filters by patient, staff member, status, series and time range (an
 * appointment is in [from, to) when it ends after `from` and starts before `to`), in (start, id)
 * order with keyset paging. The data is made once: two staff members, three patients.
 */
const world = useWorld();

const list = (params: Record<string, string | number | undefined>) =>
  world().appointment.request<Page<Appointment>>('GET', APPOINTMENTS + qs(params), {
    token: world().tokens.desk,
  });
const all = async (params: Record<string, string | number | undefined>, limit = 2) =>
  (
    await readAllPages<Appointment>(world().appointment, APPOINTMENTS, world().tokens.desk, {
      ...params,
      limit,
    })
  ).items;
const ids = (items: Appointment[]) => items.map((a) => a.id);

let staffA: string;
let staffB: string;
let p1: string;
let p2: string;
let p3: string;
/** by name: what each test expects, in the order it expects */
const a: Record<string, Appointment> = {};
let seriesId: string;

beforeAll(async () => {
  const w = world();
  [staffA, staffB] = [(await onboard(w)).id, (await onboard(w)).id];
  [p1, p2, p3] = [(await register(w)).id, (await register(w)).id, (await register(w)).id];
  const type = (await createType(w)).code; // 30 minutes
  // Monday 2027-03-01 (GMT = UTC) and Tuesday 2027-03-02
  a.a1 = await booked(w, { patientId: p1, staffId: staffA, type, start: '2027-03-01T10:00:00Z' });
  a.b1 = await booked(w, { patientId: p2, staffId: staffB, type, start: '2027-03-01T10:00:00Z' }); // same start
  a.a2 = await booked(w, { patientId: p2, staffId: staffA, type, start: '2027-03-01T11:00:00Z' });
  a.b2 = await booked(w, { patientId: p3, staffId: staffB, type, start: '2027-03-01T09:00:00Z' });
  a.a3 = await booked(w, { patientId: p3, staffId: staffA, type, start: '2027-03-02T09:30:00Z' });
  a.a4 = await booked(w, { patientId: p1, staffId: staffA, type, start: '2027-03-01T10:30:00Z' });
  const cancelled = await w.appointment.request('DELETE', `${APPOINTMENTS}/${a.a4.id}`, {
    token: w.tokens.desk,
  });
  expect(cancelled.status).toBe(204);
  a.a4 = { ...a.a4, status: 'cancelled' };
  const series = await w.appointment.request<{ seriesId: string; appointments: Appointment[] }>(
    'POST',
    APPOINTMENTS,
    {
      token: w.tokens.desk,
      body: {
        patientId: p1,
        staffId: staffB,
        type,
        start: '2027-03-02T11:00:00Z',
        recurrence: { frequency: 'weekly', count: 2 },
      },
    },
  );
  expect(series.status, JSON.stringify(series.body)).toBe(201);
  seriesId = series.body.seriesId;
  [a.s1, a.s2] = series.body.appointments as [Appointment, Appointment]; // 03-02 and 03-09 11:00Z
});

/** The two appointments at 10:00Z in id order: the list's tie-break. */
const atTen = () => [a.a1, a.b1].sort((x, y) => ((x?.id ?? '') < (y?.id ?? '') ? -1 : 1));

describe('filters', () => {
  test('by staff member, in start order, cancelled ones included', async () => {
    expect(ids(await all({ staffId: staffA }))).toEqual(ids([a.a1, a.a4, a.a2, a.a3] as Appointment[]));
    expect(ids(await all({ staffId: staffB }))).toEqual(ids([a.b2, a.b1, a.s1, a.s2] as Appointment[]));
  });

  test('by patient', async () => {
    expect(ids(await all({ patientId: p1 }))).toEqual(ids([a.a1, a.a4, a.s1, a.s2] as Appointment[]));
    expect(ids(await all({ patientId: p3 }))).toEqual(ids([a.b2, a.a3] as Appointment[]));
  });

  test('by status', async () => {
    expect(ids(await all({ staffId: staffA, status: 'cancelled' }))).toEqual([a.a4?.id]);
    expect(ids(await all({ staffId: staffA, status: 'scheduled' }))).toEqual(
      ids([a.a1, a.a2, a.a3] as Appointment[]),
    );
    const cancelled = await all({ status: 'cancelled' }, 50);
    expect(ids(cancelled)).toContain(a.a4?.id);
    expect(cancelled.every((x) => x.status === 'cancelled')).toBe(true);
  });

  test('by series', async () => {
    const items = await all({ seriesId });
    expect(ids(items)).toEqual(ids([a.s1, a.s2] as Appointment[]));
    expect(items.map((x) => x.start)).toEqual(['2027-03-02T11:00:00.000Z', '2027-03-09T11:00:00.000Z']);
  });

  test('filters combine', async () => {
    expect(ids(await all({ staffId: staffB, patientId: p1 }))).toEqual(ids([a.s1, a.s2] as Appointment[]));
    expect(ids(await all({ staffId: staffA, patientId: p2, status: 'cancelled' }))).toEqual([]);
  });

  test('by time range: those that end after `from` and start before `to`', async () => {
    // a1 is 10:00–10:30, a4 10:30–11:00, a2 11:00–11:30
    expect(
      ids(await all({ staffId: staffA, from: '2027-03-01T10:30:00Z', to: '2027-03-01T11:00:00Z' })),
    ).toEqual([a.a4?.id]);
    expect(
      ids(await all({ staffId: staffA, from: '2027-03-01T10:29:00Z', to: '2027-03-01T11:01:00Z' })),
    ).toEqual(ids([a.a1, a.a4, a.a2] as Appointment[]));
    expect(ids(await all({ staffId: staffA, from: '2027-03-02T00:00:00Z' }))).toEqual([a.a3?.id]);
    expect(ids(await all({ staffId: staffA, to: '2027-03-01T10:30:00Z' }))).toEqual([a.a1?.id]);
    // a range inside one appointment finds it
    expect(
      ids(await all({ staffId: staffA, from: '2027-03-02T09:40:00Z', to: '2027-03-02T09:50:00Z' })),
    ).toEqual([a.a3?.id]);
  });
});

describe('paging', () => {
  test('keyset pages in (start, id) order: two at the same start in id order, none repeated or missed', async () => {
    const range = { from: '2027-03-01T00:00:00Z', to: '2027-03-03T00:00:00Z' };
    const mine = new Set([staffA, staffB]);
    for (const limit of [1, 2, 3]) {
      const { items, pages } = await readAllPages<Appointment>(
        world().appointment,
        APPOINTMENTS,
        world().tokens.desk,
        {
          ...range,
          limit,
        },
      );
      const ours = items.filter((x) => mine.has(x.staffId));
      expect(ids(ours), `limit ${limit}`).toEqual(
        ids([a.b2, ...atTen(), a.a4, a.a2, a.a3, a.s1] as Appointment[]),
      );
      expect(pages).toBeGreaterThanOrEqual(Math.ceil(7 / limit));
      expect(new Set(ids(items)).size).toBe(items.length);
      const keys = items.map((x) => `${x.start} ${x.id}`);
      expect([...keys].sort()).toEqual(keys);
    }
  });

  test('a page answers a cursor only while more remain', async () => {
    const first = await list({ staffId: staffA, limit: 3 });
    expect(first.status).toBe(200);
    expect(ids(first.body.items)).toEqual(ids([a.a1, a.a4, a.a2] as Appointment[]));
    expect(typeof first.body.nextCursor).toBe('string');
    const second = await list({ staffId: staffA, limit: 3, cursor: first.body.nextCursor ?? undefined });
    expect(ids(second.body.items)).toEqual([a.a3?.id]);
    expect(second.body.nextCursor).toBeNull();
  });
});

describe('bad queries: 400 naming the parameter', () => {
  test.each([
    ['to equal to from', { from: '2027-03-01T10:00:00Z', to: '2027-03-01T10:00:00Z' }],
    ['to before from', { from: '2027-03-01T10:00:00Z', to: '2027-03-01T09:00:00Z' }],
  ])('%s', async (_name, params) => {
    expect(expectValidationErrors(await list(params)).map((e) => e.path)).toEqual(['/querystring/to']);
  });

  test.each([
    ['not base64 JSON', 'garbage!'],
    ['a key of another list', Buffer.from(JSON.stringify(['consult-30'])).toString('base64url')],
    [
      'a start that is not a time',
      Buffer.from(JSON.stringify(['soon', a.a1?.id ?? ''])).toString('base64url'),
    ],
    [
      'an id that is not a uuid',
      Buffer.from(JSON.stringify(['2027-03-01T10:00:00.000Z', 'x'])).toString('base64url'),
    ],
  ])('a cursor that is %s', async (_name, cursor) => {
    expect(expectValidationErrors(await list({ cursor })).map((e) => e.path)).toEqual([
      '/querystring/cursor',
    ]);
  });

  test('a status it does not know, ids that are not uuids, a time that is not RFC 3339', async () => {
    const errors = expectValidationErrors(
      await list({ status: 'lost', staffId: '42', patientId: 'ada', from: 'yesterday' }),
    );
    expect(errors.map((e) => e.path)).toEqual([
      '/querystring/from',
      '/querystring/patientId',
      '/querystring/staffId',
      '/querystring/status',
    ]);
  });
});
