import type { Logger } from 'pino';
import type { Db } from './db/types.js';

interface Job {
  name: string;
  intervalMs: number;
  fn: () => Promise<unknown>;
  exclusive: boolean;
  timer?: NodeJS.Timeout;
  running?: Promise<void>;
  again: boolean;
}

/**
 * The kit scheduler (DESIGN.md §6): periodic jobs that run on one replica at a time (PostgreSQL
 * advisory lock, taken without waiting: a replica that finds it held skips that round). Intervals
 * are configuration, so tests run fast; `trigger` runs a job soon instead of at its next tick.
 */
export class Scheduler {
  private readonly jobs = new Map<string, Job>();
  private started = false;
  private stopped = false;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
  ) {}

  every(
    name: string,
    intervalMs: number,
    fn: () => Promise<unknown>,
    opts: { exclusive?: boolean } = {},
  ): void {
    if (this.jobs.has(name)) throw new Error(`job ${name} already scheduled`);
    const job: Job = { name, intervalMs, fn, exclusive: opts.exclusive ?? true, again: false };
    this.jobs.set(name, job);
    if (this.started) this.schedule(job, 0);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    for (const job of this.jobs.values()) this.schedule(job, 0);
  }

  /** Runs the job after `delayMs` (or right after its current run). */
  trigger(name: string, delayMs = 0): void {
    const job = this.jobs.get(name);
    if (!job || !this.started || this.stopped) return;
    if (job.running) {
      job.again = true;
      return;
    }
    this.schedule(job, delayMs);
  }

  private schedule(job: Job, delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(job.timer);
    job.timer = setTimeout(() => void this.run(job), delayMs);
  }

  private async run(job: Job): Promise<void> {
    job.timer = undefined;
    job.again = false;
    job.running = (async () => {
      try {
        if (job.exclusive) await this.db.withLock(`job:${job.name}`, () => job.fn(), { wait: false });
        else await job.fn();
      } catch (err) {
        this.logger.warn({ err, job: job.name }, 'scheduled job failed');
      }
    })();
    await job.running;
    job.running = undefined;
    this.schedule(job, job.again ? 0 : job.intervalMs);
  }

  /** Stops scheduling and waits for runs in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const job of this.jobs.values()) clearTimeout(job.timer);
    await Promise.all([...this.jobs.values()].map((j) => j.running ?? Promise.resolve()));
  }
}
