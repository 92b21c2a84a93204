import { Type, type Static } from '@sinclair/typebox';
import { loadConfig } from '@hms/platform';

/** The Analytics service's own configuration keys (STYLE.md §9). */
export const AnalyticsConfig = Type.Object({
  ANALYTICS_DASHBOARD_EVENT_MS: Type.Integer({
    minimum: 50,
    default: 10_000,
    description:
      "how often, at most, analytics.dashboard-updated.v1 goes out (when today's KPIs changed since the last one), ms",
  }),
  ANALYTICS_STREAM_INTERVAL_MS: Type.Integer({
    minimum: 50,
    default: 1000,
    description: 'how often open dashboard streams are checked for a change to push, ms',
  }),
  ANALYTICS_STREAM_HEARTBEAT_MS: Type.Integer({
    minimum: 50,
    default: 15_000,
    description:
      "a comment line on every open stream this often, ms: well inside the gateway's UPSTREAM_BODY_TIMEOUT_MS (30 s)",
  }),
  ANALYTICS_STREAM_MAX_MS: Type.Integer({
    minimum: 100,
    default: 900_000,
    description:
      'longest life of a dashboard stream, ms (it also ends when its token expires); the client reconnects with a fresh token',
  }),
  ANALYTICS_REBUILD_JOB_MS: Type.Integer({
    minimum: 50,
    default: 30_000,
    description:
      'how often the rebuild job looks for pending rebuilds (a request also starts it at once), ms',
  }),
  ANALYTICS_REBUILD_BATCH: Type.Integer({
    minimum: 1,
    maximum: 100_000,
    default: 10_000,
    description: 'kept events a rebuild applies per statement batch',
  }),
});
export type AnalyticsConfig = Static<typeof AnalyticsConfig>;

export const analyticsConfig = (env: NodeJS.ProcessEnv): AnalyticsConfig => loadConfig(AnalyticsConfig, env);
