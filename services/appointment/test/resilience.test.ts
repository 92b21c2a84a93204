import type { Appointment, Staff } from '@hms/contracts';
import type { ApiResponse } from '@hms/testkit';
import { expectProblem, useStarted } from '@hms/testkit/vitest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { APPOINTMENTS, TYPES, counts, patientInput, staffInput } from './helpers.js';
import {
  SwitchableProxy,
  breakerState,
  call,
  metric,
  startRaceWorld,
  type RaceWorld,
} from './world-extra.js';

/**
 * Booking when the owners of Appointment's copies (Staff, Patient) cannot answer. Appointment
 * runs on a bus of its own, so it hears none of their events and its copies start empty: every
 * first booking of a staff member and a patient reads through, over a proxy the test switches
 * between forwarding, refusing connections and hanging. Every request is bounded by a client
 * timeout, so a hang fails the test rather than stalling it.
 */
describe('booking when the owner of an empty local copy is unreachable', () => {
  let proxy: SwitchableProxy | undefined;
  const world = useStarted<RaceWorld>(
    () =>
      startRaceWorld({
        isolated: true,
        through: async (staff, patient) => {
          proxy = await SwitchableProxy.start(staff.url, patient.url);
          return { staffUrl: proxy.url, patientUrl: proxy.url };
        },
      }),
    60_000,
  );
  afterAll(async () => {
    await proxy?.close();
  });
  const w = () => world();
  const px = () => proxy as SwitchableProxy;
  const type = 'resilience-30';

  beforeAll(async () => {
    const res = await call(w().appointment.url, 'POST', TYPES, {
      token: w().tokens.desk,
      body: { code: type, name: 'Consultation', durationMin: 30 },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  });

  /** A staff member and a patient Appointment has never heard of (registered at their owners directly). */
  async function strangers(): Promise<{ staffId: string; patientId: string }> {
    const staff = await call<Staff>(w().staff.url, 'POST', '/api/v1/staff', {
      token: w().tokens.manager,
      // every day 08:00–18:00 in London
      body: staffInput({
        weeklyHours: (['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const).map((day) => ({
          day,
          start: '08:00',
          end: '18:00',
        })),
      }),
    });
    expect(staff.status, JSON.stringify(staff.body)).toBe(201);
    const patient = await call<{ id: string }>(
      w().patient.url,
      'POST',
      '/api/v1/patients?confirmDuplicate=true',
      { token: w().tokens.desk, body: patientInput() },
    );
    expect(patient.status, JSON.stringify(patient.body)).toBe(201);
    return { staffId: staff.body.id, patientId: patient.body.id };
  }

  const book = (who: { staffId: string; patientId: string }, start: string, timeoutMs = 15_000) =>
    call<Appointment>(w().appointment.url, 'POST', APPOINTMENTS, {
      token: w().tokens.desk,
      body: { ...who, type, start },
      timeoutMs,
    });

  /** 503 problem+json with a Retry-After of whole seconds. */
  function expectUnavailable(res: ApiResponse): void {
    expectProblem(res, 503);
    expect(res.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
  }

  /** Books until it answers 201 (each other answer a 503 with Retry-After), within `withinMs`. */
  async function untilBooked(
    who: { staffId: string; patientId: string },
    start: string,
    withinMs = 40_000,
  ): Promise<Appointment> {
    const deadline = Date.now() + withinMs;
    for (;;) {
      const res = await book(who, start);
      if (res.status === 201) return res.body;
      expectUnavailable(res);
      expect(Date.now(), 'booking did not work again after the owner came back').toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Books (each answer a 503 with Retry-After) until the breaker to Staff is open; at most `most` times. */
  async function untilBreakerOpens(
    who: { staffId: string; patientId: string },
    most: number,
    timeoutMs: number,
  ) {
    for (let i = 0; (await breakerState(w().appointment.managementUrl, 'staff')) !== 2; i += 1) {
      expect(i, 'the breaker to staff did not open').toBeLessThan(most);
      expectUnavailable(await book(who, '2027-03-02T09:00:00Z', timeoutMs));
    }
  }

  test('with the copies warm, a booking, a reschedule and a slot search make no HTTP call', async () => {
    const who = await strangers();
    px().reset();
    // Monday 2027-03-01 10:00 GMT: the first booking reads the staff member and the patient through
    const first = await book(who, '2027-03-01T10:00:00Z');
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const paths = px().requests.map((r) => r.split('?')[0]);
    expect(paths).toEqual(
      expect.arrayContaining([`GET /api/v1/staff/${who.staffId}`, `GET /api/v1/patients/${who.patientId}`]),
    );

    px().reset();
    const second = await book(who, '2027-03-01T11:00:00Z');
    expect(second.status, JSON.stringify(second.body)).toBe(201);
    const moved = await call(w().appointment.url, 'POST', `${APPOINTMENTS}/${second.body.id}/reschedule`, {
      token: w().tokens.desk,
      body: { start: '2027-03-01T12:00:00Z' },
    });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    const slots = await call(
      w().appointment.url,
      'GET',
      `${APPOINTMENTS}/slots?type=${type}&staffId=${who.staffId}&from=2027-03-01T00:00:00Z&to=2027-03-08T00:00:00Z`,
      { token: w().tokens.desk },
    );
    expect(slots.status, JSON.stringify(slots.body)).toBe(200);
    expect(px().requests).toEqual([]);
  });

  test('owner refusing connections: 503 with Retry-After, the breaker opens and refuses without calling, and booking works again when it returns', async () => {
    const who = await strangers();
    const before = await counts(w().appointment);
    await px().down();
    try {
      const res = await book(who, '2027-03-02T09:00:00Z');
      expectUnavailable(res);
      expect(res.body).toMatchObject({ code: 'unavailable' });
      await untilBreakerOpens(who, 10, 15_000);

      // open: the owner is back, but the breaker answers for it without a call (until it half-opens, 10 s on)
      await px().up();
      px().reset();
      const refused = { upstream: 'staff', outcome: 'circuit_open' };
      const rejectedBefore =
        (await metric(w().appointment.managementUrl, 'http_client_requests_total', refused)) ?? 0;
      expectUnavailable(await book(who, '2027-03-02T09:00:00Z'));
      expect(px().requests).toEqual([]);
      expect(
        await metric(w().appointment.managementUrl, 'http_client_requests_total', refused),
      ).toBeGreaterThan(rejectedBefore);
      // a refused booking changed nothing
      expect(await counts(w().appointment)).toEqual(before);
    } finally {
      await px().up();
    }

    // the same running service books once the breaker lets a call through again
    const booked = await untilBooked(who, '2027-03-02T09:00:00Z');
    expect(booked).toMatchObject({ ...who, start: '2027-03-02T09:00:00.000Z', status: 'scheduled' });
    expect(px().requests.length).toBeGreaterThan(0);
    expect(await breakerState(w().appointment.managementUrl, 'staff')).toBe(0);
  }, 90_000);

  test('owner accepting connections and never answering: 503 with Retry-After before the client gives up, the breaker opens, and booking works again when it answers', async () => {
    const who = await strangers();
    const before = await counts(w().appointment);
    await px().hang();
    try {
      // the client waits at most 25 s; the service gives up on the owner first
      const asked = Date.now();
      const res = await book(who, '2027-03-02T09:00:00Z', 25_000);
      expectUnavailable(res);
      console.info(`owner hanging: 503 after ${Date.now() - asked} ms (the client would wait 25 s)`);
      expect(px().requests.length).toBeGreaterThan(0);
      // the breaker counts calls, a call's tries together (ADR 0020): it opens at the default
      // threshold of five failed calls, the booking above being the first
      await untilBreakerOpens(who, 4, 25_000);
      expect(await counts(w().appointment)).toEqual(before);
    } finally {
      await px().up();
    }
    const booked = await untilBooked(who, '2027-03-02T09:00:00Z');
    expect(booked).toMatchObject({ ...who, start: '2027-03-02T09:00:00.000Z' });
    expect(await breakerState(w().appointment.managementUrl, 'staff')).toBe(0);
  }, 150_000);
});
