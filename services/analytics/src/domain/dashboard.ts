import type { AnalyticsDashboard, CurrencyTotal } from '@hms/contracts';
import type { Metric } from './buckets.js';
import type { DayRange } from './days.js';

/** A sum of `daily_totals` over some days. */
export interface TotalRow {
  metric: Metric;
  dimension: string;
  currency: string;
  count: number;
  amount: number;
}

/** The KPIs of some totals; a rate whose denominator is 0 is null (nothing to rate), never 0. */
export interface Kpis {
  patientsRegistered: number;
  appointments: AnalyticsDashboard['appointments'];
  noShowRate: number | null;
  prescriptionsFilled: number;
  stockAlerts: number;
  invoiced: CurrencyTotal[];
  paid: CurrencyTotal[];
  denied: CurrencyTotal[];
  claims: AnalyticsDashboard['claims'];
  claimDenialRate: number | null;
}

export const rate = (part: number, whole: number): number | null => (whole === 0 ? null : part / whole);

/**
 * The KPIs of totals summed over a range. No-show rate = no-shows / (completed + no-shows) and
 * claim denial rate = denied / (approved + denied): cancelled appointments and claims not yet
 * adjudicated are in no denominator. Money stays per currency, in currency order.
 */
export function kpisOf(rows: readonly TotalRow[]): Kpis {
  const count = (metric: Metric, dimension?: string) =>
    rows
      .filter((r) => r.metric === metric && (dimension === undefined || r.dimension === dimension))
      .reduce((sum, r) => sum + r.count, 0);
  const money = (metric: Metric, dimension?: string): CurrencyTotal[] => {
    const byCurrency = new Map<string, CurrencyTotal>();
    for (const r of rows) {
      if (r.metric !== metric || (dimension !== undefined && r.dimension !== dimension)) continue;
      const t = byCurrency.get(r.currency) ?? { currency: r.currency, count: 0, amount: 0 };
      t.count += r.count;
      t.amount += r.amount;
      byCurrency.set(r.currency, t);
    }
    return [...byCurrency.values()]
      .filter((t) => t.count !== 0)
      .sort((a, b) => a.currency.localeCompare(b.currency));
  };
  const appointments = {
    scheduled: count('appointments', 'scheduled'),
    checkedIn: count('appointments', 'checked-in'),
    completed: count('appointments', 'completed'),
    cancelled: count('appointments', 'cancelled'),
    noShow: count('appointments', 'no-show'),
  };
  const claims = { approved: count('claims', 'approved'), denied: count('claims', 'denied'), adjudicated: 0 };
  claims.adjudicated = claims.approved + claims.denied;
  return {
    patientsRegistered: count('patients-registered'),
    appointments,
    noShowRate: rate(appointments.noShow, appointments.completed + appointments.noShow),
    prescriptionsFilled: count('prescriptions-filled'),
    stockAlerts: count('stock-alerts'),
    invoiced: money('invoiced'),
    paid: money('paid'),
    denied: money('claims', 'denied'),
    claims,
    claimDenialRate: rate(claims.denied, claims.adjudicated),
  };
}

export function dashboardOf(range: DayRange, zone: string, rows: readonly TotalRow[]): AnalyticsDashboard {
  return { from: range.from, to: range.to, timezone: zone, ...kpisOf(rows) };
}
