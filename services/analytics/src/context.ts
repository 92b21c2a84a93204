import type { Clock, Db } from '@hms/platform';
import type { AnalyticsConfig } from './config.js';

/** What the use cases run with (the part of ServiceDeps they need). */
export interface AnalyticsContext {
  db: Db;
  clock: Clock;
  facility: { timezone: string };
  config: AnalyticsConfig;
}

/** Where Analytics' events come from (`/hms/analytics`). */
export const SOURCE = 'analytics';
