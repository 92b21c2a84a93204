import type { AnalyticsReportType } from '@hms/contracts';
import { stringify } from 'csv-stringify/sync';
import { kpisOf, rate, type TotalRow } from './dashboard.js';
import { daysOf, type DayRange } from './days.js';

/** `daily_totals` rows of one day. */
export type DayRow = TotalRow & { day: string };

export type Cell = string | number | null;

export interface ReportTable {
  columns: string[];
  rows: Cell[][];
}

const byDay = (rows: readonly DayRow[]): Map<string, DayRow[]> => {
  const out = new Map<string, DayRow[]>();
  for (const r of rows) out.set(r.day, [...(out.get(r.day) ?? []), r]);
  return out;
};

/** One row per facility day of the range, days without activity included (as zeros). */
function daily(range: DayRange, rows: readonly DayRow[]): ReportTable {
  const days = byDay(rows);
  return {
    columns: [
      'date',
      'patientsRegistered',
      'scheduled',
      'checkedIn',
      'completed',
      'cancelled',
      'noShow',
      'noShowRate',
      'prescriptionsFilled',
      'stockAlerts',
    ],
    rows: daysOf(range).map((day) => {
      const k = kpisOf(days.get(day) ?? []);
      const a = k.appointments;
      return [
        day,
        k.patientsRegistered,
        a.scheduled,
        a.checkedIn,
        a.completed,
        a.cancelled,
        a.noShow,
        k.noShowRate,
        k.prescriptionsFilled,
        k.stockAlerts,
      ];
    }),
  };
}

/** One row per facility day and currency that saw money move. */
function billing(rows: readonly DayRow[]): ReportTable {
  const out: Cell[][] = [];
  for (const [day, ofDay] of [...byDay(rows)].sort(([a], [b]) => a.localeCompare(b))) {
    const currencies = [...new Set(ofDay.map((r) => r.currency).filter(Boolean))].sort();
    for (const currency of currencies) {
      const k = kpisOf(ofDay.filter((r) => r.currency === currency));
      const [invoiced, paid, denied] = [k.invoiced[0], k.paid[0], k.denied[0]];
      if (!invoiced && !paid && k.claims.adjudicated === 0) continue;
      out.push([
        day,
        currency,
        invoiced?.count ?? 0,
        invoiced?.amount ?? 0,
        paid?.count ?? 0,
        paid?.amount ?? 0,
        k.claims.approved,
        k.claims.denied,
        denied?.amount ?? 0,
        k.claimDenialRate,
      ]);
    }
  }
  return {
    columns: [
      'date',
      'currency',
      'invoicedCount',
      'invoicedAmount',
      'paidCount',
      'paidAmount',
      'claimsApproved',
      'claimsDenied',
      'deniedAmount',
      'claimDenialRate',
    ],
    rows: out,
  };
}

/** Per denial code and currency, over the whole range; the share of the range's denials. */
function denials(rows: readonly DayRow[]): ReportTable {
  const sums = new Map<string, { code: string; currency: string; count: number; amount: number }>();
  for (const r of rows) {
    if (r.metric !== 'denials') continue;
    const key = `${r.dimension}\u0000${r.currency}`;
    const s = sums.get(key) ?? { code: r.dimension, currency: r.currency, count: 0, amount: 0 };
    s.count += r.count;
    s.amount += r.amount;
    sums.set(key, s);
  }
  const all = [...sums.values()].filter((s) => s.count !== 0);
  const total = all.reduce((n, s) => n + s.count, 0);
  all.sort((a, b) => a.code.localeCompare(b.code) || a.currency.localeCompare(b.currency));
  return {
    columns: ['denialCode', 'currency', 'claimsDenied', 'deniedAmount', 'shareOfDenials'],
    rows: all.map((s) => [s.code || null, s.currency, s.count, s.amount, rate(s.count, total)]),
  };
}

/** The report of a type over a range, from the range's `daily_totals` rows. */
export function reportOf(type: AnalyticsReportType, range: DayRange, rows: readonly DayRow[]): ReportTable {
  switch (type) {
    case 'daily':
      return daily(range, rows);
    case 'billing':
      return billing(rows);
    case 'denials':
      return denials(rows);
  }
}

/**
 * A text cell a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, or a tab or carriage
 * return before one) is prefixed with `'`, so it shows as text (OWASP, CSV injection). Numbers
 * are written as numbers: they are ours, and never negative here.
 */
export function neutralised(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/**
 * The table as RFC 4180 CSV: a header line, CRLF line ends, fields quoted where they must be
 * (csv-stringify quotes a field holding the CRLF delimiter but not a bare line feed, which would
 * split the record in most readers: `quoted_match`).
 */
export function toCsv(table: ReportTable): string {
  return stringify(table.rows, {
    header: true,
    columns: table.columns,
    record_delimiter: 'windows',
    quoted_match: /[\r\n]/,
    cast: { string: neutralised },
  });
}
