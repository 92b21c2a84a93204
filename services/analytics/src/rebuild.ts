import type { AnalyticsRebuild } from '@hms/contracts';
import { authorize, uuidv7, type Caller } from '@hms/platform';
import { applyFacts } from './apply.js';
import { mergeDeltas, type Bucket } from './domain/buckets.js';
import type { AnalyticsContext } from './context.js';
import { AnalyticsErrors } from './errors.js';
import * as store from './store.js';

/** The scheduler job that runs pending rebuilds (one replica at a time). */
export const REBUILD_JOB = 'analytics-rebuild';

/**
 * POST /analytics/rebuild: queues a rebuild of the read models from the kept events and answers
 * it at once (202); the job runs it (`start`), and GET /analytics/rebuild/{id} tells when it is
 * completed. A million events take longer than a request may.
 */
export async function requestRebuild(
  ctx: AnalyticsContext,
  caller: Caller,
  start: () => void,
): Promise<AnalyticsRebuild> {
  authorize(caller, 'analytics:manage');
  const rebuild = await store.insertRebuild(ctx.db, uuidv7(), caller.id, ctx.clock.now());
  start();
  return rebuild;
}

export async function getRebuild(
  ctx: AnalyticsContext,
  caller: Caller,
  id: string,
): Promise<AnalyticsRebuild> {
  authorize(caller, 'analytics:manage');
  const rebuild = await store.getRebuild(ctx.db, id);
  if (!rebuild) throw AnalyticsErrors.rebuild_not_found();
  return rebuild;
}

/**
 * Runs every pending rebuild at once, in ONE transaction: the read models are cleared and every
 * kept event's facts applied again through `applyFacts`, the consumers' own path, in batches.
 * Consumers wait for it (behind `lockReadModels`, then apply on top of the rebuilt numbers);
 * dashboards keep answering the old numbers until it commits. A crash rolls it
 * back and leaves the requests pending, so the job runs them again.
 */
export async function runPendingRebuilds(ctx: AnalyticsContext): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const ids = await store.pendingRebuilds(tx);
    if (ids.length === 0) return;
    await store.lockReadModels(tx);
    await store.clearReadModels(tx);
    let after = 0;
    let replayed = 0;
    let totals: Bucket[] = [];
    const sum = async (deltas: Bucket[]) => {
      totals = mergeDeltas([...totals, ...deltas]);
    };
    for (;;) {
      const page = await store.keptFactsAfter(tx, after, ctx.config.ANALYTICS_REBUILD_BATCH);
      if (page.events === 0) break;
      await applyFacts(tx, page.facts, ctx.facility.timezone, sum);
      after = page.lastSeq;
      replayed += page.events;
    }
    await store.addToTotals(tx, totals);
    await store.completeRebuilds(tx, ids, ctx.clock.now(), replayed);
  });
}
