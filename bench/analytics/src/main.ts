/**
 * Analytics benchmark (issue #15), against the local PostgreSQL and RabbitMQ (and Redis, which the
 * service process uses as cluster mode does), with the Analytics service in a process of its own
 * on its production settings (runBenchChild: PostgresDb pool at the default DB_POOL_MAX, RabbitMQ
 * with the default prefetch, the outbox relay, real ES256 tokens, JSON logs at info to
 * bench/results/analytics-bench.log), FACILITY_TIMEZONE America/New_York.
 *
 *   (1) Seed: --events kept events (default 1,000,000) over the last 365 days (registrations,
 *       appointments booked then completed / no-show / cancelled, fills, stock alerts, invoices
 *       with payments, claims approved or denied) are written straight into Analytics' kept-events
 *       table in batches (each built by the service's own `keptEventOf`), then POST
 *       /api/v1/analytics/rebuild applies them all through the consumers' code path (`applyFacts`)
 *       into the per-day read model. The whole year's dashboard must then show the totals counted
 *       while generating (checked and reported).
 *   (2) Dashboard latency, closed loop: --requests GET /api/v1/analytics/dashboard each for a
 *       range of 1 day (today), 30 days and 366 days, --concurrency at a time. Target p95 ≤ 50 ms.
 *   (3) Freshness: patient.registered.v1 events published on RabbitMQ (publisher confirms) at
 *       --rate per second, open loop, for --seconds, each registered on one facility day set
 *       apart for it; a poller reads that day's dashboard every --poll-ms. An event's freshness
 *       runs from its publish being confirmed (committed at the broker, as the producer's relay
 *       sees it) to the first poll whose count includes it (count ≥ its rank: events are applied
 *       in about the order sent, so this is the n-th event to become visible). Target p95 ≤ 2 s
 *       at 500/s.
 *
 * Prints every figure with the load average before and after each phase; writes
 * bench/results/analytics-<time>.json. The database (hms_bench_analytics) is created afresh.
 *
 *   npm run bench:analytics -- [--events 1000000] [--requests 2000] [--concurrency 4]
 *                              [--rate 500] [--seconds 20] [--poll-ms 20]
 *
 * Infrastructure: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres),
 * BENCH_AMQP_URL (amqp://guest:guest@127.0.0.1:5672), BENCH_REDIS_URL (redis://127.0.0.1:6379).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { keptEventOf } from '@hms/analytics';
import type { AnalyticsDashboard, AnalyticsRebuild, Patient } from '@hms/contracts';
import { buildEnvelope, createLogger, RabbitBus } from '@hms/platform';
import {
  closedLoop,
  createTestKeys,
  intArg,
  openLoop,
  percentile,
  summarize,
  type BenchChildConfig,
  type FromBenchChild,
} from '@hms/testkit';
import { exportJWK } from 'jose';
import pg from 'pg';
import { Pool } from 'undici';
import { yearOfEvents, type Expected } from './seed.js';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    requests: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '4' },
    rate: { type: 'string', default: '500' },
    seconds: { type: 'string', default: '20' },
    'poll-ms': { type: 'string', default: '20' },
  },
});
const EVENTS = intArg('events', args.events, 1, 10_000_000);
const REQUESTS = intArg('requests', args.requests, 1, 1_000_000);
const CONCURRENCY = intArg('concurrency', args.concurrency, 1, 256);
const RATE = intArg('rate', args.rate, 1, 100_000);
const SECONDS = intArg('seconds', args.seconds, 1, 3600);
const POLL_MS = intArg('poll-ms', args['poll-ms'], 1, 10_000);

const PG_SERVER = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const AMQP_URL = process.env.BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const DB_NAME = 'hms_bench_analytics';
const ZONE = 'America/New_York';
const RESULTS_DIR = new URL('../../results/', import.meta.url);
const ANALYTICS = '/api/v1/analytics';
/** The facility day the freshness events are registered on: no seeded event is on it. */
const FRESH_DAY = '2031-06-15';
const BATCH = 5000;
const TARGET = { dashboardP95Ms: 50, freshnessP95Ms: 2000 };

mkdirSync(RESULTS_DIR, { recursive: true });
const load = () => loadavg().map((l) => Math.round(l * 100) / 100);
const out = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (n: number) => Math.round(n * 10) / 10;
const facilityDate = (d: Date) => d.toLocaleDateString('en-CA', { timeZone: ZONE });
out(
  `analytics bench: ${EVENTS} events, ${REQUESTS} dashboard requests per range at concurrency ${CONCURRENCY}, ` +
    `freshness at ${RATE}/s for ${SECONDS} s; ${cpus().length} CPUs, load average ${load().join(' ')}`,
);

// ---- infrastructure and the service process

const server = new pg.Client({ connectionString: PG_SERVER });
await server.connect();
await server.query(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
await server.query(`CREATE DATABASE ${DB_NAME}`);
await server.end();
const dbUrl = Object.assign(new URL(PG_SERVER), { pathname: `/${DB_NAME}` }).toString();

const keys = await createTestKeys();
const tokens = {
  manager: await keys.mint({ roles: ['manager'], expiresInSec: 3600 }),
  admin: await keys.mint({ roles: ['admin'], expiresInSec: 3600 }),
};
const runId = randomBytes(4).toString('hex');
const namespace = `hms-bench-analytics-${runId}`;
const config: BenchChildConfig = {
  role: 'analytics',
  databaseUrl: dbUrl,
  amqpUrl: AMQP_URL,
  amqpNamespace: namespace,
  redisUrl: REDIS_URL,
  redisPrefix: `hms-bench-analytics:${runId}:`,
  jwksUrl: keys.jwksUrl,
  signingKey: { jwk: { ...(await exportJWK(keys.privateKey)) }, kid: keys.kid },
  env: { FACILITY_TIMEZONE: ZONE },
  logFile: fileURLToPath(new URL('analytics-bench.log', RESULTS_DIR)),
};
writeFileSync(config.logFile, '');
const child: ChildProcess = fork(
  fileURLToPath(new URL('./child.js', import.meta.url)),
  [JSON.stringify(config)],
  {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  },
);
const url = await new Promise<string>((resolve, reject) => {
  child.once('exit', (code) => reject(new Error(`analytics exited with ${code} before it was ready`)));
  child.on('message', (m: FromBenchChild) => {
    if (m.kind === 'ready') resolve(m.url);
  });
});
const http = new Pool(url, { connections: CONCURRENCY + 2, keepAliveTimeout: 60_000 });
const monitor = new pg.Client({ connectionString: dbUrl, application_name: 'hms-bench-monitor' });
await monitor.connect();

async function get<T>(path: string, token: string): Promise<T> {
  const res = await http.request({ method: 'GET', path, headers: { authorization: `Bearer ${token}` } });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`GET ${path}: ${res.statusCode} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}
const dashboard = (from: string, to: string) =>
  get<AnalyticsDashboard>(`${ANALYTICS}/dashboard?from=${from}&to=${to}`, tokens.manager);

const results: Record<string, unknown> = { events: EVENTS, zone: ZONE, cpus: cpus().length };
try {
  // ---- (1) seed the kept events, then rebuild the read models from them

  const now = new Date();
  const expected: Expected = {
    patients: 0,
    appointments: { scheduled: 0, completed: 0, cancelled: 0, 'no-show': 0 },
    fills: 0,
    stockAlerts: 0,
    invoiced: 0,
    paid: 0,
    approved: 0,
    denied: 0,
  };
  const loadSeed = load();
  const tSeed = performance.now();
  let batch: ReturnType<typeof keptEventOf>[] = [];
  const flush = async () => {
    const kept = batch.filter((e) => e !== undefined);
    batch = [];
    await monitor.query(
      `INSERT INTO analytics.events (id, type, subject, event_time, ids, facts, recorded_at)
       SELECT e.id, e.type, e.subject, e.t, e.ids::jsonb, e.facts::jsonb, now()
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[])
              AS e(id, type, subject, t, ids, facts)`,
      [
        kept.map((e) => e.id),
        kept.map((e) => e.type),
        kept.map((e) => e.subject),
        kept.map((e) => e.time),
        kept.map((e) => JSON.stringify(e.ids)),
        kept.map((e) => JSON.stringify(e.facts)),
      ],
    );
  };
  for (const e of yearOfEvents(EVENTS, now, 365, expected)) {
    batch.push(keptEventOf(e));
    if (batch.length === BATCH) await flush();
  }
  if (batch.length > 0) await flush();
  const seedSeconds = (performance.now() - tSeed) / 1000;
  out(
    `seeded ${EVENTS} kept events in ${seedSeconds.toFixed(1)} s (load ${loadSeed.join(' ')} → ${load().join(' ')})`,
  );

  const loadRebuild = load();
  const tRebuild = performance.now();
  const asked = await http.request({
    method: 'POST',
    path: `${ANALYTICS}/rebuild`,
    headers: { authorization: `Bearer ${tokens.admin}` },
  });
  const rebuild = (await asked.body.json()) as AnalyticsRebuild;
  if (asked.statusCode !== 202) throw new Error(`rebuild: ${asked.statusCode} ${JSON.stringify(rebuild)}`);
  let done: AnalyticsRebuild | undefined;
  while (!done) {
    await sleep(500);
    const r = await get<AnalyticsRebuild>(`${ANALYTICS}/rebuild/${rebuild.id}`, tokens.admin);
    if (r.state === 'completed') done = r;
    if (performance.now() - tRebuild > 3_600_000)
      throw new Error('the rebuild did not complete within an hour');
  }
  const rebuildSeconds = (performance.now() - tRebuild) / 1000;
  const { rows: sizes } = await monitor.query<{ totals: number; aggregates: number }>(
    `SELECT (SELECT count(*) FROM analytics.daily_totals)::int AS totals,
            (SELECT count(*) FROM analytics.aggregates)::int AS aggregates`,
  );
  out(
    `rebuilt from ${done.events ?? 0} kept events in ${rebuildSeconds.toFixed(1)} s: ${sizes[0]?.aggregates} aggregates, ` +
      `${sizes[0]?.totals} daily_totals rows (load ${loadRebuild.join(' ')} → ${load().join(' ')})`,
  );

  const today = facilityDate(now);
  const yearAgo = facilityDate(new Date(now.getTime() - 365 * 86_400_000));
  const year = await dashboard(yearAgo, today);
  const usd = (xs: AnalyticsDashboard['paid']) => xs.find((x) => x.currency === 'USD')?.amount ?? 0;
  const shown = {
    patients: year.patientsRegistered,
    appointments: {
      scheduled: year.appointments.scheduled,
      completed: year.appointments.completed,
      cancelled: year.appointments.cancelled,
      'no-show': year.appointments.noShow,
    },
    fills: year.prescriptionsFilled,
    stockAlerts: year.stockAlerts,
    invoiced: usd(year.invoiced),
    paid: usd(year.paid),
    approved: year.claims.approved,
    denied: year.claims.denied,
  };
  const matches = JSON.stringify(shown) === JSON.stringify(expected);
  out(
    `the year's dashboard ${matches ? 'equals' : 'DIFFERS FROM'} the totals counted while generating: ${JSON.stringify(shown)}`,
  );
  if (!matches) out(`expected: ${JSON.stringify(expected)}`);
  Object.assign(results, {
    seedSeconds,
    rebuildSeconds,
    rebuiltEvents: done.events,
    sizes: sizes[0],
    matches,
  });

  // ---- (2) dashboard latency

  const thirtyDaysAgo = facilityDate(new Date(now.getTime() - 29 * 86_400_000));
  const dashboards: Record<string, unknown> = {};
  for (const [label, from] of [
    ['1 day', today],
    ['30 days', thirtyDaysAgo],
    ['366 days', yearAgo],
  ] as const) {
    const before = load();
    await closedLoop(100, CONCURRENCY, 60_000, async () => (await dashboard(from, today), 1)); // warm-up
    const stats = summarize(
      await closedLoop(REQUESTS, CONCURRENCY, 600_000, async () => (await dashboard(from, today), 1)),
    );
    const after = load();
    dashboards[label] = { ...stats, loadBefore: before, loadAfter: after };
    out(
      `dashboard ${label}: ${stats.requests} requests, p50 ${round(stats.p50)} ms, p95 ${round(stats.p95)} ms, ` +
        `p99 ${round(stats.p99)} ms, max ${round(stats.max)} ms, ${round(stats.reqPerSec)} req/s ` +
        `(load ${before.join(' ')} → ${after.join(' ')}; target p95 ≤ ${TARGET.dashboardP95Ms} ms)`,
    );
  }
  results.dashboard = dashboards;

  // ---- (3) freshness at a fixed offered rate

  const bus = await RabbitBus.connect({ url: AMQP_URL, logger: createLogger('bench', 'warn'), namespace });
  const registeredAt = new Date(`${FRESH_DAY}T16:00:00.000Z`).toISOString();
  const committedAt: number[] = [];
  const seen: { at: number; count: number }[] = [];
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const t0 = performance.now();
      const d = await dashboard(FRESH_DAY, FRESH_DAY);
      seen.push({ at: performance.now(), count: d.patientsRegistered });
      await sleep(Math.max(0, POLL_MS - (performance.now() - t0)));
    }
  })();
  const before = load();
  const run = await openLoop(RATE, SECONDS, async (i) => {
    const id = randomUUID();
    const patient: Patient = {
      id,
      mrn: `MRN-${i}`,
      givenName: 'Bench',
      familyName: 'Patient',
      birthDate: '1980-01-01',
      sex: 'unknown',
      allergies: [],
      conditions: [],
      status: 'active',
      version: 1,
      createdAt: registeredAt,
      updatedAt: registeredAt,
    };
    await bus.publish([
      buildEnvelope('patient', { type: 'patient.registered.v1', subject: id, data: { patient } }),
    ]);
    committedAt.push(performance.now());
  });
  const deadline = performance.now() + 120_000;
  while ((seen.at(-1)?.count ?? 0) < committedAt.length && performance.now() < deadline) await sleep(50);
  polling = false;
  await poller;
  await bus.close();
  const after = load();
  // the k-th confirmed event is visible at the first poll that counts k events or more
  const fresh: number[] = [];
  let p = 0;
  committedAt.sort((a, b) => a - b);
  for (const [k, committed] of committedAt.entries()) {
    while (p < seen.length && (seen[p]?.count ?? 0) < k + 1) p++;
    const visible = seen[p];
    if (visible) fresh.push(Math.max(0, visible.at - committed));
  }
  // the first and the last quarter apart: a lag that grows across the run is a consumer that
  // does not keep up with the rate, a steady one is latency
  const quarter = Math.floor(fresh.length / 4);
  const median = (xs: number[]) =>
    round(
      percentile(
        [...xs].sort((a, b) => a - b),
        50,
      ),
    );
  const firstQuarterP50 = median(fresh.slice(0, quarter));
  const lastQuarterP50 = median(fresh.slice(-quarter));
  fresh.sort((a, b) => a - b);
  const freshness = {
    firstQuarterP50,
    lastQuarterP50,
    offered: run.offered,
    published: committedAt.length,
    publishFailures: run.failures,
    visible: fresh.length,
    achievedRate: round(run.achievedRate),
    sendLagP99: round(run.sendLagP99),
    p50: round(percentile(fresh, 50)),
    p95: round(percentile(fresh, 95)),
    p99: round(percentile(fresh, 99)),
    max: round(fresh.at(-1) ?? NaN),
    polls: seen.length,
    loadBefore: before,
    loadAfter: after,
  };
  results.freshness = freshness;
  out(
    `freshness at ${RATE}/s for ${SECONDS} s: ${freshness.published} published (${freshness.publishFailures} failed), ` +
      `${freshness.visible} seen on the dashboard; p50 ${freshness.p50} ms, p95 ${freshness.p95} ms, ` +
      `p99 ${freshness.p99} ms, max ${freshness.max} ms over ${freshness.polls} polls; p50 of the first quarter ` +
      `${firstQuarterP50} ms, of the last ${lastQuarterP50} ms ` +
      `(load ${before.join(' ')} → ${after.join(' ')}; target p95 ≤ ${TARGET.freshnessP95Ms} ms)`,
  );
  const file = new URL(`analytics-${new Date().toISOString().replace(/[:.]/g, '-')}.json`, RESULTS_DIR);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  out(`wrote ${fileURLToPath(file)}`);
} finally {
  await http.close();
  await monitor.end();
  if (child.exitCode === null && child.connected) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.send({ kind: 'stop' });
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
}
