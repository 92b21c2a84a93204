import { assertValidEvent, type Appointment } from '@hms/contracts';
import { outboxRows, type OutboxRow } from '@hms/testkit';
import { expectProblem } from '@hms/testkit/vitest';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  APPOINTMENTS,
  book,
  booked,
  counts,
  createType,
  fetched,
  onboard,
  register,
  storedAppointment,
  useWorld,
} from './helpers.js';

/**
 * Appointment's events: created, updated (with what changed) and cancelled, each written in the
 * transaction of its change and carrying the whole appointment with the version it made.
 */
const world = useWorld();

/**
 * A real fault in the real database: a trigger refuses outbox rows of appointments of the
 * patients listed in `test_poison`, so a test can watch a change roll back with its event.
 */
const POISON = `
  CREATE TABLE test_poison (value text PRIMARY KEY);
  CREATE FUNCTION test_poison_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF EXISTS (SELECT 1 FROM test_poison WHERE value = NEW.envelope->'data'->'appointment'->>'patientId') THEN
      RAISE EXCEPTION 'injected failure: outbox row refused for %', NEW.subject;
    END IF;
    RETURN NEW;
  END $$;
  CREATE TRIGGER test_poison_outbox BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION test_poison_outbox();
`;

let staffId: string;
let type: string;
beforeAll(async () => {
  await world().appointment.db.exec(POISON);
  staffId = (await onboard(world())).id;
  type = (await createType(world())).code; // 30 minutes
});

const desk = () => world().tokens.desk;
const post = (path: string, body?: unknown) =>
  world().appointment.request<Appointment>('POST', `${APPOINTMENTS}${path}`, {
    token: desk(),
    ...(body === undefined ? {} : { body }),
  });
const eventsOf = (id: string) => outboxRows(world().appointment.db, { subject: id });

/** Every row is a valid CloudEvent of the registry, about its subject, from the Appointment service. */
function expectValid(rows: OutboxRow[]): void {
  for (const r of rows) {
    expect(() => {
      assertValidEvent(r.envelope);
    }, r.type).not.toThrow();
    expect(r.envelope).toMatchObject({
      specversion: '1.0',
      source: '/hms/appointment',
      type: r.type,
      subject: r.subject,
      dataschema: `urn:hms:event:${r.type}`,
    });
  }
}

async function fresh(start: string): Promise<Appointment> {
  return booked(world(), { patientId: (await register(world())).id, staffId, type, start });
}

describe('events written with a successful change', () => {
  test('book, reschedule, cancel: created v1, updated v2 with the previous slot, cancelled v3', async () => {
    const before = await counts(world().appointment);
    const a = await fresh('2027-03-01T10:00:00Z');
    expect(await counts(world().appointment)).toEqual({
      appointments: before.appointments + 1,
      outbox: before.outbox + 1,
    });
    const moved = await post(`/${a.id}/reschedule`, { start: '2027-03-01T14:00:00Z' });
    expect(moved.status).toBe(200);
    const cancelled = await world().appointment.request<{ cancelled: Appointment[] }>(
      'POST',
      `${APPOINTMENTS}/${a.id}/cancel`,
      { token: desk(), body: { reason: 'feeling better' } },
    );
    expect(cancelled.status).toBe(200);

    const rows = await eventsOf(a.id);
    expectValid(rows);
    expect(rows.map((r) => r.type)).toEqual([
      'appointment.created.v1',
      'appointment.updated.v1',
      'appointment.cancelled.v1',
    ]);
    expect(rows.map((r) => (r.envelope.data.appointment as Appointment).version)).toEqual([1, 2, 3]);
    expect(rows[0]?.envelope.data).toEqual({ appointment: a });
    expect(rows[1]?.envelope.data).toEqual({
      appointment: moved.body,
      change: 'rescheduled',
      previousStart: '2027-03-01T10:00:00.000Z',
      previousEnd: '2027-03-01T10:30:00.000Z',
    });
    expect(rows[1]?.envelope.data.appointment).toMatchObject({
      start: '2027-03-01T14:00:00.000Z',
      end: '2027-03-01T14:30:00.000Z',
    });
    expect(rows[2]?.envelope.data).toEqual({
      appointment: cancelled.body.cancelled[0],
      reason: 'feeling better',
      scope: 'this',
    });
    expect(rows[2]?.envelope.data.appointment).toMatchObject({ status: 'cancelled', version: 3 });
    expect(new Set(rows.map((r) => r.envelope.id)).size).toBe(3);
  });

  test('details, check-in, complete: updated events naming each change, versions 2, 3, 4', async () => {
    const a = await fresh('2027-03-01T11:00:00Z');
    const put = await world().appointment.request<Appointment>('PUT', `${APPOINTMENTS}/${a.id}`, {
      token: desk(),
      body: { reason: 'annual review', location: 'Room 2' },
      headers: { 'if-match': '"v1"' },
    });
    expect(put.status).toBe(200);
    expect((await post(`/${a.id}/check-in`)).status).toBe(200);
    const done = await post(`/${a.id}/complete`);
    expect(done.status).toBe(200);
    const rows = await eventsOf(a.id);
    expectValid(rows);
    expect(rows.map((r) => [r.type, r.envelope.data.change])).toEqual([
      ['appointment.created.v1', undefined],
      ['appointment.updated.v1', 'updated'],
      ['appointment.updated.v1', 'checked-in'],
      ['appointment.updated.v1', 'completed'],
    ]);
    expect(rows.map((r) => (r.envelope.data.appointment as Appointment).version)).toEqual([1, 2, 3, 4]);
    expect(rows[1]?.envelope.data.appointment).toEqual(put.body);
    expect(rows[3]?.envelope.data.appointment).toEqual(done.body);
    expect(await fetched(world(), a.id)).toEqual(done.body);
  });

  test('a no-show marked by hand: updated with change no-show', async () => {
    const a = await fresh('2027-03-01T12:00:00Z');
    const res = await post(`/${a.id}/no-show`);
    expect(res.status).toBe(200);
    const rows = await eventsOf(a.id);
    expectValid(rows);
    expect(rows.at(-1)?.envelope.data).toEqual({ appointment: res.body, change: 'no-show' });
    expect(res.body).toMatchObject({ status: 'no-show', version: 2 });
  });

  test('the caller’s trace continues in the event', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const res = await world().appointment.request<Appointment>('POST', APPOINTMENTS, {
      token: desk(),
      body: { patientId: (await register(world())).id, staffId, type, start: '2027-03-01T15:00:00Z' },
      headers: { traceparent },
    });
    expect(res.status).toBe(201);
    const carried = (await eventsOf(res.body.id))[0]?.envelope.traceparent;
    expect(carried).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
  });
});

describe('no change, no event', () => {
  test('a reschedule to the slot it already has, or details it already has, bump nothing', async () => {
    const a = await fresh('2027-03-08T10:00:00Z');
    const same = await post(`/${a.id}/reschedule`, { start: '2027-03-08T10:00:00Z' });
    expect(same.status).toBe(200);
    expect(same.body).toEqual(a);
    const put = await world().appointment.request<Appointment>('PUT', `${APPOINTMENTS}/${a.id}`, {
      token: desk(),
      body: {},
      headers: { 'if-match': '"v1"' },
    });
    expect(put.status).toBe(200);
    expect(put.body.version).toBe(1);
    expect((await eventsOf(a.id)).map((r) => r.type)).toEqual(['appointment.created.v1']);
  });

  test('a refused change (overlap, illegal transition, stale If-Match) writes no event', async () => {
    const a = await fresh('2027-03-08T11:00:00Z');
    const b = await fresh('2027-03-08T12:00:00Z');
    const before = {
      counts: await counts(world().appointment),
      row: await storedAppointment(world().appointment, a.id),
    };
    expectProblem(await post(`/${a.id}/reschedule`, { start: '2027-03-08T12:00:00Z' }), 409);
    expectProblem(await post(`/${a.id}/complete`), 409);
    const stale = await world().appointment.request('POST', `${APPOINTMENTS}/${a.id}/reschedule`, {
      token: desk(),
      body: { start: '2027-03-08T13:00:00Z' },
      headers: { 'if-match': '"v7"' },
    });
    expectProblem(stale, 412);
    expect({
      counts: await counts(world().appointment),
      row: await storedAppointment(world().appointment, a.id),
    }).toEqual(before);
    expect((await eventsOf(b.id)).map((r) => r.type)).toEqual(['appointment.created.v1']);
  });
});

describe('a change and its event commit together', () => {
  test('when the event cannot be written, no appointment is booked', async () => {
    const patientId = (await register(world())).id;
    await world().appointment.db.query('INSERT INTO test_poison (value) VALUES ($1)', [patientId]);
    const before = await counts(world().appointment);
    const res = await book(world(), { patientId, staffId, type, start: '2027-03-15T10:00:00Z' });
    const problem = expectProblem(res, 500);
    expect(JSON.stringify(problem)).not.toMatch(/injected|outbox/i);
    expect(await counts(world().appointment)).toEqual(before);
    const { rows } = await world().appointment.db.query('SELECT 1 FROM appointments WHERE patient_id = $1', [
      patientId,
    ]);
    expect(rows).toEqual([]);
    // nor a series, of which every occurrence's event is refused
    const series = await book(world(), {
      patientId,
      staffId,
      type,
      start: '2027-03-15T10:00:00Z',
      recurrence: { frequency: 'weekly', count: 3 },
    });
    expectProblem(series, 500);
    expect(await counts(world().appointment)).toEqual(before);
    await world().appointment.db.query('DELETE FROM test_poison WHERE value = $1', [patientId]);
    // the slot was never taken
    await booked(world(), { patientId, staffId, type, start: '2027-03-15T10:00:00Z' });
  });

  test('when the event of a reschedule cannot be written, the appointment keeps its slot', async () => {
    const a = await fresh('2027-03-15T11:00:00Z');
    const row = await storedAppointment(world().appointment, a.id);
    await world().appointment.db.query('INSERT INTO test_poison (value) VALUES ($1)', [a.patientId]);
    expectProblem(await post(`/${a.id}/reschedule`, { start: '2027-03-15T13:00:00Z' }), 500);
    expect(await storedAppointment(world().appointment, a.id)).toEqual(row);
    expect((await eventsOf(a.id)).map((r) => r.type)).toEqual(['appointment.created.v1']);
    await world().appointment.db.query('DELETE FROM test_poison WHERE value = $1', [a.patientId]);
  });
});
