import { isDeepStrictEqual } from 'node:util';
import { appendToOutbox } from '@hms/platform';
import { SOURCE, type AnalyticsContext } from './context.js';
import { dashboardFor, today } from './dashboard.js';
import * as store from './store.js';

/**
 * The job behind analytics.dashboard-updated.v1, every ANALYTICS_DASHBOARD_EVENT_MS on one
 * replica: today's dashboard goes out when it differs from the one last published. However many
 * events arrive in an interval, at most one update is published for it (coalesced).
 */
export async function publishDashboardIfChanged(ctx: AnalyticsContext): Promise<void> {
  const day = today(ctx);
  const dashboard = await dashboardFor(ctx, { from: day, to: day });
  await ctx.db.transaction(async (tx) => {
    const last = await store.publishedDashboard(tx);
    if (last && isDeepStrictEqual(last, dashboard)) return;
    const now = ctx.clock.now();
    await appendToOutbox(tx, SOURCE, {
      type: 'analytics.dashboard-updated.v1',
      subject: day,
      data: { dashboard, asOf: now.toISOString() },
    });
    await store.setPublishedDashboard(tx, dashboard, now);
  });
}
