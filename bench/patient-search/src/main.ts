/**
 * Patient search benchmark (issue #2): p50/p95/p99 of name search and of get-by-id through the
 * Patient service's HTTP API at 1,000,000 patients in real PostgreSQL, against a baseline of the
 * same SQL sent straight to PostgreSQL through a pg Pool in the same run.
 *
 *   npm run bench:patient-search [-- --patients N --requests R --concurrency C ...]
 *
 * See docs/benchmarks.md for the rules and the recorded figures.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { logDestination, loggerOptions, pgQueryConfig, PostgresDb } from '@hms/platform';
import {
  closedLoop,
  createTestKeys,
  intArg,
  othersCpu,
  summarize,
  type Operation,
  type Stats,
} from '@hms/testkit';
import pg from 'pg';
import { pino } from 'pino';
import { Pool as HttpPool } from 'undici';
import { databaseUrl, ensureSeeded } from './seed.js';
import { recordingDb, startPatientService, type Captured } from './service.js';
import { drawQueries, nameTokens, SCENARIOS, type Query, type ScenarioName } from './workload.js';
import { measureWriteCost, WRITES_DATABASE, type WriteCostReport } from './writes.js';

const TARGET_SEARCH_P95_MS = 50;
/** Background CPU above which a run is flagged as disturbed by other work on the machine. */
const BUSY_PCT = 10;
const DATABASE = 'hms_bench_patient';
const RESULTS_DIR = new URL('../../results/', import.meta.url);

const { values: args } = parseArgs({
  options: {
    patients: { type: 'string', default: '1000000' },
    requests: { type: 'string', default: '2000' },
    warmup: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '6' },
    seed: { type: 'string', default: '42' },
    'max-seconds': { type: 'string', default: '180' },
    scenarios: { type: 'string', default: SCENARIOS.map((s) => s.name).join(',') },
    server: {
      type: 'string',
      default: process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    },
    reseed: { type: 'boolean', default: false },
    writes: { type: 'string', default: '2000' },
    'writes-preload': { type: 'string', default: '100000' },
    'wait-quiet': { type: 'string', default: '0' },
    explain: { type: 'string', default: 'Gonz,Mary Smith,Smoth,de Vr' },
    help: { type: 'boolean', default: false },
  },
});

if (args.help) {
  process.stdout.write(`usage: npm run bench:patient-search -- [options]
  --patients N        seeded patients (default 1000000; another N reseeds ${DATABASE})
  --requests R        measured requests per scenario and side (default 2000)
  --warmup W          warm-up requests per scenario and side, not measured (default 200)
  --concurrency C     connections / requests in flight (default 6: the fewest that reach full throughput on 2 cores)
  --seed S            seed of the query draw (default 42)
  --max-seconds T     time bound of each measured phase (default 180)
  --scenarios LIST    ${SCENARIOS.map((s) => s.name).join(',')}
  --server URL        PostgreSQL server, loopback only (default postgres://postgres@127.0.0.1:5432/postgres,
                      or BENCH_PG_URL)
  --reseed            drop and seed the database even if it is already seeded
  --writes N          write cost of migration 002 (see writes.ts): N statements of each kind per side,
                      on ${WRITES_DATABASE}, created and dropped by the run (default 2000; 0 skips it)
  --writes-preload P  patients loaded on each side before the writes are measured (default 100000)
  --explain LIST      name searches whose SQL (the service's own, captured) is run under
                      EXPLAIN (ANALYZE, BUFFERS), printed and saved (default 'Gonz,Mary Smith,Smoth,de Vr';
                      '' for none)
  --wait-quiet T      before each scenario, wait up to T seconds for other processes to leave the
                      CPU idle (default 0: do not wait; a disturbed run is flagged either way)
`);
  process.exit(0);
}

const cfg = {
  patients: intArg('patients', args.patients, 1000, 50_000_000),
  requests: intArg('requests', args.requests, 1, 1_000_000),
  warmup: intArg('warmup', args.warmup, 0, 1_000_000),
  concurrency: intArg('concurrency', args.concurrency, 1, 200),
  seed: intArg('seed', args.seed, 0, 2 ** 31),
  maxSeconds: intArg('max-seconds', args['max-seconds'], 1, 3600),
  waitQuietSeconds: intArg('wait-quiet', args['wait-quiet'], 0, 86_400),
  writes: intArg('writes', args.writes, 0, 1_000_000),
  writesPreload: intArg('writes-preload', args['writes-preload'], 1000, 10_000_000),
  scenarios: args.scenarios.split(',').map((s) => s.trim()) as ScenarioName[],
  explain: args.explain
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0),
  server: args.server,
};
for (const s of cfg.scenarios)
  if (!SCENARIOS.some((k) => k.name === s)) throw new Error(`unknown scenario ${s}`);
const serverHost = new URL(cfg.server).hostname;
if (!['127.0.0.1', 'localhost', '[::1]'].includes(serverHost))
  throw new Error(`the benchmark only targets a loopback PostgreSQL server, not ${serverHost}`);

const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(v < 10 ? 2 : 1) : '-');

// ---------------------------------------------------------------------------------------------
// 1. Data
// ---------------------------------------------------------------------------------------------
const seedReport = await ensureSeeded(cfg.server, DATABASE, cfg.patients, { force: args.reseed });
const url = databaseUrl(cfg.server, DATABASE);

// The baseline's pool: plain pg, the same connection settings as the service's PostgresDb
// (search_path, type parsers, pool size), no HTTP, no auth, no mapping.
const baseline = new pg.Pool({
  connectionString: url,
  max: 10,
  options: '-c search_path=patient,public',
  types: {
    getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
      if (oid === 20) return (v: string) => Number(v); // int8
      if (oid === 1082) return (v: string) => v; // date
      const builtin: (o: number, f?: 'text' | 'binary') => (value: string) => unknown =
        pg.types.getTypeParser;
      return builtin(oid, format);
    },
  },
});

const env = await baseline.query<{ version: string; settings: Record<string, string> }>(
  `SELECT current_setting('server_version') AS version,
          (SELECT jsonb_object_agg(name, current_setting(name)) FROM pg_settings
            WHERE name IN ('shared_buffers', 'work_mem', 'effective_cache_size', 'random_page_cost', 'jit',
                           'max_parallel_workers_per_gather', 'max_connections')) AS settings`,
);
const environment = {
  postgres: env.rows[0]?.version,
  postgresSettings: env.rows[0]?.settings,
  node: process.version,
  cpu: cpus()[0]?.model,
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
};

// ---------------------------------------------------------------------------------------------
// 2. The real service, started as production starts it (see service.ts): PostgresDb with the
//    pool defaults, the kit's runtime, one log line per request at level info.
// ---------------------------------------------------------------------------------------------
mkdirSync(RESULTS_DIR, { recursive: true });
const logFile = new URL('patient-search-service.log', RESULTS_DIR);
writeFileSync(logFile, '');
const logger = pino(
  loggerOptions('patient', 'info'),
  // the request log lines go to a file instead of the terminal, written as createLogger writes
  // stdout
  logDestination(logFile.pathname),
);
const keys = await createTestKeys();
const db = new PostgresDb({ url, schema: 'patient' });
const service = await startPatientService({ db, keys, logger, processMetrics: true, listen: true });
const serviceUrl = service.url;
process.stdout.write(`patient service listening on ${serviceUrl}\n`);

const tokens = await Promise.all(
  Array.from({ length: 16 }, () => keys.mint({ roles: ['physician'], expiresInSec: 4 * 3600 })),
);
const http = new HttpPool(serviceUrl, { connections: cfg.concurrency, pipelining: 1 });

async function callService(q: Query, i: number): Promise<unknown> {
  const path =
    q.kind === 'get'
      ? `/api/v1/patients/${q.id}`
      : `/api/v1/patients/search?name=${encodeURIComponent(q.name)}`;
  const res = await http.request({
    method: 'GET',
    path,
    headers: { authorization: `Bearer ${tokens[i % tokens.length] ?? ''}` },
  });
  const text = await res.body.text();
  if (res.statusCode !== 200)
    throw new Error(`GET ${path} answered ${res.statusCode}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as unknown;
}

const serviceOp =
  (queries: Query[]): Operation =>
  async (i) => {
    const q = queries[i] as Query;
    const body = await callService(q, i);
    return q.kind === 'get' ? 1 : (body as { items: unknown[] }).items.length;
  };

// ---------------------------------------------------------------------------------------------
// 3. The baseline's SQL is the service's own: captured by running the service once per query
//    shape over a recording Db (a separate instance, not the measured one), then replayed with
//    each query's values.
// ---------------------------------------------------------------------------------------------
const captureDb = new PostgresDb({ url, schema: 'patient', poolMax: 2 });
const captureLog: Captured[] = [];
const capture = await startPatientService({
  db: recordingDb(captureDb, captureLog),
  keys,
  logger: pino({ level: 'silent' }),
  processMetrics: false,
  listen: false,
});
const captureApp = capture.app;
const captureToken = tokens[0] ?? '';
const templates = new Map<string, { statements: Captured[]; probes: string[] }>();

/** The statements the service runs for a query of this shape, with probe values in them. */
async function template(q: Query): Promise<{ statements: Captured[]; probes: string[] }> {
  const shape = q.kind === 'get' ? 'get' : `search/${nameTokens(q.name).length}`;
  const known = templates.get(shape);
  if (known) return known;
  const probes =
    q.kind === 'get'
      ? ['00000000-0000-7000-8000-00000000beef']
      : nameTokens(q.name).map((_, k) => `zzprobe${k + 1}`);
  const path =
    q.kind === 'get'
      ? `/api/v1/patients/${probes[0] ?? ''}`
      : `/api/v1/patients/search?name=${encodeURIComponent(probes.join(' '))}`;
  captureLog.length = 0;
  const res = await captureApp.inject({
    method: 'GET',
    url: path,
    headers: { authorization: `Bearer ${captureToken}` },
  });
  if (res.statusCode !== (q.kind === 'get' ? 404 : 200))
    throw new Error(`capturing ${shape}: the service answered ${res.statusCode}`);
  const statements = captureLog.splice(0);
  const params = statements.flatMap((s) => s.params);
  for (const p of probes)
    if (!params.includes(p))
      throw new Error(`capturing ${shape}: the value ${p} does not reach the SQL as given`);
  const t = { statements, probes };
  templates.set(shape, t);
  return t;
}

/** Prepares the baseline's statements of each query, one after the other (capture is serial). */
async function baselineStatementsOf(queries: Query[]): Promise<Captured[][]> {
  const out: Captured[][] = [];
  for (const q of queries) out.push(await baselineStatements(q));
  return out;
}

async function baselineStatements(q: Query): Promise<Captured[]> {
  const t = await template(q);
  const values = q.kind === 'get' ? [q.id] : nameTokens(q.name);
  return t.statements.map((s) => ({
    sql: s.sql,
    opts: s.opts,
    params: s.params.map((p) => {
      const k = typeof p === 'string' ? t.probes.indexOf(p) : -1;
      return k >= 0 ? values[k] : p;
    }),
  }));
}

/** Runs the query's statements in order on the baseline pool; answers the last one's rows. */
async function callBaseline(stmts: Captured[]): Promise<Record<string, unknown>[]> {
  let rows: Record<string, unknown>[] = [];
  // prepared on the baseline's connections too when the service asks for it (same SQL, same way)
  for (const s of stmts)
    rows = (await baseline.query(pgQueryConfig(s.sql, s.params, s.opts))).rows as Record<string, unknown>[];
  return rows;
}

const baselineOp =
  (prepared: Captured[][], queries: Query[], pageSize: number): Operation =>
  async (i) => {
    const rows = await callBaseline(prepared[i] as Captured[]);
    return (queries[i] as Query).kind === 'get' ? rows.length : Math.min(rows.length, pageSize);
  };

// ---------------------------------------------------------------------------------------------
// 4. Measurement
// ---------------------------------------------------------------------------------------------
interface ScenarioResult {
  scenario: ScenarioName;
  title: string;
  service: PhaseStats;
  baseline: PhaseStats;
  ratio: { p50: number; p95: number; p99: number; reqPerSec: number };
  sampleQueries: string[];
}

/** A measured phase, with the share of the CPU other processes took meanwhile (percent). */
type PhaseStats = Stats & { othersCpuPct: number | undefined };

/** This process and its PostgreSQL backends (every connection to the benchmark database is ours). */
const ourPids = async (): Promise<number[]> => {
  const { rows } = await baseline.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = current_database()',
  );
  return [process.pid, ...rows.map((r) => r.pid)];
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** On a shared machine, other work distorts every figure: optionally wait for a quiet CPU. */
async function waitQuiet(): Promise<void> {
  if (cfg.waitQuietSeconds === 0) return;
  const until = performance.now() + cfg.waitQuietSeconds * 1000;
  for (;;) {
    const { othersPct } = await othersCpu(ourPids, () => sleep(2000));
    if (othersPct === undefined || othersPct <= BUSY_PCT || performance.now() > until) {
      process.stdout.write(`  other processes' CPU before measuring: ${othersPct ?? '?'} %\n`);
      return;
    }
  }
}

const PAGE = 20; // the service's default page size: search answers at most 20 items
const results: ScenarioResult[] = [];
const maxMs = cfg.maxSeconds * 1000;

// Every query is drawn, and its baseline statements captured, before anything is measured; then
// the capture instance is closed, so only the measured service runs during the measurement.
interface Workload {
  name: ScenarioName;
  title: string;
  warm: Query[];
  measured: Query[];
  preparedWarm: Captured[][];
  preparedMeasured: Captured[][];
}
const workloads: Workload[] = [];
for (const [index, scenario] of SCENARIOS.entries()) {
  if (!cfg.scenarios.includes(scenario.name)) continue;
  const all = await drawQueries(
    baseline,
    scenario.name,
    cfg.warmup + cfg.requests,
    cfg.patients,
    cfg.seed * 100 + index,
  );
  const warm = all.slice(0, cfg.warmup);
  const measured = all.slice(cfg.warmup);
  const preparedMeasured = await baselineStatementsOf(measured);
  // Both sides answer the same: the first queries' ids compared one by one.
  for (let i = 0; i < Math.min(20, measured.length); i++) {
    const q = measured[i] as Query;
    const body = await callService(q, i);
    const serviceIds =
      q.kind === 'get'
        ? [(body as { id: string }).id]
        : (body as { items: { id: string }[] }).items.map((p) => p.id);
    const baseIds = (await callBaseline(preparedMeasured[i] as Captured[]))
      .slice(0, PAGE)
      .map((r) => String(r.id));
    if (JSON.stringify(serviceIds) !== JSON.stringify(baseIds))
      throw new Error(`service and baseline disagree on ${JSON.stringify(q)}`);
  }
  workloads.push({
    name: scenario.name,
    title: scenario.title,
    warm,
    measured,
    preparedWarm: await baselineStatementsOf(warm),
    preparedMeasured,
  });
}

// The plans of a few searches, second run of each (the first warms the cache), from the service's
// own SQL: the evidence docs/benchmarks.md quotes.
const plans: { name: string; plan: string }[] = [];
for (const name of cfg.explain) {
  const [statement] = await baselineStatements({ kind: 'search', name });
  if (!statement) throw new Error(`no SQL captured for the search ${name}`);
  let plan = '';
  for (let run = 0; run < 2; run++) {
    const { rows } = await baseline.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (ANALYZE, BUFFERS) ${statement.sql}`,
      statement.params,
    );
    plan = rows.map((r) => r['QUERY PLAN']).join('\n');
  }
  plans.push({ name, plan });
  process.stdout.write(`\nEXPLAIN (ANALYZE, BUFFERS), search ${JSON.stringify(name)}:\n${plan}\n`);
}
await capture.close();
await captureDb.close();
process.stdout.write(
  `queries drawn (seed ${cfg.seed}); service and baseline answer the same ids for the first ones of each scenario\n`,
);

for (const { name, title, warm, measured, preparedWarm, preparedMeasured } of workloads) {
  process.stdout.write(`\n${title}\n`);
  const phase = async (label: string, n: number, op: Operation): Promise<PhaseStats> => {
    const { value, othersPct } = await othersCpu(ourPids, () => closedLoop(n, cfg.concurrency, maxMs, op));
    const s = { ...summarize(value), othersCpuPct: othersPct };
    process.stdout.write(
      `  ${label.padEnd(18)} ${String(s.requests).padStart(6)} req  p50 ${ms(s.p50).padStart(7)}  p95 ${ms(s.p95).padStart(7)}  p99 ${ms(s.p99).padStart(7)} ms  ${s.reqPerSec.toFixed(0).padStart(6)} req/s  others ${othersPct ?? '?'} % CPU${s.truncated ? '  (stopped by --max-seconds)' : ''}\n`,
    );
    return s;
  };
  await waitQuiet();
  await phase('service warm-up', warm.length, serviceOp(warm));
  const service = await phase('service', measured.length, serviceOp(measured));
  await phase('baseline warm-up', warm.length, baselineOp(preparedWarm, warm, PAGE));
  const base = await phase('baseline', measured.length, baselineOp(preparedMeasured, measured, PAGE));
  results.push({
    scenario: name,
    title,
    service,
    baseline: base,
    ratio: {
      p50: service.p50 / base.p50,
      p95: service.p95 / base.p95,
      p99: service.p99 / base.p99,
      reqPerSec: service.reqPerSec / base.reqPerSec,
    },
    sampleQueries: measured.slice(0, 5).map((q) => (q.kind === 'get' ? q.id : q.name)),
  });
}

await http.close();
await service.close();
await db.close();

// Write cost of the search's migration (writes.ts), after the reads so it cannot disturb them.
let writeCost: WriteCostReport | undefined;
if (cfg.writes > 0) {
  process.stdout.write(`\nwrite cost of migration 002 (${WRITES_DATABASE})\n`);
  await waitQuiet();
  writeCost = await measureWriteCost(cfg.server, {
    preload: cfg.writesPreload,
    perKind: cfg.writes,
    rounds: 10,
  });
}
await baseline.end();

// ---------------------------------------------------------------------------------------------
// 5. Report
// ---------------------------------------------------------------------------------------------
const rows: string[][] = [
  [
    'scenario',
    'side',
    'requests',
    'p50 ms',
    'p95 ms',
    'p99 ms',
    'max ms',
    'req/s',
    'items',
    'empty %',
    'others %',
  ],
];
for (const r of results) {
  for (const [side, s] of [
    ['service', r.service],
    ['baseline', r.baseline],
  ] as const) {
    rows.push([
      r.scenario,
      side,
      String(s.requests),
      ms(s.p50),
      ms(s.p95),
      ms(s.p99),
      ms(s.max),
      s.reqPerSec.toFixed(0),
      s.meanItems.toFixed(1),
      s.emptyPct.toFixed(1),
      s.othersCpuPct === undefined ? '?' : s.othersCpuPct.toFixed(1),
    ]);
  }
  rows.push([
    '',
    'ratio',
    '',
    `x${r.ratio.p50.toFixed(2)}`,
    `x${r.ratio.p95.toFixed(2)}`,
    `x${r.ratio.p99.toFixed(2)}`,
    '',
    `x${r.ratio.reqPerSec.toFixed(2)}`,
    '',
    '',
    '',
  ]);
}
const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
const line = (r: string[]) =>
  r.map((v, c) => (c < 2 ? v.padEnd(widths[c] ?? 0) : v.padStart(widths[c] ?? 0))).join('  ');
process.stdout.write(
  `\nPatient search benchmark: ${cfg.patients} patients, concurrency ${cfg.concurrency}, ${cfg.requests} requests per scenario and side (after ${cfg.warmup} warm-up)\n` +
    `PostgreSQL ${environment.postgres}, ${environment.cores} cores (${environment.cpu}), Node ${environment.node}\n\n` +
    `${line(rows[0] ?? [])}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.slice(1).map(line).join('\n')}\n`,
);

if (writeCost) {
  process.stdout.write(
    `\nWrite cost (${writeCost.preloadPatients} patients per side; ms per statement; others ${writeCost.othersCpuPct ?? '?'} % CPU)\n` +
      `  load of the patients: before ${writeCost.loadSeconds.before.toFixed(1)} s, after ${writeCost.loadSeconds.after.toFixed(1)} s\n`,
  );
  for (const r of writeCost.results)
    process.stdout.write(
      `  ${r.kind.padEnd(14)} ${String(r.before.statements).padStart(5)} each  before mean ${ms(r.before.meanMs)} p50 ${ms(r.before.p50Ms)} p95 ${ms(r.before.p95Ms)}  after mean ${ms(r.after.meanMs)} p50 ${ms(r.after.p50Ms)} p95 ${ms(r.after.p95Ms)}  delta mean ${(r.deltaMeanMs * 1000).toFixed(0)} µs\n`,
    );
}

const busiest = Math.max(
  ...results.flatMap((r) => [r.service.othersCpuPct ?? 0, r.baseline.othersCpuPct ?? 0]),
);
process.stdout.write(
  busiest > BUSY_PCT
    ? `\nWARNING: other processes took up to ${busiest} % of the CPU during a measured phase ("others %"): these figures are not the machine's; re-run when it is quiet (--wait-quiet helps)\n`
    : `\nother processes took at most ${busiest} % of the CPU during the measured phases\n`,
);

const searches = results.filter((r) => r.scenario.startsWith('search'));
const worstP95 = Math.max(...searches.map((r) => r.service.p95));
const targetMet = searches.length > 0 ? worstP95 <= TARGET_SEARCH_P95_MS : undefined;
if (targetMet !== undefined)
  process.stdout.write(
    `\ntarget search p95 <= ${TARGET_SEARCH_P95_MS} ms: ${targetMet ? 'MET' : 'MISSED'} (worst search p95 ${ms(worstP95)} ms)\n`,
  );

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const out = new URL(`patient-search-${stamp}.json`, RESULTS_DIR);
writeFileSync(
  out,
  `${JSON.stringify(
    {
      benchmark: 'patient-search',
      at: new Date().toISOString(),
      command: `npm run bench:patient-search${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      config: {
        ...cfg,
        servicePoolMax: 10,
        baselinePoolMax: 10,
        pageSize: PAGE,
        targetSearchP95Ms: TARGET_SEARCH_P95_MS,
      },
      environment,
      seed: seedReport,
      results,
      writeCost,
      plans,
      disturbed: busiest > BUSY_PCT,
      target: { searchP95Ms: TARGET_SEARCH_P95_MS, worstSearchP95Ms: worstP95, met: targetMet },
    },
    null,
    2,
  )}\n`,
);
process.stdout.write(`results written to ${out.pathname}\n`);
