import type { AnalyticsDashboard } from '@hms/contracts';
import { authorize, invalid, type Caller } from '@hms/platform';
import type { AnalyticsContext } from './context.js';
import { dashboardOf } from './domain/dashboard.js';
import { facilityToday, resolveRange, type DayRange } from './domain/days.js';
import * as store from './store.js';

/** The facility's today, as the context's clock and zone say. */
export const today = (ctx: AnalyticsContext): string => facilityToday(ctx.clock.now(), ctx.facility.timezone);

/** The range `?from=&to=` asks for (defaults: today), or 400 naming the bad field. */
export function rangeOf(ctx: AnalyticsContext, query: { from?: string; to?: string }): DayRange {
  const { range, problems } = resolveRange(query, today(ctx));
  if (problems.length > 0) invalid(problems);
  return range;
}

/** The dashboard of a range, summed from the pre-aggregated daily totals. */
export async function dashboardFor(ctx: AnalyticsContext, range: DayRange): Promise<AnalyticsDashboard> {
  return dashboardOf(range, ctx.facility.timezone, await store.totalsBetween(ctx.db, range));
}

/** GET /analytics/dashboard. */
export async function getDashboard(
  ctx: AnalyticsContext,
  caller: Caller,
  query: { from?: string; to?: string },
): Promise<AnalyticsDashboard> {
  authorize(caller, 'analytics:read');
  return dashboardFor(ctx, rangeOf(ctx, query));
}
