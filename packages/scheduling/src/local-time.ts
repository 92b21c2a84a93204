import { DateTime, IANAZone } from 'luxon';

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
 */

export interface LocalDate {
  year: number;
  month: number;
  day: number;
}

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;
const YMD = /^(\d{4})-(\d{2})-(\d{2})$/;

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
  return DateTime.utc(d.year, d.month, d.day).isValid ? d : undefined;
}

/** A usable IANA zone name (fixed offsets like '+01:00' are refused). */
export function isValidZone(zone: unknown): zone is string {
  return typeof zone === 'string' && /^[A-Za-z]/.test(zone) && IANAZone.isValidZone(zone);
}

export function assertZone(zone: string): void {
  if (!isValidZone(zone)) throw new RangeError(`unknown IANA timezone: ${JSON.stringify(zone)}`);
}

/** Calendar arithmetic on dates only (no zone involved). */
export function addDays(date: LocalDate, days: number): LocalDate {
  const d = DateTime.utc(date.year, date.month, date.day).plus({ days });
  return { year: d.year, month: d.month, day: d.day };
}

export function formatDate(date: LocalDate): string {
  return DateTime.utc(date.year, date.month, date.day).toFormat('yyyy-MM-dd');
}

/** ISO weekday, 1 = Monday … 7 = Sunday. */
export function isoWeekday(date: LocalDate): number {
  return DateTime.utc(date.year, date.month, date.day).weekday;
}

/** The local date of an instant in a zone. */
export function localDateOf(ms: number, zone: string): LocalDate {
  const d = DateTime.fromMillis(ms, { zone });
  return { year: d.year, month: d.month, day: d.day };
}

/** Local fields as a sortable number (a comparison key only, never an instant). */
function wallKey(d: DateTime): number {
  return Date.UTC(d.year, d.month - 1, d.day, d.hour, d.minute, d.second, d.millisecond);
}

const SEARCH_WINDOW_MS = 26 * 3_600_000; // longer than any real DST/zone gap

/**
 * The instant of local wall time `minutes` (since midnight) on `date` in `zone`, by the gap and
 * ambiguity rules above.
 */
export function localInstant(date: LocalDate, minutes: number, zone: string): number {
  const hour = Math.floor(minutes / 60);
  const minute = minutes % 60;
  const dt = DateTime.fromObject({ ...date, hour, minute }, { zone });
  if (!dt.isValid) throw new RangeError(`invalid local time ${formatDate(date)} ${minutes}min in ${zone}`);
  const wanted = Date.UTC(date.year, date.month - 1, date.day, hour, minute);
  const exact = dt.getPossibleOffsets().filter((c) => wallKey(c) === wanted);
  if (exact.length > 0) return Math.min(...exact.map((c) => c.toMillis()));
  // In a gap: Luxon answered an instant after it; find the first instant whose wall time is at
  // or after the wanted one (wall time is monotonic around a gap), i.e. the transition instant.
  let hi = dt.toMillis();
  let lo = hi - SEARCH_WINDOW_MS;
  if (wallKey(DateTime.fromMillis(lo, { zone })) >= wanted) return hi;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (wallKey(DateTime.fromMillis(mid, { zone })) >= wanted) hi = mid;
    else lo = mid;
  }
  return hi;
}
