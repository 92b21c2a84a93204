import { readMigrations, type ServiceDeps, type ServiceModule } from '@hms/platform';
import { analyticsConfig } from './config.js';
import type { AnalyticsContext } from './context.js';
import { AnalyticsErrors } from './errors.js';
import { analyticsConsumers } from './events.js';
import { publishDashboardIfChanged } from './publish.js';
import { REBUILD_JOB, runPendingRebuilds } from './rebuild.js';
import { analyticsRoutes } from './routes/analytics.js';
import { DashboardStreams } from './stream.js';

/** The Analytics service: KPIs and reports from every event, without PHI (DOMAIN.md "Analytics"). */
export const analyticsService: ServiceModule = {
  name: 'analytics',
  description:
    'KPIs per facility day from every event (order-independent, rebuildable, no PHI): dashboard, reports, recent events, a live stream',
  migrations: () => readMigrations(new URL('../migrations/', import.meta.url), 'analytics'),
  errors: AnalyticsErrors,
  tags: {
    analytics:
      'Key figures per facility day built from every event (no patient data): the dashboard, reports, the events recorded, a live stream and rebuilds of the read models.',
  },
  setup(app, deps) {
    const ctx = contextOf(deps);
    const { config } = ctx;
    const streams = new DashboardStreams(ctx);
    analyticsRoutes(app, ctx, streams, () => deps.scheduler.trigger(REBUILD_JOB));
    // open streams end first, so that closing the server does not wait for them
    app.addHook('preClose', async () => streams.closeAll());
    deps.scheduler.every(REBUILD_JOB, config.ANALYTICS_REBUILD_JOB_MS, () => runPendingRebuilds(ctx));
    deps.scheduler.every('analytics-dashboard-event', config.ANALYTICS_DASHBOARD_EVENT_MS, () =>
      publishDashboardIfChanged(ctx),
    );
    // every replica serves its own streams
    deps.scheduler.every('analytics-stream', config.ANALYTICS_STREAM_INTERVAL_MS, () => streams.tick(), {
      exclusive: false,
    });
    deps.scheduler.every(
      'analytics-stream-heartbeat',
      config.ANALYTICS_STREAM_HEARTBEAT_MS,
      async () => streams.heartbeat(),
      { exclusive: false },
    );
  },
  consumers: (deps) => analyticsConsumers(contextOf(deps)),
};

/** One context per running service (setup and consumers are handed the same deps). */
const made = new WeakMap<object, AnalyticsContext>();
function contextOf(deps: ServiceDeps): AnalyticsContext {
  let ctx = made.get(deps);
  if (!ctx) {
    ctx = { db: deps.db, clock: deps.clock, facility: deps.facility, config: analyticsConfig(deps.env) };
    made.set(deps, ctx);
  }
  return ctx;
}

/** What Analytics keeps of an event: for tools that load kept events in bulk (bench/analytics). */
export { keptEventOf } from './domain/facts.js';
