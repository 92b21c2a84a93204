import type { Appointment, SlotList, Staff, StaffInput } from '@hms/contracts';
import { prng, testServerUrl } from '@hms/testkit';
import { useStarted } from '@hms/testkit/vitest';
import { beforeAll, describe, expect, test } from 'vitest';
import { APPOINTMENTS, TYPES, patientInput, staffInput } from './helpers.js';
import {
  call,
  inParallel,
  inconsistentBusySpans,
  overlapsIn,
  startRaceWorld,
  untilCopied,
  type RaceWorld,
} from './world-extra.js';

/**
 * A property test of booking: random book / reschedule / cancel operations at 50-way
 * concurrency over HTTP, for staff members in five IANA zones around their DST changes of 2027
 * (both directions, and Kolkata without one), with shifts crossing midnight and the change
 * itself, a date override, time off, a facility closure, and types with buffers. After every
 * round, at a quiet moment (no request in flight): SQL finds no two overlapping active
 * appointments (a staff member's busy spans, a patient's appointments), and every sampled slot
 * the slot finder offers books when booked alone (and is cancelled again).
 *
 * `APPOINTMENT_PROPERTY_OPS` sets the number of operations (300 by default; `npm run
 * test:scheduling-properties` runs 3000); `APPOINTMENT_PROPERTY_SEED` replays a run (the seed is
 * printed). A seed fixes every random choice; which of two racing requests wins is timing.
 */
const server = testServerUrl();
const OPS = Number(process.env.APPOINTMENT_PROPERTY_OPS ?? 300);
const SEED = Number(process.env.APPOINTMENT_PROPERTY_SEED ?? Math.floor(Math.random() * 2 ** 31));
const WIDTH = 50;
const ROUNDS = Math.max(3, Math.ceil(OPS / 500));
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const at = (text: string) => Date.parse(text);
const iso = (ms: number) => new Date(ms).toISOString();

const EVERY_DAY = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
/** Days 08:00–12:00 and 13:00–18:00, and Saturday night 22:00–04:00: across each change below. */
const DAYS_AND_SATURDAY_NIGHT: StaffInput['weeklyHours'] = [
  ...EVERY_DAY.flatMap((day) => [
    { day, start: '08:00', end: '12:00' },
    { day, start: '13:00', end: '18:00' },
  ]),
  { day: 'sat', start: '22:00', end: '04:00' },
];
/** Late weekdays, a Saturday morning, and Sunday night 19:00–03:00 into Monday. */
const LATE_AND_SUNDAY_NIGHT: StaffInput['weeklyHours'] = [
  ...(['mon', 'tue', 'wed', 'thu', 'fri'] as const).flatMap((day) => [
    { day, start: '10:00', end: '14:00' },
    { day, start: '15:00', end: '23:30' },
  ]),
  { day: 'sat', start: '09:00', end: '13:00' },
  { day: 'sun', start: '19:00', end: '03:00' },
];

/**
 * The zones, each with the DST change of 2027 its week is around (UTC, written by hand): the
 * operations of its staff fall within four days either side of it.
 */
const ZONES = [
  // Sunday 2027-03-14 02:00 EST → 03:00 EDT = 07:00Z
  { timezone: 'America/New_York', change: '2027-03-14T07:00:00Z' },
  // Sunday 2027-03-28 01:00 GMT → 02:00 BST = 01:00Z
  { timezone: 'Europe/London', change: '2027-03-28T01:00:00Z' },
  // Sunday 2027-04-04 03:00 AEDT → 02:00 AEST = Saturday 16:00Z
  { timezone: 'Australia/Sydney', change: '2027-04-03T16:00:00Z' },
  // Sunday 2027-04-04 00:00 -03 → Saturday 23:00 -04 = 03:00Z
  { timezone: 'America/Santiago', change: '2027-04-04T03:00:00Z' },
  // no DST: +05:30 all year (a half-hour offset on the 15-minute grid); the week of London's change
  { timezone: 'Asia/Kolkata', change: '2027-03-28T01:00:00Z' },
] as const;
type Zone = (typeof ZONES)[number];
const weekOf = (zone: Zone) => ({ start: at(zone.change) - 4 * DAY, end: at(zone.change) + 4 * DAY });

const TYPE_DEFS = [
  { code: 'prop-short', durationMin: 15, bufferBeforeMin: 0, bufferAfterMin: 0 },
  { code: 'prop-consult', durationMin: 30, bufferBeforeMin: 5, bufferAfterMin: 10 },
  { code: 'prop-long', durationMin: 60, bufferBeforeMin: 0, bufferAfterMin: 15 },
  { code: 'prop-odd', durationMin: 45, bufferBeforeMin: 10, bufferAfterMin: 5 },
] as const;

interface Member {
  id: string;
  zone: Zone;
}
type Slot = SlotList['slots'][number];
type Answer = Partial<Appointment> & {
  code?: string;
  conflictingAppointmentId?: string;
  cancelled?: Appointment[];
};

describe.skipIf(!server)('booking properties under concurrency, across DST changes', () => {
  const world = useStarted<RaceWorld>(() => startRaceWorld({ poolMax: 10 }), 60_000);
  const w = () => world();
  const staff: Member[] = [];
  const patients: string[] = [];
  let probePatient: string;

  async function created<T>(svc: 'staff' | 'patient' | 'appointment', path: string, body: unknown) {
    const token = svc === 'staff' ? w().tokens.manager : w().tokens.desk;
    const res = await call<T>(w()[svc].url, 'POST', path, { token, body });
    expect(res.status, `POST ${path}: ${JSON.stringify(res.body)}`).toBe(201);
    return res.body;
  }
  const register = async () =>
    (await created<{ id: string }>('patient', '/api/v1/patients?confirmDuplicate=true', patientInput())).id;

  beforeAll(async () => {
    for (const zone of ZONES) {
      for (const weeklyHours of [DAYS_AND_SATURDAY_NIGHT, LATE_AND_SUNDAY_NIGHT]) {
        // a date override in London: the Monday after the change, 06:00–09:00 BST only
        const overrides =
          zone.timezone === 'Europe/London' && weeklyHours === LATE_AND_SUNDAY_NIGHT
            ? [{ date: '2027-03-29', shifts: [{ start: '06:00', end: '09:00' }] }]
            : [];
        const input = staffInput({ timezone: zone.timezone, weeklyHours, overrides });
        staff.push({ id: (await created<Staff>('staff', '/api/v1/staff', input)).id, zone });
      }
    }
    // time off in New York (the Monday after the change, 13:00–20:00Z); a facility closure (UTC)
    const timeOff = { start: '2027-03-15T13:00:00Z', end: '2027-03-15T20:00:00Z' };
    await created('staff', `/api/v1/staff/${(staff[0] as Member).id}/time-off`, timeOff);
    await created('staff', '/api/v1/staff/closures', { date: '2027-03-26', name: 'Property day' });
    for (let k = 0; k < 30; k += 1) patients.push(await register());
    probePatient = await register();
    for (const t of TYPE_DEFS) await created('appointment', TYPES, { ...t, name: t.code });
    await untilCopied(w().appointment.db, 'patient', [...patients, probePatient]);
    await untilCopied(
      w().appointment.db,
      'staff',
      staff.map((s) => s.id),
    );
  }, 120_000);

  /** The slots offered now for one staff member and type over the member's week. */
  async function offered(member: Member, type: string): Promise<Slot[]> {
    const week = weekOf(member.zone);
    const res = await call<SlotList>(
      w().appointment.url,
      'GET',
      `${APPOINTMENTS}/slots?type=${type}&staffId=${member.id}&from=${iso(week.start)}&to=${iso(week.end)}&limit=2000`,
      { token: w().tokens.desk },
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.slots.length).toBeLessThan(2000);
    return res.body.slots;
  }

  test(
    'no two active appointments overlap, and every slot offered at a quiet moment books when booked alone',
    async () => {
      const started = Date.now();
      console.info(
        `scheduling properties: ${OPS} operations, seed ${SEED} ` +
          `(replay: APPOINTMENT_PROPERTY_SEED=${SEED} APPOINTMENT_PROPERTY_OPS=${OPS})`,
      );
      const rnd = prng(SEED);
      const { desk } = w().tokens;
      const outcomes = new Map<string, number>();
      const unexpected: string[] = [];
      /** Every appointment booked, with its staff member and type. */
      const known: { id: string; member: Member; type: string }[] = [];
      /** The newest state each appointment was answered with. */
      const newest = new Map<string, Appointment>();
      /** What the slot finder offered at the last quiet moment, per staff member and type. */
      const lastOffered = new Map<string, Slot[]>();
      const key = (m: Member, type: string) => `${m.id}/${type}`;
      let probes = 0;

      const keep = (a: Appointment) => {
        const seen = newest.get(a.id);
        if (!seen || seen.version < a.version) newest.set(a.id, a);
      };
      const check = (
        what: string,
        res: { status: number; body: Answer },
        allowed: Record<number, string[]>,
      ) => {
        const code = res.body.code ?? '';
        outcomes.set(
          `${what} ${res.status} ${code}`.trim(),
          (outcomes.get(`${what} ${res.status} ${code}`.trim()) ?? 0) + 1,
        );
        const ok = allowed[res.status];
        if (ok === undefined || (ok.length > 0 && !ok.includes(code)))
          unexpected.push(`${what} → ${res.status} ${JSON.stringify(res.body)}`);
        if (code === 'appointment_conflict' && typeof res.body.conflictingAppointmentId !== 'string')
          unexpected.push(`${what} → 409 without conflictingAppointmentId ${JSON.stringify(res.body)}`);
      };

      /**
       * A start for `member`: mostly a slot offered at the last quiet moment within 36 hours of the
       * change (where requests collide), else anywhere in the four days either side, on a 5-minute grid.
       */
      const startFor = (
        member: Member,
        type: string,
        r1: number,
        r2: number,
      ): { start: string; end?: string } => {
        const change = at(member.zone.change);
        const list = lastOffered.get(key(member, type)) ?? [];
        const near = list.filter((s) => Math.abs(at(s.start) - change) < 36 * HOUR);
        if (r1 < 0.6 && near.length > 0) {
          const s = near[Math.floor(r2 * near.length)] as Slot;
          return { start: s.start, end: s.end };
        }
        const week = weekOf(member.zone);
        return {
          start: iso(week.start + Math.floor((r2 * (week.end - week.start)) / (5 * MINUTE)) * 5 * MINUTE),
        };
      };

      const operation = async (): Promise<void> => {
        // every random number an operation uses is drawn before its first request
        const [kind, r1, r2, r3, r4, r5] = [
          rnd.next(),
          rnd.next(),
          rnd.next(),
          rnd.next(),
          rnd.next(),
          rnd.next(),
        ];
        if (kind < 0.5 || known.length === 0) {
          const member = staff[Math.floor(r1 * staff.length)] as Member;
          const type = (TYPE_DEFS[Math.floor(r3 * TYPE_DEFS.length)] as (typeof TYPE_DEFS)[number]).code;
          const patientId = patients[Math.floor(r4 * patients.length)] as string;
          const body = { patientId, staffId: member.id, type, ...startFor(member, type, r5, r2) };
          const res = await call<Answer>(w().appointment.url, 'POST', APPOINTMENTS, { token: desk, body });
          check('book', res, { 201: [], 409: ['appointment_conflict', 'slot_unavailable'] });
          if (res.status === 201) {
            const a = res.body as Appointment;
            if (a.start !== iso(at(body.start)))
              unexpected.push(`booked ${JSON.stringify(body)} as ${a.start}`);
            known.push({ id: a.id, member, type });
            keep(a);
          }
          return;
        }
        const target = known[Math.floor(r1 * known.length)] as (typeof known)[number];
        if (kind < 0.8) {
          const { start } = startFor(target.member, target.type, r5, r2);
          const res = await call<Answer>(
            w().appointment.url,
            'POST',
            `${APPOINTMENTS}/${target.id}/reschedule`,
            {
              token: desk,
              body: { start },
            },
          );
          check('reschedule', res, {
            200: [],
            409: ['appointment_conflict', 'slot_unavailable', 'illegal_transition'],
          });
          if (res.status === 200) keep(res.body as Appointment);
          return;
        }
        const res = await call<Answer>(w().appointment.url, 'POST', `${APPOINTMENTS}/${target.id}/cancel`, {
          token: desk,
          body: { reason: 'property test' },
        });
        check('cancel', res, { 200: [], 409: ['illegal_transition'] });
        for (const a of res.body.cancelled ?? []) keep(a);
      };

      /** Books `slot` alone for the probe patient, expecting 201, and cancels it again. */
      const bookAlone = async (member: Member, type: string, slot: Slot, round: number) => {
        const res = await call<Answer>(w().appointment.url, 'POST', APPOINTMENTS, {
          token: desk,
          body: { patientId: probePatient, staffId: member.id, type, start: slot.start, end: slot.end },
        });
        expect(
          res.status,
          `seed ${SEED}, round ${round}: ${member.zone.timezone} ${type} ${slot.start}–${slot.end} ` +
            `was offered: ${JSON.stringify(res.body)}`,
        ).toBe(201);
        const gone = await call(w().appointment.url, 'DELETE', `${APPOINTMENTS}/${res.body.id ?? ''}`, {
          token: desk,
        });
        expect(gone.status).toBe(204);
        probes += 1;
      };

      /**
       * A quiet moment: no overlap by SQL; what is offered now, none of it meeting a booked busy
       * span; a sample of it booked alone.
       */
      const quietMoment = async (round: number) => {
        expect(await overlapsIn(w().appointment.db), `seed ${SEED}, round ${round}`).toEqual([]);
        expect(await inconsistentBusySpans(w().appointment.db)).toBe(0);
        const combos = staff.flatMap((member) => TYPE_DEFS.map((t) => ({ member, type: t.code })));
        // reads only: nothing writes at a quiet moment
        await inParallel(combos.length, 10, async (i) => {
          const { member, type } = combos[i] as (typeof combos)[number];
          lastOffered.set(key(member, type), await offered(member, type));
        });
        // no offered slot's busy span (its type's buffers included) meets an active appointment's
        const { rows: busy } = await w().appointment.db.query<{ staff: string; from: Date; to: Date }>(
          `SELECT staff_id AS staff, busy_from AS "from", busy_to AS "to" FROM appointments
            WHERE status IN ('scheduled', 'checked-in')`,
        );
        for (const { member, type } of combos) {
          const t = TYPE_DEFS.find((d) => d.code === type) as (typeof TYPE_DEFS)[number];
          const mine = busy.filter((b) => b.staff === member.id);
          for (const slot of lastOffered.get(key(member, type)) ?? []) {
            const from = at(slot.start) - t.bufferBeforeMin * MINUTE;
            const to = at(slot.end) + t.bufferAfterMin * MINUTE;
            const hit = mine.find((b) => b.from.getTime() < to && from < b.to.getTime());
            if (hit)
              unexpected.push(
                `round ${round}: ${type} ${slot.start} offered for ${member.zone.timezone} meets busy ` +
                  `${hit.from.toISOString()}–${hit.to.toISOString()}`,
              );
          }
        }
        // three staff members and types: four slots within 12 h of the change, four others
        for (let k = 0; k < 3; k += 1) {
          const { member, type } = combos[rnd.int(combos.length)] as (typeof combos)[number];
          const list = lastOffered.get(key(member, type)) ?? [];
          const near = list.filter((s) => Math.abs(at(s.start) - at(member.zone.change)) < 12 * HOUR);
          const sample = [
            ...Array.from({ length: Math.min(4, near.length) }, () => near[rnd.int(near.length)] as Slot),
            ...Array.from({ length: Math.min(4, list.length) }, () => list[rnd.int(list.length)] as Slot),
          ];
          for (const slot of new Set(sample)) await bookAlone(member, type, slot, round);
        }
      };

      await quietMoment(0);
      for (let round = 1, done = 0; done < OPS; round += 1) {
        const n = Math.min(Math.ceil(OPS / ROUNDS), OPS - done);
        await inParallel(n, WIDTH, operation);
        done += n;
        await quietMoment(round);
      }

      // the database holds, for each appointment, a state at least as new as the newest answer about it
      const { rows } = await w().appointment.db.query<{
        id: string;
        start: Date;
        end: Date;
        status: string;
        version: number;
      }>(
        `SELECT id, starts_at AS start, ends_at AS "end", status, version FROM appointments WHERE id = ANY($1::uuid[])`,
        [[...newest.keys()]],
      );
      expect(rows).toHaveLength(newest.size);
      for (const r of rows) {
        const a = newest.get(r.id) as Appointment;
        expect(r.version).toBeGreaterThanOrEqual(a.version);
        if (r.version === a.version)
          expect({ start: r.start.toISOString(), end: r.end.toISOString(), status: r.status }).toEqual({
            start: a.start,
            end: a.end,
            status: a.status,
          });
      }

      const summary = JSON.stringify(Object.fromEntries([...outcomes.entries()].sort()));
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      console.info(
        `scheduling properties: ${OPS} operations in ${ROUNDS} rounds at ${WIDTH}-way concurrency, ${seconds} s, ` +
          `seed ${SEED}; ${probes} offered slots booked alone; outcomes ${summary}`,
      );
      expect(unexpected, `seed ${SEED}`).toEqual([]);
      // not vacuous: bookings won, races were lost, offered slots were tried
      expect(outcomes.get('book 201') ?? 0).toBeGreaterThan(0);
      expect(outcomes.get('book 409 appointment_conflict') ?? 0).toBeGreaterThan(0);
      expect(probes).toBeGreaterThan(0);
    },
    120_000 + OPS * 100,
  );
});
