/**
 * Gateway overhead (issue #4): one patient read by id, at N concurrent keep-alive connections on
 * loopback, (a) from a bare Fastify + pg handler and (b) through the gateway to the Patient
 * service with a real ES256 token and every production check on (rate limits on Redis, deny-list
 * on Redis, the gateway's and the service's permission checks). Each server runs in a process of
 * its own. Two references beside them: (c) the Patient service called directly, and (d) a proxy that
 * checks nothing (node:http + undici) in front of it, the least a Node hop costs. All four run
 * from the start and are measured in interleaved rounds (each round a slice of each, the order
 * rotated), so the machine's drifting speed weighs on them alike. Prints req/s, p50, p99 and b/a;
 * then offers (a) and (b) requests at a fixed rate (open loop, interleaved), where latency is not
 * a function of throughput, and prints their p50 and p99 (issue #16: latency targets are measured
 * open loop); writes bench/results/gateway-<time>.json.
 *
 *   npm run bench:gateway -- [--patients 10000] [--requests 20000] [--warmup 3000]
 *                            [--connections 50] [--rounds 5] [--max-seconds 120] [--profile]
 *                            [--open-rate 1000] [--open-seconds 20]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  closedLoop,
  createTestKeys,
  intArg,
  machineTicks,
  openLoop,
  percentile,
  processTicks,
  summarize,
  type Stats,
} from '@hms/testkit';
import { Pool } from 'undici';
import type { ChildConfig, FromChild } from './protocol.js';
import { databaseUrl, ensureSeeded, patientIds } from './seed.js';
import { summarizeProfile } from './profile.js';

const { values: args } = parseArgs({
  options: {
    patients: { type: 'string', default: '10000' },
    requests: { type: 'string', default: '20000' },
    warmup: { type: 'string', default: '3000' },
    connections: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '5' },
    'max-seconds': { type: 'string', default: '120' },
    profile: { type: 'boolean', default: false },
    'open-rate': { type: 'string', default: '1000' },
    'open-seconds': { type: 'string', default: '20' },
  },
});
const OPEN_RATE = intArg('open-rate', args['open-rate'], 1, 100_000);
const OPEN_SECONDS = intArg('open-seconds', args['open-seconds'], 0, 3600);
const PATIENTS = intArg('patients', args.patients, 1, 10_000_000);
const REQUESTS = intArg('requests', args.requests, 1, 10_000_000);
const WARMUP = intArg('warmup', args.warmup, 0, 10_000_000);
const CONNECTIONS = intArg('connections', args.connections, 1, 10_000);
const ROUNDS = intArg('rounds', args.rounds, 1, 1000);
const MAX_MS = intArg('max-seconds', args['max-seconds'], 1, 3600) * 1000;
const PG_SERVER = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const DB_NAME = 'hms_bench_gateway';
const RESULTS_DIR = new URL('../../results/', import.meta.url);
const PROFILE_DIR = new URL('profiles/', RESULTS_DIR);
/** Budgets no benchmark run can spend: the limiter counts every request in Redis, rejects none. */
const HUGE_RATE = '1000000000/60';

mkdirSync(RESULTS_DIR, { recursive: true });
const load = () => loadavg().map((l) => Math.round(l * 100) / 100);
const loadAtStart = load();
process.stdout.write(
  `gateway bench: ${PATIENTS} patients, ${CONNECTIONS} connections, ${REQUESTS} requests ` +
    `(+${WARMUP} warm-up) per set-up in ${ROUNDS} interleaved rounds, ${cpus().length} CPUs, load average ${loadAtStart.join(' ')}\n`,
);

const seed = await ensureSeeded(PG_SERVER, DB_NAME, PATIENTS);
process.stdout.write(
  seed.reused
    ? `database ${DB_NAME}: the ${PATIENTS} seeded patients reused\n`
    : `database ${DB_NAME}: seeded ${PATIENTS} patients in ${seed.seconds.toFixed(1)} s\n`,
);
const dbUrl = databaseUrl(PG_SERVER, DB_NAME);
const ids = await patientIds(dbUrl);

const keys = await createTestKeys();
const token = await keys.mint({ roles: ['physician'], expiresInSec: 3600 });
const runId = randomBytes(4).toString('hex');
const children: ChildProcess[] = [];

async function startChild(
  role: ChildConfig['role'],
  env: Record<string, string> = {},
  execArgv: string[] = [],
): Promise<{ url: string; child: ChildProcess }> {
  const config: ChildConfig = {
    role,
    databaseUrl: dbUrl,
    redisUrl: REDIS_URL,
    redisPrefix: `hms-bench-gw:${runId}:`,
    jwksUrl: keys.jwksUrl,
    env,
    logFile: fileURLToPath(new URL(`gateway-bench-${role}.log`, RESULTS_DIR)),
  };
  writeFileSync(config.logFile, '');
  const child = fork(fileURLToPath(new URL('./child.js', import.meta.url)), [JSON.stringify(config)], {
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.push(child);
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${role} exited with ${code} before it was ready`)));
    child.on('message', (m: FromChild) => {
      if (m.kind === 'ready') resolve(m.url);
    });
  });
  return { url, child };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || !child.connected) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.send({ kind: 'stop' });
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

interface Phase {
  name: string;
  /** CPU time per request of each server process and of the machine as a whole, ms */
  cpuMsPerRequest?: Record<string, number>;
  url: string;
  stats: Stats;
  loadBefore: number[];
  loadAfter: number[];
}

/** One of the four set-ups, measured in slices over several rounds. */
interface Setup {
  name: string;
  origin: string;
  /** The read's path without the patient's id. */
  prefix: string;
  headers: Record<string, string>;
  pids: Record<string, number | undefined>;
  pool: Pool;
  latencies: number[];
  wallMs: number;
  truncated: boolean;
  ticks: Record<string, number>;
  loadBefore: number[];
}

function setup(
  name: string,
  origin: string,
  prefix: string,
  headers: Record<string, string>,
  pids: Setup['pids'],
): Setup {
  return {
    name,
    origin,
    prefix,
    headers,
    pids: { ...pids, 'load generator': process.pid },
    pool: new Pool(origin, { connections: CONNECTIONS, pipelining: 1, keepAliveTimeout: 60_000 }),
    latencies: [],
    wallMs: 0,
    truncated: false,
    ticks: {},
    loadBefore: [],
  };
}

let sent = 0;
/** The closed loop on the set-up's undici Pool of `CONNECTIONS` keep-alive sockets. */
function run(s: Setup, count: number, maxMs: number) {
  let failures = 0;
  return closedLoop(count, CONNECTIONS, maxMs, async () => {
    const res = await s.pool.request({
      method: 'GET',
      path: s.prefix + (ids[sent++ % ids.length] as string),
      headers: s.headers,
    });
    const body = await res.body.text();
    if (res.statusCode !== 200) {
      failures++;
      throw new Error(`${s.name}: ${res.statusCode} ${body.slice(0, 300)} (${failures} failed)`);
    }
    return 1;
  });
}

/**
 * One slice of a round: the closed loop for `count` requests, with the CPU time of each process
 * and of the machine over it added to the set-up's totals.
 */
async function slice(s: Setup, count: number): Promise<void> {
  const t0: Record<string, number> = {};
  for (const [k, pid] of Object.entries(s.pids)) t0[k] = pid ? ((await processTicks(pid)) ?? 0) : 0;
  const m0 = await machineTicks();
  const r = await run(s, count, MAX_MS / ROUNDS);
  const m1 = await machineTicks();
  for (const [k, pid] of Object.entries(s.pids))
    if (pid) s.ticks[k] = (s.ticks[k] ?? 0) + (((await processTicks(pid)) ?? 0) - (t0[k] ?? 0));
  if (m0 && m1) s.ticks.machine = (s.ticks.machine ?? 0) + (m1.busy - m0.busy);
  for (const l of r.latencies) s.latencies.push(l);
  s.wallMs += r.wallMs;
  s.truncated ||= r.truncated;
}

/** A set-up's figures over all its slices, printed as they were before rounds existed. */
function result(s: Setup): Phase {
  const stats = summarize({
    latencies: s.latencies,
    wallMs: s.wallMs,
    empty: 0,
    meanItems: 1,
    truncated: s.truncated,
  });
  // clock ticks are 10 ms on Linux (USER_HZ 100); the machine's busy ticks are summed over CPUs
  const cpuMsPerRequest: Record<string, number> = {};
  for (const [k, t] of Object.entries(s.ticks))
    cpuMsPerRequest[k === 'machine' ? 'machine (all processes)' : k] = (t * 10) / stats.requests;
  process.stdout.write(
    `${s.name.padEnd(34)} ${stats.reqPerSec.toFixed(0).padStart(7)} req/s  p50 ${stats.p50.toFixed(2)} ms` +
      `  p99 ${stats.p99.toFixed(2)} ms  max ${stats.max.toFixed(1)} ms` +
      `${stats.truncated ? `  (stopped at ${stats.requests} by the time bound)` : ''}\n`,
  );
  process.stdout.write(
    `${''.padEnd(34)} CPU ms/request: ${Object.entries(cpuMsPerRequest)
      .map(([k, v]) => `${k} ${v.toFixed(2)}`)
      .join(', ')}\n`,
  );
  return { name: s.name, url: s.origin, stats, cpuMsPerRequest, loadBefore: s.loadBefore, loadAfter: load() };
}

interface OpenPhase {
  name: string;
  offered: number;
  answered: number;
  failures: number;
  p50: number;
  p99: number;
  max: number;
  sendLagP99: number;
}
let open: OpenPhase[] = [];

/**
 * (a) and (b) at `OPEN_RATE` requests per second, each request sent when it is due whatever the
 * others are doing (latency from its due time, so no coordinated omission), in slices of a few
 * seconds taking turns, `OPEN_SECONDS` each in all.
 */
async function openPhase(a: Setup, b: Setup): Promise<OpenPhase[]> {
  const slices = Math.max(1, Math.round(OPEN_SECONDS / 5));
  const per = OPEN_SECONDS / slices;
  const acc = new Map<Setup, { latencies: number[]; offered: number; failures: number; lag: number }>();
  for (let i = 0; i < slices && OPEN_SECONDS > 0; i++)
    for (const s of i % 2 === 0 ? [a, b] : [b, a]) {
      const r = await openLoop(OPEN_RATE, per, async () => {
        const res = await s.pool.request({
          method: 'GET',
          path: s.prefix + (ids[sent++ % ids.length] as string),
          headers: s.headers,
        });
        await res.body.text();
        if (res.statusCode !== 200) throw new Error(`${s.name}: ${res.statusCode}`);
      });
      const t = acc.get(s) ?? { latencies: [], offered: 0, failures: 0, lag: 0 };
      t.latencies.push(...r.latencies);
      t.offered += r.offered;
      t.failures += r.failures;
      t.lag = Math.max(t.lag, r.sendLagP99);
      acc.set(s, t);
    }
  return [...acc].map(([s, t]) => {
    const sorted = [...t.latencies].sort((x, y) => x - y);
    return {
      name: s.name,
      offered: t.offered,
      answered: sorted.length,
      failures: t.failures,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      max: sorted[sorted.length - 1] ?? NaN,
      sendLagP99: t.lag,
    };
  });
}

/** The gateway reads the routes' permissions from the service's OpenAPI document: waits for it. */
async function gatewayChecks(url: string, auth: Record<string, string>): Promise<Record<string, unknown>> {
  const probe = new Pool(url, { connections: 1 });
  const first = ids[0] as string;
  try {
    for (let attempt = 0; ; attempt++) {
      const res = await probe.request({ method: 'GET', path: `/api/v1/patients/${first}`, headers: auth });
      await res.body.text();
      if (res.statusCode === 200) {
        // evidence that the checks are on: the limiter answered, and a token without the
        // permission is refused (by the gateway, before the service)
        const noRole = await keys.mint({ roles: [], expiresInSec: 600 });
        const denied = await probe.request({
          method: 'GET',
          path: `/api/v1/patients/${first}`,
          headers: { authorization: `Bearer ${noRole}` },
        });
        await denied.body.text();
        const anon = await probe.request({ method: 'GET', path: `/api/v1/patients/${first}` });
        await anon.body.text();
        const checks = {
          ratelimitLimit: res.headers['ratelimit-limit'],
          ratelimitRemaining: res.headers['ratelimit-remaining'],
          statusWithoutPermission: denied.statusCode,
          statusWithoutToken: anon.statusCode,
        };
        process.stdout.write(`gateway checks: ${JSON.stringify(checks)}\n`);
        if (denied.statusCode !== 403 || anon.statusCode !== 401 || !res.headers['ratelimit-limit'])
          throw new Error('the gateway does not enforce its checks');
        return checks;
      }
      if (attempt > 100) throw new Error(`the gateway answers ${res.statusCode}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await probe.close();
  }
}

try {
  // every server runs from the start; only the one a slice measures (and what it calls) is busy
  const profileDir = (role: string) => fileURLToPath(new URL(`${role}-${runId}/`, PROFILE_DIR));
  const profiling = (role: string) =>
    args.profile ? ['--cpu-prof', '--cpu-prof-dir', profileDir(role)] : [];
  const bare = await startChild('bare');
  const patient = await startChild('patient', {}, profiling('patient'));
  const gateway = await startChild(
    'gateway',
    {
      PATIENT_URL: patient.url,
      RATE_LIMIT_IP: HUGE_RATE,
      RATE_LIMIT_PRINCIPAL: HUGE_RATE,
      RATE_LIMIT_PREFIX: `hms-bench-gw:${runId}:rl`,
    },
    profiling('gateway'),
  );
  const proxy = await startChild('proxy', { PATIENT_URL: patient.url });
  const auth = { authorization: `Bearer ${token}` };
  const checks = await gatewayChecks(gateway.url, auth);

  const API = '/api/v1/patients/';
  const setups = [
    // (a) the bare handler
    setup('(a) bare Fastify + pg', bare.url, '/patients/', {}, { bare: bare.child.pid }),
    // (b) gateway → Patient service
    setup('(b) gateway → Patient service', gateway.url, API, auth, {
      gateway: gateway.child.pid,
      patient: patient.child.pid,
    }),
    // (c) the Patient service alone, same token: splits (b) into the gateway's share and the service's
    setup('(c) Patient service direct', patient.url, API, auth, { patient: patient.child.pid }),
    // (d) the least a Node hop costs: a proxy that checks nothing, in front of the same service
    setup('(d) minimal proxy → Patient service', proxy.url, API, auth, {
      proxy: proxy.child.pid,
      patient: patient.child.pid,
    }),
  ];
  try {
    for (const s of setups) {
      await run(s, WARMUP, MAX_MS);
      s.loadBefore = load();
    }
    // Interleaved: each round measures a slice of every set-up, starting with a different one each
    // time, so a machine whose speed drifts during the run weighs on all four alike.
    const perSlice = Math.ceil(REQUESTS / ROUNDS);
    for (let round = 0; round < ROUNDS; round++)
      for (let k = 0; k < setups.length; k++)
        await slice(setups[(round + k) % setups.length] as Setup, perSlice);
    open = await openPhase(setups[0] as Setup, setups[1] as Setup);
  } finally {
    await Promise.all(setups.map((s) => s.pool.close()));
  }
  const [a, b, c, d] = setups.map(result) as [Phase, Phase, Phase, Phase];
  for (const o of open)
    process.stdout.write(
      `${o.name.padEnd(34)} open loop at ${OPEN_RATE}/s offered: p50 ${o.p50.toFixed(2)} ms  p99 ${o.p99.toFixed(2)} ms` +
        `  max ${o.max.toFixed(1)} ms  (${o.answered}/${o.offered} answered, ${o.failures} failed, send lag p99 ${o.sendLagP99.toFixed(1)} ms)\n`,
    );
  const openB = open.find((o) => o.name === b.name);
  await Promise.all([proxy, gateway, patient, bare].map((x) => stopChild(x.child)));

  const ratio = b.stats.reqPerSec / a.stats.reqPerSec;
  process.stdout.write(
    `d/a throughput ${(d.stats.reqPerSec / a.stats.reqPerSec).toFixed(2)} (a hop that checks nothing); ` +
      `b/d ${(b.stats.reqPerSec / d.stats.reqPerSec).toFixed(2)} (the gateway's checks and features)\n`,
  );
  // the latency target is the open loop's (issue #16): at a fixed offered rate, not at saturation
  const met = ratio >= 0.5 && openB !== undefined && openB.failures === 0 && openB.p99 <= 25;
  process.stdout.write(
    `b/a throughput ${ratio.toFixed(2)}; open-loop p99(b) ${openB ? openB.p99.toFixed(2) : '–'} ms at ${OPEN_RATE}/s; ` +
      `target b/a ≥ 0.5 and open-loop p99(b) ≤ 25 ms: ${met ? 'met' : 'NOT met'}\n`,
  );

  // written by each process as it exits (stopChild above)
  const profiles: Record<string, ReturnType<typeof summarizeProfile>> = {};
  for (const role of args.profile ? ['gateway', 'patient'] : []) {
    const dir = profileDir(role);
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) continue;
    const profile = summarizeProfile(readFileSync(dir + file, 'utf8'));
    profiles[role] = profile;
    process.stdout.write(`${role} CPU profile: ${dir}${file}\n`);
    process.stdout.write(`  top self time by module:\n`);
    for (const m of profile.modules.slice(0, 12))
      process.stdout.write(`    ${m.pct.toFixed(1).padStart(5)} %  ${m.name}\n`);
    process.stdout.write(`  top self time by function:\n`);
    for (const f of profile.functions.slice(0, 15))
      process.stdout.write(`    ${f.pct.toFixed(1).padStart(5)} %  ${f.name}\n`);
  }

  const out = new URL(`gateway-${new Date().toISOString().replace(/[:.]/g, '-')}.json`, RESULTS_DIR);
  writeFileSync(
    out,
    JSON.stringify(
      {
        bench: 'gateway',
        at: new Date().toISOString(),
        machine: { cpus: cpus().length, loadAtStart, node: process.version },
        config: {
          patients: PATIENTS,
          requests: REQUESTS,
          rounds: ROUNDS,
          warmup: WARMUP,
          connections: CONNECTIONS,
          maxSeconds: MAX_MS / 1000,
          processes: 'load generator, bare server, Patient service, gateway, minimal proxy: one process each',
          rateLimit: { ip: HUGE_RATE, principal: HUGE_RATE, store: 'redis' },
          seedReused: seed.reused,
        },
        checks,
        a,
        b,
        c,
        d,
        ratio,
        open: { rate: OPEN_RATE, seconds: OPEN_SECONDS, phases: open },
        target: { ratio: 0.5, openLoopP99Ms: 25, met },
        profiles: Object.fromEntries(
          Object.entries(profiles).map(([role, p]) => [
            role,
            { modules: p.modules.slice(0, 20), functions: p.functions.slice(0, 30) },
          ]),
        ),
      },
      null,
      2,
    ),
  );
  process.stdout.write(`results: ${fileURLToPath(out)}\n`);
} finally {
  await Promise.all(children.map(stopChild));
}
