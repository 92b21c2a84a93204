/**
 * Gateway overhead (issue #4): one patient read by id, at N concurrent keep-alive connections on
 * loopback, (a) from a bare Fastify + pg handler and (b) through the gateway to the Patient
 * service with a real ES256 token and every production check on (rate limits on Redis, deny-list
 * on Redis, the gateway's and the service's permission checks). Each server runs in a process of
 * its own. Two references beside them: (c) the Patient service called directly, and (d) a proxy that
 * checks nothing (node:http + undici) in front of it, the least a Node hop costs. Prints req/s,
 * p50, p99 and b/a; writes bench/results/gateway-<time>.json.
 *
 *   npm run bench:gateway -- [--patients 10000] [--requests 20000] [--warmup 3000]
 *                            [--connections 50] [--max-seconds 120] [--profile]
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
    'max-seconds': { type: 'string', default: '120' },
    profile: { type: 'boolean', default: false },
  },
});
const PATIENTS = intArg('patients', args.patients, 1, 10_000_000);
const REQUESTS = intArg('requests', args.requests, 1, 10_000_000);
const WARMUP = intArg('warmup', args.warmup, 0, 10_000_000);
const CONNECTIONS = intArg('connections', args.connections, 1, 10_000);
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
    `(+${WARMUP} warm-up), ${cpus().length} CPUs, load average ${loadAtStart.join(' ')}\n`,
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

/** Warm-up, then the measured closed loop, on one undici Pool of `CONNECTIONS` keep-alive sockets. */
async function measure(
  name: string,
  origin: string,
  path: (id: string) => string,
  headers: Record<string, string>,
  pids: Record<string, number | undefined> = {},
): Promise<Phase> {
  const pool = new Pool(origin, { connections: CONNECTIONS, pipelining: 1, keepAliveTimeout: 60_000 });
  let failures = 0;
  const op = async (i: number): Promise<number> => {
    const res = await pool.request({ method: 'GET', path: path(ids[i % ids.length] as string), headers });
    const body = await res.body.text();
    if (res.statusCode !== 200) {
      failures++;
      throw new Error(`${name}: ${res.statusCode} ${body.slice(0, 300)}`);
    }
    return 1;
  };
  try {
    await closedLoop(WARMUP, CONNECTIONS, MAX_MS, op);
    const loadBefore = load();
    const procs = { ...pids, 'load generator': process.pid };
    const t0: Record<string, number> = {};
    for (const [k, pid] of Object.entries(procs)) t0[k] = pid ? ((await processTicks(pid)) ?? 0) : 0;
    const m0 = await machineTicks();
    const stats = summarize(await closedLoop(REQUESTS, CONNECTIONS, MAX_MS, (i) => op(i + WARMUP)));
    const loadAfter = load();
    const m1 = await machineTicks();
    // clock ticks are 10 ms on Linux (USER_HZ 100); the machine's busy ticks are summed over CPUs
    const cpuMsPerRequest: Record<string, number> = {};
    for (const [k, pid] of Object.entries(procs))
      if (pid) cpuMsPerRequest[k] = ((((await processTicks(pid)) ?? 0) - (t0[k] ?? 0)) * 10) / stats.requests;
    if (m0 && m1) cpuMsPerRequest['machine (all processes)'] = ((m1.busy - m0.busy) * 10) / stats.requests;
    if (failures > 0) throw new Error(`${name}: ${failures} failed requests`);
    process.stdout.write(
      `${name.padEnd(34)} ${stats.reqPerSec.toFixed(0).padStart(7)} req/s  p50 ${stats.p50.toFixed(2)} ms` +
        `  p99 ${stats.p99.toFixed(2)} ms  max ${stats.max.toFixed(1)} ms` +
        `${stats.truncated ? `  (stopped at ${stats.requests} by the time bound)` : ''}\n`,
    );
    process.stdout.write(
      `${''.padEnd(34)} CPU ms/request: ${Object.entries(cpuMsPerRequest)
        .map(([k, v]) => `${k} ${v.toFixed(2)}`)
        .join(', ')}\n`,
    );
    return { name, url: origin, stats, cpuMsPerRequest, loadBefore, loadAfter };
  } finally {
    await pool.close();
  }
}

try {
  // (a) the bare handler, alone on the machine
  const bare = await startChild('bare');
  const a = await measure(
    '(a) bare Fastify + pg',
    bare.url,
    (id) => `/patients/${id}`,
    {},
    { bare: bare.child.pid },
  );
  await stopChild(bare.child);

  // (b) gateway → Patient service
  const profileDir = (role: string) => fileURLToPath(new URL(`${role}-${runId}/`, PROFILE_DIR));
  const profiling = (role: string) =>
    args.profile ? ['--cpu-prof', '--cpu-prof-dir', profileDir(role)] : [];
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
  const auth = { authorization: `Bearer ${token}` };
  // the gateway learns the routes' permissions from the service's OpenAPI document: wait for it
  const probe = new Pool(gateway.url, { connections: 1 });
  const first = ids[0] as string;
  let checks: Record<string, unknown> = {};
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
      checks = {
        ratelimitLimit: res.headers['ratelimit-limit'],
        ratelimitRemaining: res.headers['ratelimit-remaining'],
        statusWithoutPermission: denied.statusCode,
        statusWithoutToken: anon.statusCode,
      };
      process.stdout.write(`gateway checks: ${JSON.stringify(checks)}\n`);
      if (denied.statusCode !== 403 || anon.statusCode !== 401 || !res.headers['ratelimit-limit'])
        throw new Error('the gateway does not enforce its checks');
      break;
    }
    if (attempt > 100) throw new Error(`the gateway answers ${res.statusCode}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  await probe.close();
  const b = await measure(
    '(b) gateway → Patient service',
    gateway.url,
    (id) => `/api/v1/patients/${id}`,
    auth,
    {
      gateway: gateway.child.pid,
      patient: patient.child.pid,
    },
  );
  // (c) the Patient service alone, same token: splits (b) into the gateway's share and the service's
  const c = await measure('(c) Patient service direct', patient.url, (id) => `/api/v1/patients/${id}`, auth, {
    patient: patient.child.pid,
  });
  await stopChild(gateway.child);
  // (d) the least a Node hop costs: a proxy that checks nothing, in front of the same service
  const proxy = await startChild('proxy', { PATIENT_URL: patient.url });
  const d = await measure(
    '(d) minimal proxy → Patient service',
    proxy.url,
    (id) => `/api/v1/patients/${id}`,
    auth,
    {
      proxy: proxy.child.pid,
      patient: patient.child.pid,
    },
  );
  await stopChild(proxy.child);
  await stopChild(patient.child);

  const ratio = b.stats.reqPerSec / a.stats.reqPerSec;
  process.stdout.write(
    `d/a throughput ${(d.stats.reqPerSec / a.stats.reqPerSec).toFixed(2)} (a hop that checks nothing); ` +
      `b/d ${(b.stats.reqPerSec / d.stats.reqPerSec).toFixed(2)} (the gateway's checks and features)\n`,
  );
  const met = ratio >= 0.5 && b.stats.p99 <= 25;
  process.stdout.write(
    `b/a throughput ${ratio.toFixed(2)}; target b/a ≥ 0.5 and p99(b) ≤ 25 ms: ${met ? 'met' : 'NOT met'}\n`,
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
        target: { ratio: 0.5, p99Ms: 25, met },
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
