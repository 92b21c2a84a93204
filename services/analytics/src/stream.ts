import { PassThrough } from 'node:stream';
import { authorize, type Caller } from '@hms/platform';
import type { AnalyticsContext } from './context.js';
import { dashboardFor, rangeOf } from './dashboard.js';
import type { DayRange } from './domain/days.js';

interface Subscriber {
  range: DayRange;
  body: PassThrough;
  /** The dashboard last sent (JSON), so that only a change is sent again. */
  last?: string;
  sent: number;
  timer: NodeJS.Timeout;
}

const rangeKey = (r: DayRange) => `${r.from}/${r.to}`;

/**
 * GET /analytics/stream: server-sent events of the dashboard, for the console. Each stream gets
 * the dashboard of its range at once and again whenever it changes (checked every
 * ANALYTICS_STREAM_INTERVAL_MS, one query per distinct range, only while streams are open), and a
 * comment line every ANALYTICS_STREAM_HEARTBEAT_MS so that the gateway (UPSTREAM_BODY_TIMEOUT_MS)
 * and proxies never take it for dead. A stream ends when its token expires or after
 * ANALYTICS_STREAM_MAX_MS (the client reconnects with a fresh token: a revoked user stops
 * receiving), when the client goes away, and when the service stops.
 */
export class DashboardStreams {
  private readonly open = new Set<Subscriber>();

  constructor(private readonly ctx: AnalyticsContext) {}

  /** Opens a stream for the caller; `expiresAt` is when their token expires (ms since the epoch). */
  subscribe(caller: Caller, query: { from?: string; to?: string }, expiresAt: number): PassThrough {
    authorize(caller, 'analytics:read');
    const range = rangeOf(this.ctx, query);
    const body = new PassThrough();
    const lifetime = Math.max(0, Math.min(this.ctx.config.ANALYTICS_STREAM_MAX_MS, expiresAt - Date.now()));
    const sub: Subscriber = { range, body, sent: 0, timer: setTimeout(() => this.end(sub), lifetime) };
    this.open.add(sub);
    body.once('close', () => this.forget(sub));
    body.write('retry: 5000\n\n');
    // should this first read fail, the next tick sends it (`last` is still unset)
    void this.push([sub]).catch(() => undefined);
    return body;
  }

  /** Sends each open stream its dashboard if it changed since the last one it was sent. */
  async tick(): Promise<void> {
    const byRange = new Map<string, Subscriber[]>();
    for (const s of this.open) byRange.set(rangeKey(s.range), [...(byRange.get(rangeKey(s.range)) ?? []), s]);
    for (const subs of byRange.values()) await this.push(subs);
  }

  heartbeat(): void {
    for (const s of this.open) s.body.write(': heartbeat\n\n');
  }

  /** Ends every stream (the service is stopping). */
  closeAll(): void {
    for (const s of [...this.open]) this.end(s);
  }

  private async push(subs: readonly Subscriber[]): Promise<void> {
    const first = subs[0];
    if (!first) return;
    const json = JSON.stringify(await dashboardFor(this.ctx, first.range));
    for (const s of subs) {
      if (s.last === json || !this.open.has(s)) continue;
      s.last = json;
      s.sent += 1;
      s.body.write(`id: ${s.sent}\nevent: dashboard\ndata: ${json}\n\n`);
    }
  }

  private end(sub: Subscriber): void {
    this.forget(sub);
    sub.body.end();
  }

  private forget(sub: Subscriber): void {
    clearTimeout(sub.timer);
    this.open.delete(sub);
  }
}
