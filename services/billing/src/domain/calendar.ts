/** The facility's calendar, for an invoice's number (its year) and due date. Pure, unit tested. */

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The facility's date (YYYY-MM-DD) at an instant. */
export function facilityDate(at: Date, timeZone: string): string {
  let f = formatters.get(timeZone);
  if (!f) {
    // en-CA formats a date as YYYY-MM-DD
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, f);
  }
  return f.format(at);
}

/** A calendar date `days` later (UTC arithmetic on a date: no time zone, no DST). */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}
