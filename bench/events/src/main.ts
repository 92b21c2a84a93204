/**
 * Event backbone benchmark (issue #3), in one run against the local RabbitMQ and PostgreSQL:
 *   (a) baseline: bare amqplib, publish with confirms to a durable queue, consume with acks;
 *   (b) full path: producer transaction (row + appendToOutbox, committed) → the runtime's outbox
 *       relay → RabbitBus → the consuming service's inboxHandler (effect + inbox row committed).
 * Each measured twice: throughput for N events from several concurrent producers, and latency
 * (commit-to-effect; publish-to-consume for the baseline) at a fixed offered rate.
 *
 *   npm run bench:events [-- --events N --producers P --pool N --rate R --seconds S ...]
 *
 * See docs/benchmarks.md for the recorded figures.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_PREFETCH } from '@hms/platform';
import { intArg } from '@hms/testkit';
import pg from 'pg';
import { RawPublisher } from './baseline.js';
import { ConsumerProcess } from './consumer-process.js';
import { backends, formatCpu, startCpu, type CpuPerEvent } from './cpu.js';
import { floor } from './floor.js';
import { databaseOnly } from './reference.js';
import { emitterService, startBenchService } from './services.js';
import { latencyOf, openLoop, wallMs, type Latency } from './stats.js';

const TARGET_EVENTS_PER_SEC = 3000;
const TARGET_P99_MS = 100;
/** The offered rate the issue's latency target is stated at. */
const TARGET_RATE = 1000;
const RESULTS_DIR = new URL('../../results/', import.meta.url);

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '20000' },
    // more producers on a larger pool commit fewer events per second on the reference machine
    // (CPU-bound, not fsync-bound: docs/benchmarks.md), so the defaults stay 8 on the kit's 10
    producers: { type: 'string', default: '8' },
    pool: { type: 'string', default: '10' },
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2000' },
    server: {
      type: 'string',
      default: process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    },
    amqp: { type: 'string', default: process.env.BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672' },
    profile: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (args.help) {
  process.stdout.write(`usage: npm run bench:events -- [options]
  --events N      events in each throughput phase (default 20000)
  --producers P   concurrent producers in the throughput phases (default 8)
  --pool N        the emitter service's DB_POOL_MAX, its request pool (default 10, the kit's
                  default); the relay has a connection of its own either way
  --rate R        offered rate of the latency phases, events/s (default 1000)
  --seconds S     length of the latency phases (default 10)
  --warmup W      events sent, not measured, before each side (default 2000)
  --server URL    PostgreSQL server, loopback only (default postgres://postgres@127.0.0.1:5432/postgres, or BENCH_PG_URL)
  --amqp URL      RabbitMQ, loopback only (default amqp://guest:guest@127.0.0.1:5672, or BENCH_AMQP_URL)
  --profile       CPU-profile the consumer processes into bench/results/profiles (run the bench
                  process itself under node --cpu-prof to profile the producing side)
`);
  process.exit(0);
}

const cfg = {
  events: intArg('events', args.events, 100, 10_000_000),
  producers: intArg('producers', args.producers, 1, 1024),
  pool: intArg('pool', args.pool, 1, 200),
  rate: intArg('rate', args.rate, 1, 100_000),
  seconds: intArg('seconds', args.seconds, 1, 3600),
  warmup: intArg('warmup', args.warmup, 0, 1_000_000),
  server: args.server,
  amqp: args.amqp,
};
for (const url of [cfg.server, cfg.amqp]) {
  const host = new URL(url).hostname;
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(host))
    throw new Error(`the benchmark only targets loopback servers, not ${host}`);
}
const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(v < 10 ? 2 : 1) : '-');
const log = (line: string) => process.stdout.write(`${line}\n`);
/** Generous bound on waiting for a phase's events: never a measurement, only a hang guard. */
const boundMs = (n: number) => 60_000 + n * 20;

mkdirSync(RESULTS_DIR, { recursive: true });
const profileDir = new URL('profiles/', RESULTS_DIR).pathname;
const execArgv = args.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
const run = randomBytes(4).toString('hex');
// the box may be shared: its load before and after the run goes with the figures
const loadBefore = loadavg()
  .map((l) => l.toFixed(2))
  .join(' ');

// -------------------------------------------------------------------------------------------
// Databases: one per service, as in cluster mode, recreated empty for each run
// -------------------------------------------------------------------------------------------
async function freshDatabase(name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: cfg.server });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(cfg.server);
  url.pathname = `/${name}`;
  return url.toString();
}

const envClient = new pg.Client({ connectionString: cfg.server });
await envClient.connect();
const pgEnv = await envClient.query<{ version: string; settings: Record<string, string> }>(
  `SELECT current_setting('server_version') AS version,
          (SELECT jsonb_object_agg(name, setting || coalesce(unit, '')) FROM pg_settings
            WHERE name IN ('synchronous_commit', 'fsync', 'wal_sync_method', 'shared_buffers',
                           'max_connections', 'commit_delay')) AS settings`,
);
await envClient.end();
const EMITTER_DB = 'hms_bench_events_emitter';
const RECEIVER_DB = 'hms_bench_events_receiver';
const emitterUrl = await freshDatabase(EMITTER_DB);
const receiverUrl = await freshDatabase(RECEIVER_DB);

// -------------------------------------------------------------------------------------------
// (a) Baseline: bare amqplib
// -------------------------------------------------------------------------------------------
interface Side {
  throughput: {
    events: number;
    seconds: number;
    eventsPerSec: number;
    publishedPerSec: number;
    /** CPU per event of each process of the path during the throughput phase (/proc). */
    cpu?: CpuPerEvent;
  };
  latency: Latency & { offered: number; achievedRate: number; failedCommits?: Record<string, number> };
}

async function baseline(): Promise<{ side: Side; broker: string }> {
  const queue = `bench_${run}.baseline`;
  const consumer = await ConsumerProcess.start(
    { mode: 'baseline', amqpUrl: cfg.amqp, databaseUrl: '', namespace: queue, logFile: '' },
    execArgv,
  );
  const pub = await RawPublisher.open(cfg.amqp, queue);
  const burst = async (n: number) => {
    const messages = RawPublisher.messages(n);
    const cpu = startCpu({ 'publisher process': [process.pid], 'consumer process': [consumer.pid] });
    const t0 = wallMs();
    const confirms: Promise<void>[] = [];
    for (const [id, body] of messages) confirms.push((await pub.send(id, body)).confirmed);
    await Promise.all(confirms);
    const confirmedAt = wallMs();
    await consumer.reached(n, boundMs(n));
    const used = cpu.stop(n);
    const done = await consumer.collect();
    return { t0, confirmedAt, end: Math.max(...done.values()), cpu: used };
  };
  log('baseline: warm-up');
  if (cfg.warmup > 0) await burst(cfg.warmup);
  log(`baseline: throughput, ${cfg.events} events`);
  const t = await burst(cfg.events);
  log(`baseline: latency at ${cfg.rate}/s for ${cfg.seconds} s`);
  const total = cfg.rate * cfg.seconds;
  const messages = RawPublisher.messages(total);
  const sentAt = new Map<string, number>();
  const confirms: Promise<void>[] = [];
  const started = wallMs();
  await openLoop(cfg.rate, cfg.seconds, (i) => {
    const [id, body] = messages[i] as [string, Buffer];
    sentAt.set(id, wallMs());
    confirms.push(pub.send(id, body).then((s) => s.confirmed));
  });
  const offeredFor = (wallMs() - started) / 1000;
  await Promise.all(confirms);
  await consumer.reached(total, boundMs(total));
  const done = await consumer.collect();
  const broker = pub.brokerVersion;
  await pub.close();
  await consumer.stop();
  return {
    broker,
    side: {
      throughput: { ...throughputOf(cfg.events, t.t0, t.end, t.confirmedAt), cpu: t.cpu },
      latency: {
        ...latencyOf([...done].map(([id, at]) => at - (sentAt.get(id) ?? NaN))),
        offered: cfg.rate,
        achievedRate: total / offeredFor,
      },
    },
  };
}

function throughputOf(events: number, t0: number, end: number, publishedAt: number): Side['throughput'] {
  const seconds = (end - t0) / 1000;
  return {
    events,
    seconds,
    eventsPerSec: events / seconds,
    publishedPerSec: events / ((publishedAt - t0) / 1000),
  };
}

// -------------------------------------------------------------------------------------------
// (b) Full path: emitter service → outbox → relay → RabbitBus → receiver service (inbox)
// -------------------------------------------------------------------------------------------
async function fullPath(): Promise<Side & { stages: Stages }> {
  const namespace = `bench_${run}`;
  const consumer = await ConsumerProcess.start(
    {
      mode: 'service',
      amqpUrl: cfg.amqp,
      databaseUrl: receiverUrl,
      namespace,
      logFile: new URL('events-receiver.log', RESULTS_DIR).pathname,
    },
    execArgv,
  );
  const emitter = emitterService();
  const service = await startBenchService(emitter, {
    databaseUrl: emitterUrl,
    amqpUrl: cfg.amqp,
    poolMax: cfg.pool,
    namespace,
    logFile: new URL('events-emitter.log', RESULTS_DIR).pathname,
  });
  const burst = async (n: number) => {
    let next = 0;
    const cpu = startCpu({
      'emitter process': [process.pid],
      'receiver process': [consumer.pid],
      ...(await backends(cfg.server, [EMITTER_DB, RECEIVER_DB])),
    });
    const t0 = wallMs();
    await Promise.all(
      Array.from({ length: cfg.producers }, async () => {
        while (next < n) {
          next += 1;
          await emitter.emit();
        }
      }),
    );
    const committedAt = wallMs();
    await consumer.reached(n, boundMs(n));
    const used = cpu.stop(n);
    const done = await consumer.collect();
    return { t0, committedAt, end: Math.max(...done.values()), cpu: used };
  };
  log('full path: warm-up');
  if (cfg.warmup > 0) await burst(cfg.warmup);
  log(`full path: throughput, ${cfg.events} events from ${cfg.producers} producers`);
  const t = await burst(cfg.events);
  log(`full path: latency at ${cfg.rate}/s for ${cfg.seconds} s`);
  const total = cfg.rate * cfg.seconds;
  const committedAt = new Map<string, number>();
  const commits: Promise<void>[] = [];
  const failures = new Map<string, number>();
  const started = wallMs();
  await openLoop(cfg.rate, cfg.seconds, () => {
    commits.push(
      emitter.emit().then(
        (e) => void committedAt.set(e.id, wallMs()),
        // a transaction that cannot even start (pool wait beyond its 5 s bound) is counted, not hidden
        (err: unknown) => {
          const reason = err instanceof Error ? err.message : String(err);
          failures.set(reason, (failures.get(reason) ?? 0) + 1);
        },
      ),
    );
  });
  const offeredFor = (wallMs() - started) / 1000;
  await Promise.all(commits);
  await consumer.reached(committedAt.size, boundMs(total));
  const done = await consumer.collect();
  await service.close();
  await consumer.stop();
  return {
    throughput: { ...throughputOf(cfg.events, t.t0, t.end, t.committedAt), cpu: t.cpu },
    latency: {
      ...latencyOf([...done].map(([id, at]) => at - (committedAt.get(id) ?? NaN))),
      offered: cfg.rate,
      achievedRate: total / offeredFor,
      failedCommits: Object.fromEntries(failures),
    },
    stages: await stagesOf(committedAt, done),
  };
}

/**
 * Where the commit-to-effect time of the latency phase went, per event, from the rows the kit
 * itself writes: outbox.published_at (the relay's UPDATE, after the broker's confirms) and
 * inbox.received_at (the start of the consumer's inbox transaction).
 */
async function stagesOf(committedAt: Map<string, number>, done: Map<string, number>): Promise<Stages> {
  const ids = [...committedAt.keys()];
  const times = async (url: string, sql: string) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ id: string; t: string }>(sql, [ids]); // numeric: a string
      return new Map(rows.map((r) => [r.id, Number(r.t)]));
    } finally {
      await client.end();
    }
  };
  const published = await times(
    emitterUrl,
    'SELECT id, extract(epoch FROM published_at) * 1000 AS t FROM emitter.outbox WHERE id = ANY($1::uuid[])',
  );
  const received = await times(
    receiverUrl,
    'SELECT event_id AS id, extract(epoch FROM received_at) * 1000 AS t FROM receiver.inbox WHERE event_id = ANY($1::uuid[])',
  );
  const stage = (from: (id: string) => number | undefined, to: (id: string) => number | undefined) =>
    latencyOf(ids.map((id) => (to(id) ?? NaN) - (from(id) ?? NaN)).filter(Number.isFinite));
  return {
    toConsumer: stage(
      (id) => committedAt.get(id),
      (id) => received.get(id),
    ),
    apply: stage(
      (id) => received.get(id),
      (id) => done.get(id),
    ),
    marked: stage(
      (id) => committedAt.get(id),
      (id) => published.get(id),
    ),
  };
}

interface Stages {
  /** producer commit → the consumer's inbox transaction began: relay, broker, prefetch, executor, pool */
  toConsumer: Latency;
  /** inbox transaction began → effect and inbox row committed */
  apply: Latency;
  /** producer commit → its outbox row marked published (after the broker's confirms; off the path) */
  marked: Latency;
}

const base = await baseline();
const full = await fullPath();
log('reference: the database alone');
const reference = await databaseOnly({
  emitterUrl,
  receiverUrl,
  events: cfg.events,
  producers: cfg.producers,
  poolMax: cfg.pool,
});
log('floor: the two transactions with pg alone, one round trip each');
const floors = await floor({
  serverUrl: cfg.server,
  emitterUrl,
  receiverUrl,
  emitterDatabase: EMITTER_DB,
  receiverDatabase: RECEIVER_DB,
  events: cfg.events,
  producers: cfg.producers,
});
// the least CPU an event can cost here: its producer and consumer transactions at the floor, plus
// publishing, routing and consuming it at the baseline's cost; what the cores allow at that cost
const floorMsPerEvent =
  floors.producer.cpu.accountedMsPerEvent +
  floors.consumer.cpu.accountedMsPerEvent +
  (base.side.throughput.cpu?.accountedMsPerEvent ?? NaN);
const ceiling = {
  floorMsPerEvent,
  eventsPerSec: (cpus().length * 1000) / floorMsPerEvent,
  fullPathMsPerEvent: full.throughput.cpu?.accountedMsPerEvent ?? NaN,
  fullPathEventsPerSecAtItsCost: (cpus().length * 1000) / (full.throughput.cpu?.accountedMsPerEvent ?? NaN),
};
for (const name of [EMITTER_DB, RECEIVER_DB]) {
  const admin = new pg.Client({ connectionString: cfg.server });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}

// -------------------------------------------------------------------------------------------
// Report
// -------------------------------------------------------------------------------------------
const environment = {
  postgres: pgEnv.rows[0]?.version,
  postgresSettings: pgEnv.rows[0]?.settings,
  rabbitmq: base.broker,
  node: process.version,
  cpu: cpus()[0]?.model,
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  loadAverage: {
    before: loadBefore,
    after: loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
  },
};
const ratio = (a: number, b: number) => `x${(a / b).toFixed(2)}`;
const b = base.side;
const rows: string[][] = [
  ['', 'baseline (amqplib)', 'full path', 'full/baseline'],
  [
    `throughput, ${cfg.events} events (events/s)`,
    b.throughput.eventsPerSec.toFixed(0),
    full.throughput.eventsPerSec.toFixed(0),
    ratio(full.throughput.eventsPerSec, b.throughput.eventsPerSec),
  ],
  [
    '  sending side alone, events/s (confirmed / committed)',
    b.throughput.publishedPerSec.toFixed(0),
    full.throughput.publishedPerSec.toFixed(0),
    ratio(full.throughput.publishedPerSec, b.throughput.publishedPerSec),
  ],
  ...(['p50', 'p99', 'max'] as const).map((p) => [
    `latency ${p} at ${cfg.rate}/s (ms)`,
    ms(b.latency[p]),
    ms(full.latency[p]),
    ratio(full.latency[p], b.latency[p]),
  ]),
  ['  samples', String(b.latency.samples), String(full.latency.samples), ''],
  [
    '  failed commits',
    '',
    String(Object.values(full.latency.failedCommits ?? {}).reduce((a, n) => a + n, 0)),
    '',
  ],
  ...(
    [
      ['toConsumer', 'commit → inbox tx began'],
      ['apply', 'inbox tx began → committed'],
      ['marked', 'commit → row marked published'],
    ] as const
  ).map(([k, label]) => [
    `  full path: ${label} p50 / p99 (ms)`,
    '',
    `${ms(full.stages[k].p50)} / ${ms(full.stages[k].p99)}`,
    '',
  ]),
];
const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
const line = (r: string[]) =>
  r.map((v, c) => (c === 0 ? v.padEnd(widths[c] ?? 0) : v.padStart(widths[c] ?? 0))).join('  ');
log(
  `\nEvent backbone benchmark: throughput over ${cfg.events} events (${cfg.producers} producers, emitter DB_POOL_MAX ${cfg.pool}), latency at ${cfg.rate} events/s for ${cfg.seconds} s` +
    `\nPostgreSQL ${environment.postgres}, RabbitMQ ${environment.rabbitmq}, ${environment.cores} cores (${environment.cpu}), Node ${environment.node}` +
    `\nload average (1/5/15 min) before ${environment.loadAverage.before}, after ${environment.loadAverage.after}` +
    `\nfull path latency = producer commit → effect and inbox row committed; baseline = publish → consumed\n\n` +
    `${line(rows[0] ?? [])}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.slice(1).map(line).join('\n')}\n`,
);
log(
  `reference, the database alone (the same two transactions, no relay, no broker): ${reference.eventsPerSec.toFixed(0)} events/s` +
    ` (emitter commits ${reference.producedPerSec.toFixed(0)}/s, receiver commits ${reference.consumedPerSec.toFixed(0)}/s)\n`,
);
log(
  `CPU per event in the throughput phases (user + system, /proc; "other processes" is work outside the path):\n` +
    `  baseline:  ${b.throughput.cpu ? formatCpu(b.throughput.cpu) : '-'}\n` +
    `  full path: ${full.throughput.cpu ? formatCpu(full.throughput.cpu) : '-'}\n` +
    `floor, pg alone, one round trip per transaction: producer ${floors.producer.eventsPerSec.toFixed(0)} tx/s, consumer ${floors.consumer.eventsPerSec.toFixed(0)} events/s (batches of 32)\n` +
    `  producer:  ${formatCpu(floors.producer.cpu)}\n` +
    `  consumer:  ${formatCpu(floors.consumer.cpu)}\n` +
    `ceiling on ${cpus().length} cores: floor ${ceiling.floorMsPerEvent.toFixed(3)} ms/event (producer + consumer floors + baseline) → at most ${ceiling.eventsPerSec.toFixed(0)} events/s;` +
    ` the full path's ${ceiling.fullPathMsPerEvent.toFixed(3)} ms/event → at most ${ceiling.fullPathEventsPerSecAtItsCost.toFixed(0)} events/s\n`,
);
const targets = {
  eventsPerSec: { target: TARGET_EVENTS_PER_SEC, measured: full.throughput.eventsPerSec },
  p99Ms: { target: TARGET_P99_MS, measured: full.latency.p99 },
};
log(
  `target end-to-end >= ${TARGET_EVENTS_PER_SEC} events/s: ${targets.eventsPerSec.measured >= TARGET_EVENTS_PER_SEC ? 'MET' : 'MISSED'}` +
    ` (${full.throughput.eventsPerSec.toFixed(0)})\n` +
    (cfg.rate === TARGET_RATE
      ? `target p99 <= ${TARGET_P99_MS} ms at ${TARGET_RATE}/s: ${targets.p99Ms.measured <= TARGET_P99_MS ? 'MET' : 'MISSED'} (${ms(full.latency.p99)} ms)`
      : `target p99 <= ${TARGET_P99_MS} ms at ${TARGET_RATE}/s: not measured (this run offered ${cfg.rate}/s; p99 ${ms(full.latency.p99)} ms)`),
);
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const out = new URL(`events-${stamp}.json`, RESULTS_DIR);
writeFileSync(
  out,
  `${JSON.stringify(
    {
      benchmark: 'events',
      at: new Date().toISOString(),
      command: `npm run bench:events${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      config: {
        ...cfg,
        prefetch: DEFAULT_PREFETCH,
        dbPoolMax: { emitter: cfg.pool, receiver: 10 },
        inbox: 'kit default: group commit, up to 32 deliveries per transaction, 2 transactions at once',
        relay:
          'runtime default: own connection, commit-triggered, 1000 ms poll, batch 200, 2 batches in flight',
      },
      environment,
      baseline: base.side,
      fullPath: full,
      databaseOnly: reference,
      floor: floors,
      ceiling,
      targets,
    },
    null,
    2,
  )}\n`,
);
log(`results written to ${out.pathname}`);
