import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, Scheduler, type Db } from '@hms/platform';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { QUIET_MS, serviceDatabase, waitFor, within } from './events.fixtures.js';
import { deferred } from './helpers.js';

/**
 * The kit scheduler (DESIGN.md §6) on a real database: with TEST_DATABASE_URL two replicas are two
 * PostgresDb pools on one PostgreSQL database, excluded by an advisory lock; embedded, every
 * service of the process shares one PGlite and its in-process lock.
 */
const logger = createLogger('scheduler-test', process.env.TEST_LOG_LEVEL ?? 'silent');
let database: Awaited<ReturnType<typeof serviceDatabase>>;
const schedulers: Scheduler[] = [];

beforeAll(async () => {
  database = await serviceDatabase('jobs');
});
afterAll(async () => {
  await database?.close();
});
afterEach(async () => {
  while (schedulers.length > 0) await schedulers.pop()?.stop();
});

function scheduler(db: Db = database.db): Scheduler {
  const s = new Scheduler(db, logger);
  schedulers.push(s);
  return s;
}

interface Run {
  replica: number;
  start: number;
  end: number;
}

/** Runs of one job on several replicas; `overlaps` counts pairs of runs that were in progress together. */
function runRecorder() {
  const runs: Run[] = [];
  let active = 0;
  let maxActive = 0;
  return {
    runs,
    maxActive: () => maxActive,
    job: (replica: number) => async () => {
      active += 1;
      maxActive = Math.max(maxActive, active);
      const start = performance.now();
      await sleep(20);
      runs.push({ replica, start, end: performance.now() });
      active -= 1;
    },
    overlaps: () => {
      const sorted = [...runs].sort((a, b) => a.start - b.start);
      return sorted.filter((r, i) => i > 0 && r.start < (sorted[i - 1]?.end ?? 0)).length;
    },
  };
}

describe('Scheduler', () => {
  test('runs a job periodically, and no more once stopped', async () => {
    let runs = 0;
    const s = scheduler();
    s.every('tick', 30, async () => {
      runs += 1;
    });
    s.start();
    await waitFor('three runs', () => runs >= 3);
    await s.stop();
    const atStop = runs;
    await sleep(QUIET_MS);
    expect(runs).toBe(atStop);
  });

  test('an exclusive job never runs on two replicas at once; a non-exclusive one does', async () => {
    // two replicas of one service: two pools on the same database
    const dbs = [database.db, database.replica()];
    const exclusive = runRecorder();
    const shared = runRecorder();
    dbs.forEach((db, replica) => {
      const s = scheduler(db);
      s.every('exclusive-job', 5, exclusive.job(replica));
      s.every('shared-job', 5, shared.job(replica), { exclusive: false });
      s.start();
    });
    await waitFor(
      'both replicas to run the exclusive job, 30 runs in all',
      () => exclusive.runs.length >= 30 && new Set(exclusive.runs.map((r) => r.replica)).size === 2,
      20_000,
    );
    await Promise.all(schedulers.splice(0).map((s) => s.stop()));
    expect(exclusive.maxActive()).toBe(1);
    expect(exclusive.overlaps()).toBe(0);
    // the recorder does see overlapping runs when nothing excludes them
    expect(shared.maxActive()).toBe(2);
    expect(shared.overlaps()).toBeGreaterThan(0);
  });

  test('trigger runs a job soon instead of at its next tick, and again after a run in progress', async () => {
    let runs = 0;
    const gate = deferred();
    let gated = false;
    const s = scheduler();
    s.every('rare', 600_000, async () => {
      runs += 1;
      if (gated) await gate.promise;
    });
    s.start();
    await waitFor('the first run, at start', () => runs === 1);
    await sleep(50);
    s.trigger('rare');
    await waitFor('the triggered run', () => runs === 2);

    gated = true;
    s.trigger('rare');
    await waitFor('a third run to be in progress', () => runs === 3);
    s.trigger('rare'); // while it runs: it runs again right after
    s.trigger('rare'); // coalesced with the previous one
    await sleep(QUIET_MS);
    expect(runs).toBe(3);
    gate.resolve();
    await waitFor('the run requested during the previous one', () => runs === 4);
    await sleep(QUIET_MS);
    expect(runs).toBe(4);
  });

  test('stop waits for a running job and runs nothing afterwards', async () => {
    const entered = deferred();
    const release = deferred();
    let finished = false;
    let runs = 0;
    const s = scheduler();
    s.every('long', 10, async () => {
      runs += 1;
      entered.resolve();
      await release.promise;
      finished = true;
    });
    s.start();
    await within('the job to start', entered.promise);
    let stopped = false;
    const stopping = s.stop().then(() => {
      stopped = true;
    });
    await sleep(QUIET_MS);
    expect(stopped).toBe(false);
    release.resolve();
    await within('stop to resolve', stopping);
    expect(finished).toBe(true);
    s.trigger('long');
    await sleep(QUIET_MS);
    expect(runs).toBe(1);
  });
});
