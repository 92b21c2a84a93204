import type { Random } from './random.js';

/**
 * The demo's appointment book, planned before anything is booked (pure: no I/O). The slots come
 * from the Appointment service's slot finder, so every one lies in its clinician's working time;
 * the plan only keeps a clinician's picks apart and a patient's too, so that no booking overlaps
 * another, and decides what became of each one that has started by now.
 */

export interface Slot {
  staffId: string;
  start: string;
  end: string;
}

/** What the demo does with a booked appointment. */
export type Outcome = 'completed' | 'no-show' | 'checked-in' | 'scheduled' | 'cancelled';

export interface BookableType {
  code: string;
  durationMin: number;
}

export interface PlannedBooking {
  staffId: string;
  patient: number;
  type: string;
  start: string;
  outcome: Outcome;
}

export interface BookPlan {
  /** each clinician's types (the longest first) and their bookable slots for the longest */
  clinicians: { staffId: string; types: readonly BookableType[]; slots: readonly Slot[] }[];
  patients: number;
  now: number;
  /** how many to book that start before now, and after it */
  past: number;
  future: number;
}

const MINUTE = 60_000;
/** A patient's appointments start at least this far apart (the same person is not in two rooms). */
const PATIENT_GAP_MS = 4 * 60 * MINUTE;
/** A patient whose appointment starts this soon is in the waiting room: checked in. */
const EARLY_ARRIVAL_MS = 20 * MINUTE;

/** Back-to-back slots of one clinician: each starts when the one before it ends. */
function backToBack(slots: readonly Slot[]): Slot[] {
  const kept: Slot[] = [];
  let freeFrom = -Infinity;
  for (const s of [...slots].sort((a, b) => Date.parse(a.start) - Date.parse(b.start)))
    if (Date.parse(s.start) >= freeFrom) {
      kept.push(s);
      freeFrom = Date.parse(s.end);
    }
  return kept;
}

/** `n` of `items`, chosen at random, in their original order. */
function sample<T>(random: Random, items: readonly T[], n: number): T[] {
  const keyed = items.map((item, i) => ({ item, i, key: random.next() }));
  const chosen = keyed.sort((a, b) => a.key - b.key).slice(0, n);
  return chosen.sort((a, b) => a.i - b.i).map((c) => c.item);
}

/**
 * What became of the visits, in turn rather than by chance, so that even a short day shows each:
 * of the visits over by now, one in six was missed (the third first); of those to come, one in
 * twelve is cancelled (the sixth first).
 */
function outcomeOf(
  turn: { finished: number; toCome: number },
  start: number,
  end: number,
  now: number,
): Outcome {
  if (end <= now) return turn.finished++ % 6 === 2 ? 'no-show' : 'completed';
  if (start <= now + EARLY_ARRIVAL_MS) return 'checked-in';
  return turn.toCome++ % 12 === 5 ? 'cancelled' : 'scheduled';
}

/** The bookings, in start order: about `past` before now and `future` after, none overlapping. */
export function planBookings(random: Random, plan: BookPlan): PlannedBooking[] {
  const candidates = plan.clinicians.flatMap((c) =>
    backToBack(c.slots).map((slot) => ({ slot, types: c.types })),
  );
  const startOf = (c: (typeof candidates)[number]) => Date.parse(c.slot.start);
  const before = candidates.filter((c) => startOf(c) < plan.now);
  const after = candidates.filter((c) => startOf(c) >= plan.now);
  const chosen = [...sample(random, before, plan.past), ...sample(random, after, plan.future)].sort(
    (a, b) => startOf(a) - startOf(b),
  );
  const startsOf = Array.from({ length: plan.patients }, () => [] as number[]);
  const bookings: PlannedBooking[] = [];
  const turn = { finished: 0, toCome: 0 };
  for (const { slot, types } of chosen) {
    const start = Date.parse(slot.start);
    const free = startsOf
      .map((starts, patient) => ({ starts, patient }))
      .filter((p) => p.starts.every((s) => Math.abs(s - start) >= PATIENT_GAP_MS));
    if (free.length === 0) continue; // every patient is busy then: the slot stays free
    const { patient, starts } = random.pick(free);
    starts.push(start);
    // the longest type fits the slot; a shorter one (a follow-up) fits it too
    const type = random.chance(0.7) ? (types[0] as BookableType) : random.pick(types);
    bookings.push({
      staffId: slot.staffId,
      patient,
      type: type.code,
      start: slot.start,
      outcome: outcomeOf(turn, start, start + type.durationMin * MINUTE, plan.now),
    });
  }
  return bookings;
}
