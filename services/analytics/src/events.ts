import type { EventConsumer } from '@hms/platform';
import { recordEvents } from './apply.js';
import type { AnalyticsContext } from './context.js';
import { CONSUMED_EVENTS, keptEventOf } from './domain/facts.js';

/**
 * What Analytics consumes: every event a KPI is made of. Each is kept (its facts, no PHI) and
 * applied to the read models in the inbox's transaction. (What it publishes goes to the outbox
 * from the report use case and the dashboard job.)
 */
export function analyticsConsumers(ctx: AnalyticsContext): EventConsumer[] {
  return [
    {
      types: CONSUMED_EVENTS,
      handle: async (tx, envelope) => {
        const kept = keptEventOf(envelope);
        if (kept) await recordEvents(tx, [kept], ctx.clock.now(), ctx.facility.timezone);
      },
    },
  ];
}
