import type { AnalyticsReport, AnalyticsReportType, ReportFormat } from '@hms/contracts';
import { appendToOutbox, authorize, type Caller } from '@hms/platform';
import { SOURCE, type AnalyticsContext } from './context.js';
import { rangeOf } from './dashboard.js';
import { reportOf, toCsv } from './domain/reports.js';
import * as store from './store.js';

export interface ReportQuery {
  type: AnalyticsReportType;
  from?: string;
  to?: string;
  format?: ReportFormat;
}

/**
 * GET /analytics/reports: the report of a type over a range, as JSON or RFC 4180 CSV; its
 * generation is published (analytics.report-generated.v1: type, range, format, rows, who).
 */
export async function generateReport(
  ctx: AnalyticsContext,
  caller: Caller,
  query: ReportQuery,
): Promise<{ format: 'json'; report: AnalyticsReport } | { format: 'csv'; csv: string; filename: string }> {
  authorize(caller, 'analytics:read');
  const range = rangeOf(ctx, query);
  const format = query.format ?? 'json';
  const table = reportOf(query.type, range, await store.totalsByDay(ctx.db, range));
  await ctx.db.transaction((tx) =>
    appendToOutbox(tx, SOURCE, {
      type: 'analytics.report-generated.v1',
      subject: query.type,
      data: {
        reportType: query.type,
        ...range,
        format,
        rows: table.rows.length,
        generatedBy: caller.id,
        generatedAt: ctx.clock.now().toISOString(),
      },
    }),
  );
  if (format === 'csv')
    return { format, csv: toCsv(table), filename: `${query.type}-${range.from}-${range.to}.csv` };
  return { format, report: { type: query.type, ...range, timezone: ctx.facility.timezone, ...table } };
}
