import type { Appointment, SlotList } from '@hms/contracts';
import { DemoRefused, inPool, type Caller } from './http.js';
import type { Random } from './random.js';
import { planBookings, type Outcome } from './schedule.js';
import { CONCURRENCY, type Actors, type Clinic } from './setup.js';

/** An appointment the demo booked, and what became of it. */
export interface Visit {
  appointment: Appointment;
  outcome: Outcome;
  role: 'physician' | 'nurse';
}

const HOUR = 3_600_000;
/** Bookings may start up to 24 hours ago (Appointment's rule); a little less leaves room for the run. */
const PAST_MS = 23 * HOUR;
const AHEAD_MS = 7 * 24 * HOUR;
const REASONS = ['annual check-up', 'follow-up', 'blood pressure review', 'medication review', 'skin check'];

/**
 * The appointment book of the last day and the coming week: bookable slots from the slot finder,
 * a plan that keeps every clinician's and patient's bookings apart, the bookings at the front
 * desk, and then the day as it went: arrivals checked in, visits completed by the clinician,
 * patients who did not come marked no-show, a few cancellations.
 */
export async function runClinic(
  as: Actors,
  random: Random,
  clinic: Clinic,
  opts: { now: number; past: number; future: number },
): Promise<Visit[]> {
  const range = {
    from: new Date(opts.now - PAST_MS).toISOString(),
    to: new Date(opts.now + AHEAD_MS).toISOString(),
  };
  const slotLists = await inPool(clinic.clinicians, CONCURRENCY, (c) =>
    as.desk.get<SlotList>('/api/v1/appointments/slots', {
      type: c.types[0]?.code,
      staffId: c.staff.id,
      ...range,
      limit: 2000,
    }),
  );
  const plan = planBookings(random, {
    clinicians: clinic.clinicians.map((c, i) => ({
      staffId: c.staff.id,
      types: c.types,
      slots: slotLists[i]?.slots ?? [],
    })),
    patients: clinic.patients.length,
    now: opts.now,
    past: opts.past,
    future: opts.future,
  });
  const roleOf = new Map(clinic.clinicians.map((c) => [c.staff.id, c.staff.role]));
  return inPool(plan, CONCURRENCY, async (b, i) => {
    const appointment = await as.desk.post<Appointment>('/api/v1/appointments', {
      patientId: clinic.patients[b.patient]?.id,
      staffId: b.staffId,
      type: b.type,
      start: b.start,
      reason: REASONS[i % REASONS.length],
      location: `Room ${1 + (i % 6)}`,
    });
    const role = roleOf.get(b.staffId) === 'nurse' ? 'nurse' : 'physician';
    const outcome = await carryOut(as, appointment.id, b.outcome, as[role]);
    return { appointment, outcome, role };
  });
}

/**
 * Takes a booked appointment where the plan says it went. Appointment's no-show job marks an
 * appointment still scheduled an hour after its end as no-show; when it got there first, a
 * check-in answers 409 and the visit is what the job made of it.
 */
async function carryOut(as: Actors, id: string, outcome: Outcome, clinician: Caller): Promise<Outcome> {
  const path = `/api/v1/appointments/${id}`;
  switch (outcome) {
    case 'scheduled':
      return outcome;
    case 'cancelled':
      await as.desk.post(`${path}/cancel`, { reason: 'the patient called to cancel' });
      return outcome;
    case 'checked-in':
    case 'completed':
    case 'no-show': {
      const step = outcome === 'no-show' ? 'no-show' : 'check-in';
      const answer = await as.desk.send('POST', `${path}/${step}`, {});
      if (answer.status === 409 && (await as.desk.get<Appointment>(path)).status === 'no-show')
        return 'no-show';
      if (answer.status !== 200) throw new DemoRefused('POST', `${path}/${step}`, answer);
      if (outcome === 'completed') await clinician.post(`${path}/complete`);
      return outcome;
    }
  }
}
