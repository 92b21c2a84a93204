import { IANAZone } from 'luxon';

/**
 * Local wall time → instant, with one documented rule for the two DST cases:
 *
 * - **Gap** (spring forward: the wall time does not exist, e.g. 02:30 on 2027-03-28 in
 *   Europe/Berlin): the wall time means the *first instant after the gap*, i.e. the transition
 *   instant itself (03:00 CEST = 01:00Z). So a shift boundary inside the gap snaps to the moment
 *   the clocks jump, and a shift covers exactly the real instants whose wall clock reads between
 *   its start and end. This is deliberately NOT Luxon's default (which moves the wall time forward
 *   by the gap length: 02:30 → 03:30). No instant is ever produced inside a gap.
 * - **Ambiguous** (fall back: the wall time happens twice): the wall time means its *first*
 *   occurrence (the earlier instant), for starts and ends alike. (Luxon's own choice varies by zone.)
 *
 * The zone's rules come from Luxon's `IANAZone` (the runtime's tz database through Intl, one
 * formatter per zone, kept); wall time is instant + the zone's offset at that instant, and the
 * calendar arithmetic on dates is plain UTC arithmetic. Building a Luxon `DateTime` per boundary
 * cost ~0.2 ms each, which made a month's slot search tens of milliseconds (bench/scheduling).
 */

export interface LocalDate {
  year: number;
  month: number;
  day: number;
}

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;
const YMD = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/** Minutes since local midnight for 'HH:MM' (00:00–23:59), or undefined when malformed. */
export function parseHHMM(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const m = HHMM.exec(value);
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined;
}

/** A real calendar date from 'YYYY-MM-DD', or undefined. */
export function parseDate(value: unknown): LocalDate | undefined {
  if (typeof value !== 'string') return undefined;
  const m = YMD.exec(value);
  if (!m) return undefined;
  const d = { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
  const back = dateOfUtc(Date.UTC(d.year, d.month - 1, d.day));
  return back.year === d.year && back.month === d.month && back.day === d.day ? d : undefined;
}

/** Zones by name, looked up once: a zone's formatter is costly to make, its offsets cheap to ask. */
const zones = new Map<string, IANAZone | null>();
function zoneNamed(name: string): IANAZone | undefined {
  let zone = zones.get(name);
  if (zone === undefined) {
    zone = /^[A-Za-z]/.test(name) && IANAZone.isValidZone(name) ? IANAZone.create(name) : null;
    if (zones.size < 1000) zones.set(name, zone);
  }
  return zone ?? undefined;
}

/** A usable IANA zone name (fixed offsets like '+01:00' are refused). */
export function isValidZone(zone: unknown): zone is string {
  return typeof zone === 'string' && zoneNamed(zone) !== undefined;
}

function zoneOf(name: string): IANAZone {
  const zone = zoneNamed(name);
  if (!zone) throw new RangeError(`unknown IANA timezone: ${JSON.stringify(name)}`);
  return zone;
}

export function assertZone(zone: string): void {
  zoneOf(zone);
}

/** The zone's offset from UTC at an instant, in ms (local wall time = instant + offset). */
const offsetAt = (zone: IANAZone, ms: number): number => zone.offset(ms) * 60_000;

function dateOfUtc(ms: number): LocalDate {
  const d = new Date(ms);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** Calendar arithmetic on dates only (no zone involved). */
export function addDays(date: LocalDate, days: number): LocalDate {
  return dateOfUtc(Date.UTC(date.year, date.month - 1, date.day + days));
}

export function formatDate(date: LocalDate): string {
  const pad = (n: number, w: number) => String(n).padStart(w, '0');
  return `${pad(date.year, 4)}-${pad(date.month, 2)}-${pad(date.day, 2)}`;
}

/** ISO weekday, 1 = Monday … 7 = Sunday. */
export function isoWeekday(date: LocalDate): number {
  return ((new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay() + 6) % 7) + 1;
}

/** The local wall time of an instant in a zone, as the UTC fields of the returned epoch ms. */
export function wallTime(ms: number, zone: string): number {
  return ms + offsetAt(zoneOf(zone), ms);
}

/** The local date of an instant in a zone. */
export function localDateOf(ms: number, zone: string): LocalDate {
  return dateOfUtc(wallTime(ms, zone));
}

/**
 * The instant of local wall time `minutes` (since midnight) on `date` in `zone`, by the gap and
 * ambiguity rules above.
 */
export function localInstant(date: LocalDate, minutes: number, zone: string): number {
  // a zone's rules do not change while the process runs: each answer is kept (a schedule asks
  // the same few wall times of the same dates on every request)
  const key = `${zone}|${date.year}-${date.month}-${date.day}|${minutes}`;
  const kept = instants.get(key);
  if (kept !== undefined) return kept;
  const instant = resolveLocal(date, minutes, zone);
  if (instants.size >= MOST_KEPT) instants.clear();
  instants.set(key, instant);
  return instant;
}

const instants = new Map<string, number>();
const MOST_KEPT = 200_000;

function resolveLocal(date: LocalDate, minutes: number, zone: string): number {
  const z = zoneOf(zone);
  const wanted = Date.UTC(date.year, date.month - 1, date.day, 0, minutes);
  if (Number.isNaN(wanted))
    throw new RangeError(`invalid local time ${formatDate(date)} ${minutes}min in ${zone}`);
  // the offsets in force around that wall time (a day either side holds any transition near it)
  const offsets = [
    ...new Set([offsetAt(z, wanted - DAY_MS), offsetAt(z, wanted), offsetAt(z, wanted + DAY_MS)]),
  ];
  const exact = offsets.map((o) => wanted - o).filter((t) => t + offsetAt(z, t) === wanted);
  if (exact.length > 0) return Math.min(...exact);
  // In a gap: the first instant whose wall time is at or after the wanted one (wall time is
  // monotonic around a gap), i.e. the transition instant. Before it the wall clock reads earlier
  // than wanted (at wanted − largest offset), after it later (at wanted − smallest offset).
  let lo = wanted - Math.max(...offsets);
  let hi = wanted - Math.min(...offsets);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (mid + offsetAt(z, mid) >= wanted) hi = mid;
    else lo = mid;
  }
  return hi;
}
