import { randomUUID } from 'node:crypto';
import type { Appointment, Staff } from '@hms/contracts';
import { testServerUrl } from '@hms/testkit';
import { useStarted } from '@hms/testkit/vitest';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { APPOINTMENTS, TYPES, patientInput, staffInput } from './helpers.js';
import {
  call,
  inconsistentBusySpans,
  overlapsIn,
  poolMaxOf,
  startRaceWorld,
  untilCopied,
  type RaceWorld,
} from './world-extra.js';

/**
 * No double booking under concurrency, on real PostgreSQL with Appointment's pool at 10
 * connections (DB_POOL_MAX): parallel requests for one slot of one staff member, for one patient
 * across two staff members, a reschedule racing a booking; and the database's own constraints
 * refusing what bypasses the service. After each race, SQL finds no overlap.
 */
const server = testServerUrl();
const POOL = 10;
const N = 50;

type Answer = Appointment & { code?: string; conflictingAppointmentId?: string; start: string; end: string };

describe.skipIf(!server)('no double booking under concurrency (real PostgreSQL)', () => {
  const world = useStarted<RaceWorld>(() => startRaceWorld({ poolMax: POOL }), 60_000);
  const w = () => world();
  let type: string;
  let buffered: string;
  let staffA: string;
  let staffB: string;
  let patients: string[];

  const post = (body: Record<string, unknown>) =>
    call<Answer>(w().appointment.url, 'POST', APPOINTMENTS, { token: w().tokens.desk, body });

  async function onboard(): Promise<string> {
    const res = await call<Staff>(w().staff.url, 'POST', '/api/v1/staff', {
      token: w().tokens.manager,
      // every day 07:00–19:00 in London
      body: staffInput({
        timezone: 'Europe/London',
        weeklyHours: (['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const).map((day) => ({
          day,
          start: '07:00',
          end: '19:00',
        })),
      }),
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id;
  }

  async function registerPatient(): Promise<string> {
    const res = await call<{ id: string }>(
      w().patient.url,
      'POST',
      '/api/v1/patients?confirmDuplicate=true',
      {
        token: w().tokens.desk,
        body: patientInput(),
      },
    );
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id;
  }

  async function createType(code: string, durationMin: number, before = 0, after = 0): Promise<string> {
    const res = await call(w().appointment.url, 'POST', TYPES, {
      token: w().tokens.desk,
      body: { code, name: code, durationMin, bufferBeforeMin: before, bufferAfterMin: after },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return code;
  }

  async function expectNoOverlap(): Promise<void> {
    expect(await overlapsIn(w().appointment.db)).toEqual([]);
    expect(await inconsistentBusySpans(w().appointment.db)).toBe(0);
  }

  /** Exactly one winner; every loser a 409 appointment_conflict naming it. */
  function expectOneWinner(answers: { status: number; body: Answer }[]): Appointment {
    const statuses = answers.map((a) => a.status);
    const won = answers.filter((a) => a.status === 201);
    expect(won, `statuses: ${JSON.stringify(statuses)}`).toHaveLength(1);
    const winner = (won[0] as { body: Answer }).body;
    for (const a of answers.filter((x) => x.status !== 201)) {
      expect(a.status, JSON.stringify(a.body)).toBe(409);
      expect(a.body).toMatchObject({
        code: 'appointment_conflict',
        conflictingAppointmentId: winner.id,
        start: winner.start,
        end: winner.end,
      });
    }
    return winner;
  }

  beforeAll(async () => {
    [staffA, staffB] = [await onboard(), await onboard()];
    patients = await Promise.all(Array.from({ length: N }, registerPatient));
    type = await createType('race-30', 30);
    buffered = await createType('race-buffered', 30, 10, 15);
    // the copies are warm (fed by Staff's and Patient's events) before any race starts
    await untilCopied(w().appointment.db, 'staff', [staffA, staffB]);
    await untilCopied(w().appointment.db, 'patient', patients);
    // time off and closures are filled once per staff member: do it outside the races
    for (const staffId of [staffA, staffB]) {
      const res = await call(
        w().appointment.url,
        'GET',
        `${APPOINTMENTS}/slots?type=${type}&staffId=${staffId}&from=2027-04-05T00:00:00Z&to=2027-04-06T00:00:00Z`,
        { token: w().tokens.desk },
      );
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
  }, 60_000);

  test(`Appointment runs on a pool of ${POOL} connections`, () => {
    expect(poolMaxOf(w().appointment.db)).toBe(POOL);
  });

  test(`${N} parallel bookings of one staff slot by ${N} patients: exactly one 201, the rest 409 naming it`, async () => {
    // Monday 2027-04-05 10:00 BST = 09:00Z
    const answers = await Promise.all(
      patients.map((patientId) => post({ patientId, staffId: staffA, type, start: '2027-04-05T09:00:00Z' })),
    );
    const winner = expectOneWinner(answers);
    expect(winner).toMatchObject({
      staffId: staffA,
      start: '2027-04-05T09:00:00.000Z',
      end: '2027-04-05T09:30:00.000Z',
    });
    await expectNoOverlap();
  });

  test(`${N} parallel bookings at ${N} different starts whose busy spans all overlap: exactly one 201`, async () => {
    // 10:00Z + k minutes, busy from 10 min before to 15 min after: every two overlap
    const answers = await Promise.all(
      patients.map((patientId, k) =>
        post({
          patientId,
          staffId: staffA,
          type: buffered,
          start: new Date(Date.parse('2027-04-06T10:00:00Z') + k * 60_000).toISOString(),
        }),
      ),
    );
    expectOneWinner(answers);
    await expectNoOverlap();
  });

  test(`${N} parallel bookings of one patient alternating two staff members at the same time: exactly one 201`, async () => {
    const patientId = patients[0] as string;
    // Wednesday 2027-04-07 14:00 BST = 13:00Z
    const answers = await Promise.all(
      Array.from({ length: N }, (_, k) =>
        post({ patientId, staffId: k % 2 === 0 ? staffA : staffB, type, start: '2027-04-07T13:00:00Z' }),
      ),
    );
    const winner = expectOneWinner(answers);
    expect(winner.patientId).toBe(patientId);
    await expectNoOverlap();
  });

  test(`a reschedule racing a new booking for the same free slot, ${N} times: one winner each time, the loser unchanged`, async () => {
    const [mover, other] = [patients[1] as string, patients[2] as string];
    const wins = { reschedule: 0, booking: 0 };
    for (let i = 0; i < N; i += 1) {
      // day i/5 from Thursday 2027-04-08 (BST): the appointment at 07:00Z + 2h·(i%5), the target an hour later
      const day = Date.parse('2027-04-08T00:00:00Z') + Math.floor(i / 5) * 86_400_000;
      const oldStart = day + (7 + 2 * (i % 5)) * 3_600_000;
      const target = new Date(oldStart + 3_600_000).toISOString();
      const booked = await post({
        patientId: mover,
        staffId: staffB,
        type: buffered,
        start: new Date(oldStart).toISOString(),
      });
      expect(booked.status, JSON.stringify(booked.body)).toBe(201);
      const a = booked.body;

      const moveFirst = i % 2 === 0;
      const move = () =>
        call<Answer>(w().appointment.url, 'POST', `${APPOINTMENTS}/${a.id}/reschedule`, {
          token: w().tokens.desk,
          body: { start: target },
        });
      const book = () => post({ patientId: other, staffId: staffB, type: buffered, start: target });
      const [moved, fresh] = moveFirst
        ? await Promise.all([move(), book()])
        : await Promise.all([book(), move()]).then(([b, m]) => [m, b] as const);

      const winners = [moved.status === 200, fresh.status === 201].filter(Boolean).length;
      expect(
        winners,
        `round ${i}: reschedule ${moved.status}, booking ${fresh.status} ${JSON.stringify([moved.body, fresh.body])}`,
      ).toBe(1);
      const now = await call<Appointment>(w().appointment.url, 'GET', `${APPOINTMENTS}/${a.id}`, {
        token: w().tokens.desk,
      });
      if (moved.status === 200) {
        wins.reschedule += 1;
        expect(moved.body).toMatchObject({ id: a.id, start: new Date(target).toISOString(), version: 2 });
        expect(fresh.status, JSON.stringify(fresh.body)).toBe(409);
        expect(fresh.body).toMatchObject({ code: 'appointment_conflict', conflictingAppointmentId: a.id });
        expect(now.body).toMatchObject({ start: new Date(target).toISOString(), version: 2 });
      } else {
        wins.booking += 1;
        expect(moved.status, JSON.stringify(moved.body)).toBe(409);
        expect(moved.body).toMatchObject({
          code: 'appointment_conflict',
          conflictingAppointmentId: fresh.body.id,
        });
        // the rescheduled appointment kept its slot, its version and its history
        expect(now.body).toEqual(a);
      }
    }
    // how the races went (which side wins is timing, not a rule)
    console.info(`reschedule vs booking: ${JSON.stringify(wins)}`);
    await expectNoOverlap();
  }, 60_000);

  describe('the database refuses what bypasses the service', () => {
    let client: pg.Client;
    let active: Appointment;
    beforeAll(async () => {
      const url = new URL(server as string);
      const name = (await w().appointment.db.query<{ db: string }>('SELECT current_database() AS db')).rows[0]
        ?.db;
      url.pathname = `/${name ?? ''}`;
      client = new pg.Client({
        connectionString: url.toString(),
        options: '-c search_path=appointment,public',
      });
      await client.connect();
      // Tuesday 2027-04-20 15:00–15:30Z, busy 14:50–15:45Z
      const res = await post({
        patientId: patients[3],
        staffId: staffA,
        type: buffered,
        start: '2027-04-20T15:00:00Z',
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      active = res.body;
    });
    afterAll(async () => {
      await client.end();
    });

    /** A full row as the service would write it: the busy span is the slot widened by the buffers. */
    const insert = (row: {
      patientId: string;
      staffId: string;
      start: string;
      end: string;
      before: number;
      after: number;
      busyFrom?: string;
      busyTo?: string;
    }) =>
      client.query(
        `INSERT INTO appointments (id, patient_id, staff_id, type, starts_at, ends_at, buffer_before_min,
            buffer_after_min, busy_from, busy_to, status, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5::timestamptz, $6::timestamptz, $7::int, $8::int,
            COALESCE($9::timestamptz, $5::timestamptz - $7::int * interval '1 minute'),
            COALESCE($10::timestamptz, $6::timestamptz + $8::int * interval '1 minute'),
            'scheduled', now(), now())`,
        [
          randomUUID(),
          row.patientId,
          row.staffId,
          buffered,
          row.start,
          row.end,
          row.before,
          row.after,
          row.busyFrom ?? null,
          row.busyTo ?? null,
        ],
      );

    async function sqlError(p: Promise<unknown>): Promise<{ code?: string; constraint?: string }> {
      try {
        await p;
      } catch (err) {
        return err as { code?: string; constraint?: string };
      }
      throw new Error('the INSERT succeeded');
    }

    test('an INSERT overlapping an active appointment of the same staff member (busy spans) fails on the exclusion constraint', async () => {
      // 15:40–16:10Z with no buffers of its own starts inside the active one's buffer after (until 15:45Z)
      const err = await sqlError(
        insert({
          patientId: patients[4] as string,
          staffId: staffA,
          start: '2027-04-20T15:40:00Z',
          end: '2027-04-20T16:10:00Z',
          before: 0,
          after: 0,
        }),
      );
      expect(err).toMatchObject({ code: '23P01', constraint: 'appointments_staff_no_overlap' });
      await expectNoOverlap();
    });

    test('an INSERT overlapping an active appointment of the same patient with another staff member fails on the exclusion constraint', async () => {
      const err = await sqlError(
        insert({
          patientId: active.patientId,
          staffId: staffB,
          start: '2027-04-20T15:15:00Z',
          end: '2027-04-20T15:45:00Z',
          before: 0,
          after: 0,
        }),
      );
      expect(err).toMatchObject({ code: '23P01', constraint: 'appointments_patient_no_overlap' });
      await expectNoOverlap();
    });

    test('an INSERT whose busy span is narrower than its buffers fails its CHECK', async () => {
      // 17:00–17:30Z with buffers 10/15 claims a busy span of the slot alone
      const base = {
        patientId: patients[5] as string,
        staffId: staffA,
        start: '2027-04-20T17:00:00Z',
        end: '2027-04-20T17:30:00Z',
        before: 10,
        after: 15,
      };
      const narrowFrom = await sqlError(insert({ ...base, busyFrom: base.start }));
      expect(narrowFrom.code).toBe('23514');
      const narrowTo = await sqlError(insert({ ...base, busyTo: base.end }));
      expect(narrowTo.code).toBe('23514');
      // the same row with its true span goes in: the CHECK, not something else, refused the others
      await insert(base);
      await expectNoOverlap();
    });

    test('an overlapping INSERT of a cancelled appointment is allowed: only active ones hold the slot', async () => {
      await client.query(
        `INSERT INTO appointments (id, patient_id, staff_id, type, starts_at, ends_at, buffer_before_min,
            buffer_after_min, busy_from, busy_to, status, created_at, updated_at)
         VALUES ($1, $2, $3, $4, '2027-04-20T15:00:00Z', '2027-04-20T15:30:00Z', 0, 0,
            '2027-04-20T15:00:00Z', '2027-04-20T15:30:00Z', 'cancelled', now(), now())`,
        [randomUUID(), active.patientId, staffA, buffered],
      );
      await expectNoOverlap();
    });
  });
});
