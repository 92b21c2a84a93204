import type { AppointmentType } from '@hms/contracts';
import { qs } from '@hms/testkit';
import { expectProblem, expectValidationErrors, readAllPages } from '@hms/testkit/vitest';
import { describe, expect, test } from 'vitest';
import { TYPES, book, booked, fetched, onboard, register, useWorld } from './helpers.js';

/** Appointment types are data: a stable code, a name, a default duration, buffers. */
const world = useWorld();

const desk = () => world().tokens.desk;
let n = 0;
/** A code no other test uses, starting with `prefix`. */
const code = (prefix = 'type') => `${prefix}-${Date.now().toString(36)}-${(n += 1)}`;

const create = (body: unknown) =>
  world().appointment.request<AppointmentType & Record<string, unknown>>('POST', TYPES, {
    token: desk(),
    body,
  });
const put = (c: string, body: unknown, headers: Record<string, string> = {}) =>
  world().appointment.request<AppointmentType & Record<string, unknown>>('PUT', `${TYPES}/${c}`, {
    token: desk(),
    body,
    headers,
  });
const get = (c: string) =>
  world().appointment.request<AppointmentType & Record<string, unknown>>('GET', `${TYPES}/${c}`, {
    token: desk(),
  });

const typeCount = async () =>
  (await world().appointment.db.query<{ n: number }>('SELECT count(*)::int AS n FROM appointment_types'))
    .rows[0]?.n;

describe('create and read', () => {
  test('POST answers 201 with its location and ETag, defaults filled in; GET reads it back', async () => {
    const c = code('consult');
    const res = await create({ code: c, name: 'Consultation', durationMin: 30 });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.headers.get('location')).toBe(`${TYPES}/${c}`);
    expect(res.headers.get('etag')).toBe('"v1"');
    expect(res.body).toEqual({
      code: c,
      name: 'Consultation',
      durationMin: 30,
      bufferBeforeMin: 0,
      bufferAfterMin: 0,
      active: true,
      version: 1,
      createdAt: expect.any(String) as unknown,
      updatedAt: res.body.createdAt,
    });
    const read = await get(c);
    expect(read.status).toBe(200);
    expect(read.headers.get('etag')).toBe('"v1"');
    expect(read.body).toEqual(res.body);
  });

  test('a code that exists: 409 appointment_type_exists, and the first stays as it was', async () => {
    const c = code();
    await create({ code: c, name: 'First', durationMin: 20 });
    const before = await typeCount();
    const res = await create({ code: c, name: 'Second', durationMin: 45 });
    expect(expectProblem(res, 409).code).toBe('appointment_type_exists');
    expect(await typeCount()).toBe(before);
    expect((await get(c)).body).toMatchObject({ name: 'First', durationMin: 20, version: 1 });
  });

  test('GET of a code nobody created: 404', async () => {
    expect(expectProblem(await get('no-such-type'), 404).code).toBe('appointment_type_not_found');
  });

  test('a blank name, a code outside the pattern, a duration or buffer out of range: 400 naming each, nothing written', async () => {
    const before = await typeCount();
    expect(
      expectValidationErrors(await create({ code: code(), name: '   ', durationMin: 30 })).map((e) => e.path),
    ).toEqual(['/body/name']);
    for (const bad of ['Consult', 'consult_30', '-consult', 'a'.repeat(41), '']) {
      const errors = expectValidationErrors(
        await create({ code: bad, name: 'Consultation', durationMin: 30 }),
      );
      expect(
        errors.map((e) => e.path),
        bad,
      ).toEqual(['/body/code']);
    }
    const errors = expectValidationErrors(
      await create({
        code: code(),
        name: 'Consultation',
        durationMin: 4,
        bufferBeforeMin: -1,
        bufferAfterMin: 121,
      }),
    );
    expect(errors.map((e) => e.path)).toEqual([
      '/body/bufferAfterMin',
      '/body/bufferBeforeMin',
      '/body/durationMin',
    ]);
    expect(await typeCount()).toBe(before);
  });
});

describe('replace with PUT', () => {
  test('with If-Match: 200, every field but the code replaced, version bumped', async () => {
    const c = code();
    await create({ code: c, name: 'Check-up', durationMin: 15, bufferAfterMin: 5 });
    const res = await put(
      c,
      { name: 'Long check-up', durationMin: 45, bufferBeforeMin: 10, active: false },
      { 'if-match': '"v1"' },
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.headers.get('etag')).toBe('"v2"');
    expect(res.body).toMatchObject({
      code: c,
      name: 'Long check-up',
      durationMin: 45,
      bufferBeforeMin: 10,
      bufferAfterMin: 0, // replaced: left out means 0
      active: false,
      version: 2,
    });
    expect((await get(c)).body).toEqual(res.body);
  });

  test('with a stale If-Match: 412; without one: 428; neither changes it', async () => {
    const c = code();
    await create({ code: c, name: 'Check-up', durationMin: 15 });
    expect((await put(c, { name: 'Second', durationMin: 20 }, { 'if-match': '"v1"' })).status).toBe(200);
    expectProblem(await put(c, { name: 'Stale', durationMin: 25 }, { 'if-match': '"v1"' }), 412);
    expectProblem(await put(c, { name: 'Blind', durationMin: 25 }), 428);
    expect((await get(c)).body).toMatchObject({ name: 'Second', durationMin: 20, version: 2 });
  });

  test('of a code nobody created: 404', async () => {
    const res = await put('no-such-type', { name: 'X', durationMin: 20 }, { 'if-match': '"v1"' });
    expect(expectProblem(res, 404).code).toBe('appointment_type_not_found');
  });

  test('the code cannot be changed: it is not a field of the body', async () => {
    const c = code();
    await create({ code: c, name: 'Check-up', durationMin: 15 });
    const errors = expectValidationErrors(
      await put(c, { code: 'renamed', name: 'Check-up', durationMin: 15 }, { 'if-match': '"v1"' }),
    );
    expect(errors.map((e) => e.path)).toEqual(['/body/code']);
  });
});

describe('list', () => {
  test('pages through the types in code order', async () => {
    const prefix = `list-${Date.now().toString(36)}`;
    // created out of order; the list answers them by code
    for (const suffix of ['d', 'a', 'e', 'c', 'b'])
      expect((await create({ code: `${prefix}-${suffix}`, name: suffix, durationMin: 30 })).status).toBe(201);
    const { items, pages } = await readAllPages<AppointmentType>(world().appointment, TYPES, desk(), {
      limit: 2,
    });
    expect(pages).toBeGreaterThanOrEqual(3);
    const codes = items.map((t) => t.code);
    expect(codes.filter((c) => c.startsWith(prefix))).toEqual(
      ['a', 'b', 'c', 'd', 'e'].map((s) => `${prefix}-${s}`),
    );
    expect([...codes].sort()).toEqual(codes);
    expect(new Set(codes).size).toBe(codes.length);
  });

  test('filters by active', async () => {
    const on = code('on');
    const off = code('off');
    await create({ code: on, name: 'On', durationMin: 30 });
    await create({ code: off, name: 'Off', durationMin: 30, active: false });
    const inactive = await readAllPages<AppointmentType>(world().appointment, TYPES, desk(), {
      active: 'false',
    });
    expect(inactive.items.map((t) => t.code)).toContain(off);
    expect(inactive.items.map((t) => t.code)).not.toContain(on);
    expect(inactive.items.every((t) => !t.active)).toBe(true);
  });

  test('a cursor it did not issue: 400', async () => {
    const res = await world().appointment.request('GET', TYPES + qs({ cursor: 'bm90LWEtY3Vyc29y' }), {
      token: desk(),
    });
    expect(expectValidationErrors(res).map((e) => e.path)).toEqual(['/querystring/cursor']);
  });
});

describe('types and bookings', () => {
  test('a change of a type leaves an appointment booked with it as booked; later bookings take the new values', async () => {
    const c = code();
    await create({ code: c, name: 'Consultation', durationMin: 30, bufferBeforeMin: 5, bufferAfterMin: 10 });
    const staffId = (await onboard(world())).id;
    const patientId = (await register(world())).id;
    const a = await booked(world(), { patientId, staffId, type: c, start: '2027-03-01T10:00:00Z' });
    expect(a).toMatchObject({ end: '2027-03-01T10:30:00.000Z', bufferBeforeMin: 5, bufferAfterMin: 10 });

    const res = await put(c, { name: 'Long consultation', durationMin: 60 }, { 'if-match': '"v1"' });
    expect(res.status).toBe(200);
    expect(await fetched(world(), a.id)).toEqual(a);

    // the booked appointment's busy span is still 09:55–10:40: 10:40 is free, 10:35 is not
    const later = await booked(world(), {
      patientId: (await register(world())).id,
      staffId,
      type: c,
      start: '2027-03-01T10:40:00Z',
    });
    expect(later).toMatchObject({ end: '2027-03-01T11:40:00.000Z', bufferBeforeMin: 0, bufferAfterMin: 0 });
    const clash = await book(world(), {
      patientId: (await register(world())).id,
      staffId,
      type: c,
      start: '2027-03-01T09:00:00Z', // 09:00–10:00 meets the 5-minute buffer before 10:00
    });
    expectProblem(clash, 409);
    expect(clash.body).toMatchObject({ code: 'appointment_conflict', conflictingAppointmentId: a.id });
  });

  test('booking an inactive type: 409 appointment_type_inactive, nothing booked', async () => {
    const c = code();
    await create({ code: c, name: 'Retired', durationMin: 30, active: false });
    const staffId = (await onboard(world())).id;
    const patientId = (await register(world())).id;
    const res = await book(world(), { patientId, staffId, type: c, start: '2027-03-01T10:00:00Z' });
    expect(expectProblem(res, 409).code).toBe('appointment_type_inactive');
    const { rows } = await world().appointment.db.query('SELECT 1 FROM appointments WHERE type = $1', [c]);
    expect(rows).toEqual([]);
  });
});
