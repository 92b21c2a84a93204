import { Type, type Static } from '@sinclair/typebox';
import { DateOnly, Timestamp, Uuid } from './common.js';

/**
 * Shapes of the Analytics service (DOMAIN.md "Analytics", issue #15), shared by the API and the
 * events. Nothing here carries PHI: counts, amounts, codes, ids and instants only. Days are the
 * facility's (`FACILITY_TIMEZONE`), `YYYY-MM-DD`; money is integer minor units per ISO 4217
 * currency, never summed across currencies.
 */

const Count = (description: string) => Type.Integer({ minimum: 0, description });
const Rate = (description: string) =>
  Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], {
    description: `${description}; null when the denominator is 0`,
  });

/** Money of one currency: how many and how much (integer minor units). */
export const CurrencyTotal = Type.Object(
  {
    currency: Type.String({ pattern: '^[A-Z]{3}$' }),
    count: Count('how many'),
    amount: Type.Integer({ minimum: 0, description: 'sum, integer minor units' }),
  },
  { additionalProperties: false },
);
export type CurrencyTotal = Static<typeof CurrencyTotal>;

/** The KPIs over a range of facility days (`GET /analytics/dashboard`). */
export const AnalyticsDashboard = Type.Object(
  {
    from: DateOnly,
    to: DateOnly,
    timezone: Type.String({ description: 'the facility time zone the days are in' }),
    patientsRegistered: Count('patients registered on these days'),
    appointments: Type.Object(
      {
        scheduled: Count('appointments starting on these days, by their current status'),
        checkedIn: Count('checked in'),
        completed: Count('completed'),
        cancelled: Count('cancelled (in no denominator)'),
        noShow: Count('marked no-show'),
      },
      { additionalProperties: false },
    ),
    noShowRate: Rate('no-shows / (completed + no-shows)'),
    prescriptionsFilled: Count('completed fills of prescriptions'),
    stockAlerts: Count('inventory.stock-low.v1 crossings'),
    invoiced: Type.Array(CurrencyTotal, { description: 'invoices issued on these days, per currency' }),
    paid: Type.Array(CurrencyTotal, { description: 'payments recorded on these days, per currency' }),
    denied: Type.Array(CurrencyTotal, {
      description: 'claims denied on these days and their claimed amounts, per currency',
    }),
    claims: Type.Object(
      {
        approved: Count('claims approved (paid ones included) on these days'),
        denied: Count('claims denied on these days'),
        adjudicated: Count('approved + denied'),
      },
      { additionalProperties: false },
    ),
    claimDenialRate: Rate('denied / adjudicated'),
  },
  { additionalProperties: false, $id: 'AnalyticsDashboard' },
);
export type AnalyticsDashboard = Static<typeof AnalyticsDashboard>;

/** `?from=&to=`: facility dates, both included. */
export const DayRangeQuery = {
  from: Type.Optional(Type.String({ format: 'date', description: "first facility day; default: today's" })),
  to: Type.Optional(
    Type.String({ format: 'date', description: 'last facility day (≥ from); default: from' }),
  ),
};

export const ANALYTICS_REPORT_TYPES = ['daily', 'billing', 'denials'] as const;
export type AnalyticsReportType = (typeof ANALYTICS_REPORT_TYPES)[number];
export const AnalyticsReportTypeSchema = Type.Union(
  ANALYTICS_REPORT_TYPES.map((t) => Type.Literal(t)),
  {
    description:
      'daily: one row per facility day (registrations, appointments by status, no-show rate, fills, stock alerts); billing: per day and currency (invoiced, paid, claims approved and denied, denied amount, denial rate); denials: per denial code and currency over the range',
  },
);

export const ReportFormat = Type.Union([Type.Literal('json'), Type.Literal('csv')], { default: 'json' });
export type ReportFormat = Static<typeof ReportFormat>;

const Cell = Type.Union([Type.String(), Type.Number(), Type.Null()]);

/** A report as JSON: its columns, and one row per line in column order. */
export const AnalyticsReport = Type.Object(
  {
    type: AnalyticsReportTypeSchema,
    from: DateOnly,
    to: DateOnly,
    timezone: Type.String(),
    columns: Type.Array(Type.String()),
    rows: Type.Array(Type.Array(Cell)),
  },
  { additionalProperties: false, $id: 'AnalyticsReport' },
);
export type AnalyticsReport = Static<typeof AnalyticsReport>;

/** One event Analytics recorded: what, about which ids, when (never a name or a body). */
export const AnalyticsEvent = Type.Object(
  {
    id: Uuid,
    type: Type.String(),
    subject: Type.String(),
    time: Timestamp,
    ids: Type.Record(Type.String(), Type.String(), {
      description: 'the ids the event is about (appointmentId, invoiceId, fillId…)',
    }),
  },
  { additionalProperties: false },
);
export type AnalyticsEvent = Static<typeof AnalyticsEvent>;

export const REBUILD_STATES = ['pending', 'completed'] as const;

/** A rebuild of the read models from the kept events (`POST /analytics/rebuild`). */
export const AnalyticsRebuild = Type.Object(
  {
    id: Uuid,
    state: Type.Union(
      REBUILD_STATES.map((s) => Type.Literal(s)),
      { description: 'pending: queued or running (runs again after a crash); completed' },
    ),
    requestedBy: Type.String(),
    requestedAt: Timestamp,
    finishedAt: Type.Optional(Timestamp),
    events: Type.Optional(Type.Integer({ minimum: 0, description: 'kept events replayed' })),
  },
  { additionalProperties: false, $id: 'AnalyticsRebuild' },
);
export type AnalyticsRebuild = Static<typeof AnalyticsRebuild>;

// ---- events

export const AnalyticsDashboardUpdatedV1 = Type.Object(
  {
    dashboard: AnalyticsDashboard,
    asOf: Timestamp,
  },
  {
    additionalProperties: false,
    $id: 'analytics.dashboard-updated.v1',
    description: "the facility's today, as the dashboard shows it",
  },
);

export const AnalyticsReportGeneratedV1 = Type.Object(
  {
    reportType: AnalyticsReportTypeSchema,
    from: DateOnly,
    to: DateOnly,
    format: Type.Union([Type.Literal('json'), Type.Literal('csv')]),
    rows: Type.Integer({ minimum: 0 }),
    generatedBy: Type.String({ description: 'user id, or svc:<name>' }),
    generatedAt: Timestamp,
  },
  { additionalProperties: false, $id: 'analytics.report-generated.v1' },
);
