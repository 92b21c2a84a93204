import type { AnalyticsDashboard, CurrencyTotal } from '@hms/contracts';
import { runClinic } from './clinic.js';
import { waitFor } from './http.js';
import { runPharmacy, type Dispensing } from './pharmacy.js';
import { seededRandom } from './random.js';
import { runRevenue, type Revenue } from './revenue.js';
import type { Outcome } from './schedule.js';
import { openClinic, type Actors } from './setup.js';

/** The same invented hospital on every run. */
const SEED = 20_260_315;
const PATIENTS = 40;
/** Bookings that started in the last day (their visits done, missed or under way), and to come. */
const PAST_BOOKINGS = 30;
const FUTURE_BOOKINGS = 80;

export interface HospitalReport {
  staff: number;
  patients: number;
  medications: number;
  appointments: Record<Outcome, number>;
  revenue: Revenue;
  dispensing: Dispensing;
  /** today's dashboard once it shows the day's invoices (or as it was after a wait) */
  dashboard: AnalyticsDashboard;
  seconds: number;
}

const dashboardOf = (as: Actors, query: Record<string, string> = {}) =>
  as.manager.get<AnalyticsDashboard>('/api/v1/analytics/dashboard', query);

/**
 * A living hospital through the platform's HTTP API, as its users would make it: staff, patients,
 * a day of appointments done and a week to come, the day's billing and claims, prescriptions and
 * fills. Analytics' dashboard answers the facility's date and time zone the staff work in.
 */
export async function seedHospital(as: Actors, now = Date.now()): Promise<HospitalReport> {
  const started = performance.now();
  const random = seededRandom(SEED);
  const today = await dashboardOf(as);
  const clinic = await openClinic(as, random, {
    timezone: today.timezone,
    today: today.from,
    patients: PATIENTS,
  });
  const visits = await runClinic(as, random, clinic, { now, past: PAST_BOOKINGS, future: FUTURE_BOOKINGS });
  const [revenue, dispensing] = await Promise.all([
    runRevenue(as, random, clinic, visits),
    runPharmacy(as, clinic, visits),
  ]);
  const appointments: Record<Outcome, number> = {
    completed: 0,
    'no-show': 0,
    'checked-in': 0,
    scheduled: 0,
    cancelled: 0,
  };
  for (const v of visits) appointments[v.outcome] += 1;
  // Analytics counts from events: give it a moment to catch up with the invoices just issued
  const invoicedToday = (d: AnalyticsDashboard) => d.invoiced.reduce((n, c) => n + c.count, 0);
  const dashboard = await waitFor(
    "today's dashboard",
    async () => {
      const d = await dashboardOf(as, { from: today.from });
      return invoicedToday(d) >= revenue.issued ? d : undefined;
    },
    15_000,
  ).catch(() => dashboardOf(as, { from: today.from }));
  return {
    staff: clinic.clinicians.length + 1,
    patients: clinic.patients.length,
    medications: clinic.formulary.length,
    appointments,
    revenue,
    dispensing,
    dashboard,
    seconds: (performance.now() - started) / 1000,
  };
}

function money(totals: readonly CurrencyTotal[]): string {
  if (totals.length === 0) return 'none';
  return totals
    .map((t) => {
      const format = new Intl.NumberFormat('en', { style: 'currency', currency: t.currency });
      const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
      return `${format.format(t.amount / 10 ** digits)} (${t.count})`;
    })
    .join(', ');
}

/** The report as the lines `npm run demo` prints. */
export function describeHospital(r: HospitalReport): string {
  const a = r.appointments;
  const d = r.dashboard;
  const c = r.revenue.claims;
  return [
    `Demo hospital (seeded in ${r.seconds.toFixed(1)} s): ${r.staff} staff, ${r.patients} patients, ${r.medications} medications in the formulary with their stock`,
    `  appointments: ${a.completed} completed, ${a['no-show']} no-show, ${a['checked-in']} checked in, ${a.scheduled} scheduled, ${a.cancelled} cancelled`,
    `  billing: ${r.revenue.issued} invoices issued, ${r.revenue.voided} voided (no-shows), ${r.revenue.deskPayments} payments at the desk;` +
      ` claims ${c.submitted} submitted, ${c.approved} approved (${c.paid} paid), ${c.denied} denied`,
    `  pharmacy: ${r.dispensing.prescribed} prescriptions, ${r.dispensing.filled} filled`,
    `Dashboard for ${d.from} (${d.timezone}): ${d.patientsRegistered} patients registered;` +
      ` appointments ${d.appointments.scheduled} scheduled, ${d.appointments.checkedIn} checked in, ${d.appointments.completed} completed,` +
      ` ${d.appointments.noShow} no-show, ${d.appointments.cancelled} cancelled; ${d.prescriptionsFilled} fills, ${d.stockAlerts} stock alerts;` +
      ` invoiced ${money(d.invoiced)}, paid ${money(d.paid)}, denied ${money(d.denied)}`,
  ].join('\n');
}
