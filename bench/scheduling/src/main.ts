/**
 * Scheduling benchmark (issue #11), against the local PostgreSQL, RabbitMQ and Redis, with the
 * services as cluster mode runs them: one process each for Staff, Patient, Appointment and the
 * gateway, on their production settings (PostgresDb pools at the default DB_POOL_MAX, the outbox
 * relay, RabbitMQ events, Redis rate limits and deny-list, real ES256 tokens from test keys the
 * verifiers trust, JSON logs at info to bench/results/scheduling-bench-<service>.log). Seeds
 * through the gateway's API: S staff members (Monday–Friday 08:00–18:00 in six time zones), S × M
 * patients, and lets their events fill Appointment's local copies.
 *
 *   (1) Bookings: POST /api/v1/appointments through the gateway at N keep-alive connections, each
 *       booking a distinct free 15-minute slot (booking k: staff member k mod S, the next slot of
 *       their working time; the patient one of M who only see that staff member, so neither
 *       exclusion constraint is ever hit), against the baseline measured in the same run: the
 *       same write from bare `pg` (BEGIN; INSERT into a copy of the appointments table with its
 *       constraints; INSERT the outbox row; COMMIT) from N pooled connections. Both are measured
 *       in interleaved rounds (each round a slice of each, the order rotated) so the machine's
 *       drifting speed weighs on them alike. The warm-up books every staff member once (the first
 *       booking fills Appointment's copy of their time off); Appointment's outbound HTTP calls are
 *       counted over the measured rounds (a warm booking makes none). Target: b/a ≥ 0.50.
 *   (2) The slot finder: GET /api/v1/appointments/slots for one staff member (around the clock,
 *       UTC) over 4 weeks holding B booked ten-minute appointments (inserted with SQL), in an
 *       OPEN loop at a fixed offered rate (latency from each request's due time), through the
 *       gateway unless --finder-via direct. Target: p95 ≤ 25 ms at 100 requests/s.
 *
 * Prints req/s, p50/p95/p99 and the ratios; writes bench/results/scheduling-<time>.json. The
 * database (hms_bench_scheduling) is created afresh by every run and left for inspection.
 *
 *   npm run bench:scheduling -- [--staff 200] [--patients-per-staff 5] [--connections 50]
 *                               [--requests 20000] [--warmup 2000] [--rounds 5] [--max-seconds 300]
 *                               [--booked 2000] [--rate 100] [--seconds 30] [--finder-warmup 5]
 *                               [--finder-via gateway|direct]
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
import { exportJWK } from 'jose';
import {
  closedLoop,
  createTestKeys,
  intArg,
  machineTicks,
  openLoop,
  percentile,
  processTicks,
  summarize,
  type OpenLoopResult,
} from '@hms/testkit';
import pg from 'pg';
import { Pool } from 'undici';
import { BareBookings } from './bare.js';

import type { ChildConfig, FromChild, Role } from './protocol.js';
import {
  ALWAYS,
  Api,
  BOOKING_TYPE,
  BookingPlan,
  FINDER_TYPE,
  daysAhead,
  freshDatabase,
  inParallel,
  patientBody,
  prepareBare,
  scheduleOf,
  seedFinderBookings,
  slotsOf,
  staffBody,
  syntheticIds,
} from './seed.js';

const { values: args } = parseArgs({
  options: {
    staff: { type: 'string', default: '200' },
    'patients-per-staff': { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
    requests: { type: 'string', default: '20000' },
    warmup: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '5' },
    'max-seconds': { type: 'string', default: '300' },
    booked: { type: 'string', default: '2000' },
    rate: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '30' },
    'finder-warmup': { type: 'string', default: '5' },
    'finder-via': { type: 'string', default: 'gateway' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout.write(`usage: npm run bench:scheduling -- [options]
  --staff S                staff members bookings are spread over (default 200)
  --patients-per-staff M   patients per staff member; S × M are registered (default 5)
  --connections N          keep-alive connections to the gateway, and the baseline's pg pool (default 50)
  --requests R             measured bookings per set-up, over all rounds (default 20000)
  --warmup W               bookings per set-up before measuring; at least S (default 2000)
  --rounds K               interleaved rounds (default 5)
  --max-seconds T          time bound of the measured rounds, both set-ups together (default 300)
  --booked B               booked appointments of the slot finder's staff member in its 4 weeks (default 2000)
  --rate Q                 slot finder: offered requests/s, open loop (default 100)
  --seconds D              slot finder: measured seconds (default 30)
  --finder-warmup U        slot finder: seconds at the rate before measuring (default 5)
  --finder-via gateway|direct   slot finder through the gateway (default) or to Appointment directly
`);
  process.exit(0);
}
const STAFF = intArg('staff', args.staff, 1, 100_000);
const PER_STAFF = intArg('patients-per-staff', args['patients-per-staff'], 1, 1000);
const CONNECTIONS = intArg('connections', args.connections, 1, 1000);
const REQUESTS = intArg('requests', args.requests, 1, 10_000_000);
const WARMUP = Math.max(STAFF, intArg('warmup', args.warmup, 0, 10_000_000));
const ROUNDS = intArg('rounds', args.rounds, 1, 1000);
const MAX_MS = intArg('max-seconds', args['max-seconds'], 1, 36_000) * 1000;
const BOOKED = intArg('booked', args.booked, 0, 4000);
const RATE = intArg('rate', args.rate, 1, 100_000);
const SECONDS = intArg('seconds', args.seconds, 1, 3600);
const FINDER_WARMUP = intArg('finder-warmup', args['finder-warmup'], 0, 3600);
const FINDER_VIA = args['finder-via'];
if (FINDER_VIA !== 'gateway' && FINDER_VIA !== 'direct')
  throw new Error('--finder-via must be gateway or direct');

const PG_SERVER = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const AMQP_URL = process.env.BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const DB_NAME = 'hms_bench_scheduling';
const RESULTS_DIR = new URL('../../results/', import.meta.url);
/** Budgets no benchmark run can spend: the limiter counts every request in Redis, rejects none. */
const HUGE_RATE = '1000000000/60';
/** The slot finder's range: 4 weeks (the API takes at most 31 days). */
const FINDER_DAYS = 28;
const DAY = 86_400_000;
const API = '/api/v1/appointments';
const TARGET = { ratio: 0.5, finderP95Ms: 25, finderRate: 100 };

mkdirSync(RESULTS_DIR, { recursive: true });
const load = () => loadavg().map((l) => Math.round(l * 100) / 100);
const loadAtStart = load();
const out = (line: string) => process.stdout.write(`${line}\n`);
out(
  `scheduling bench: ${STAFF} staff, ${STAFF * PER_STAFF} patients, ${CONNECTIONS} connections, ` +
    `${REQUESTS} bookings (+${WARMUP} warm-up) per set-up in ${ROUNDS} interleaved rounds; slot finder ` +
    `${BOOKED} booked, ${RATE}/s for ${SECONDS} s via ${FINDER_VIA}; ${cpus().length} CPUs, load average ${loadAtStart.join(' ')}`,
);

// ---- infrastructure and processes

const t0 = performance.now();
const dbUrl = await freshDatabase(PG_SERVER, DB_NAME);
await prepareBare(dbUrl);

const keys = await createTestKeys();
const mint = (roles: string[]) => keys.mint({ roles, expiresInSec: 3600 });
const tokens = {
  desk: await mint(['receptionist']), // appointments:read|write, patients:read|write, staff:read
  manager: await mint(['manager']), // staff:read|write
  outsider: await mint(['auditor']), // no appointment permission
};
const signingKey = { jwk: { ...(await exportJWK(keys.privateKey)) }, kid: keys.kid };
const runId = randomBytes(4).toString('hex');
const children: ChildProcess[] = [];

async function startChild(
  role: Role,
  env: Record<string, string> = {},
): Promise<{ url: string; managementUrl: string; pid: number }> {
  const config: ChildConfig = {
    role,
    databaseUrl: dbUrl,
    amqpUrl: AMQP_URL,
    amqpNamespace: `hms-bench-sched-${runId}`,
    redisUrl: REDIS_URL,
    redisPrefix: `hms-bench-sched:${runId}:`,
    jwksUrl: keys.jwksUrl,
    signingKey,
    env,
    logFile: fileURLToPath(new URL(`scheduling-bench-${role}.log`, RESULTS_DIR)),
  };
  writeFileSync(config.logFile, '');
  const child = fork(fileURLToPath(new URL('./child.js', import.meta.url)), [JSON.stringify(config)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    // BENCH_PROFILE=appointment: a CPU profile of that service, written to bench/results on exit
    execArgv:
      process.env.BENCH_PROFILE === role ? ['--cpu-prof', '--cpu-prof-dir=bench/results'] : process.execArgv,
  });
  children.push(child);
  const ready = await new Promise<{ url: string; managementUrl: string }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${role} exited with ${code} before it was ready`)));
    child.on('message', (m: FromChild) => {
      if (m.kind === 'ready') resolve(m);
    });
  });
  return { url: ready.url, managementUrl: ready.managementUrl, pid: child.pid as number };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || !child.connected) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.send({ kind: 'stop' });
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Asks until `ask` answers true, or fails after `ms`. */
async function until(what: string, ms: number, ask: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ask())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** Appointment's outbound HTTP calls so far (its `http_client_requests_total`, all upstreams and outcomes). */
async function outboundCalls(managementUrl: string): Promise<number> {
  const res = await fetch(`${managementUrl}/metrics`);
  const text = await res.text();
  let sum = 0;
  for (const line of text.split('\n'))
    if (line.startsWith('http_client_requests_total')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

/**
 * The bench process's one connection to the bench database, for every query it makes itself
 * (PostgreSQL's stock max_connections is 100, and the run needs most of them: the baseline's
 * pool, each service's pool and relay connection).
 */
const monitor = new pg.Client({ connectionString: dbUrl, application_name: 'hms-bench-monitor' });
await monitor.connect();
const query = async <R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> =>
  (await monitor.query<R>(text, values)).rows;

/** The bench database's PostgreSQL backends right now (pids), but the monitor's. */
async function backendPids(): Promise<number[]> {
  const rows = await query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
    [DB_NAME],
  );
  return rows.map((r) => r.pid);
}

{
  // a warning, not a stop: other work may be holding connections only for now
  const [c] = await query<{ max: number; used: number }>(
    `SELECT current_setting('max_connections')::int AS max, (SELECT count(*) FROM pg_stat_activity)::int AS used`,
  );
  const needed = CONNECTIONS + 4 * 11 + 1;
  if (c && c.max - c.used < needed)
    out(
      `warning: PostgreSQL has ${c.max - c.used} of ${c.max} connections free; this run may open ${needed} ` +
        `(the baseline's ${CONNECTIONS}, each service's pool of 10 and relay connection)`,
    );
}
const apis: { close(): Promise<void> }[] = [];

try {
  const staffSvc = await startChild('staff');
  const patientSvc = await startChild('patient');
  const appointmentSvc = await startChild('appointment', {
    STAFF_URL: staffSvc.url,
    PATIENT_URL: patientSvc.url,
  });
  const gateway = await startChild('gateway', {
    STAFF_URL: staffSvc.url,
    PATIENT_URL: patientSvc.url,
    APPOINTMENT_URL: appointmentSvc.url,
    RATE_LIMIT_IP: HUGE_RATE,
    RATE_LIMIT_PRINCIPAL: HUGE_RATE,
    RATE_LIMIT_PREFIX: `hms-bench-sched-${runId}-rl`,
  });
  out(
    `services: gateway ${gateway.url} (pid ${gateway.pid}), staff (pid ${staffSvc.pid}), ` +
      `patient (pid ${patientSvc.pid}), appointment ${appointmentSvc.url} (pid ${appointmentSvc.pid})`,
  );
  const api = new Api(gateway.url);
  apis.push(api);

  // the gateway routes by the services' OpenAPI documents: wait until it knows all three
  await until('the gateway to route to the services', 60_000, async () => {
    const [types, staff, patient] = await Promise.all([
      api.call('GET', `${API}/types`, tokens.desk),
      api.call('GET', '/api/v1/staff?limit=1', tokens.manager),
      api.call('GET', `/api/v1/patients/${randomUUID()}`, tokens.desk),
    ]);
    return types.status === 200 && staff.status === 200 && patient.status === 404;
  });
  // evidence that the checks are on: a token without the permission and no token are refused
  const denied = await api.call('POST', API, tokens.outsider, {});
  const anonymous = await api.call('POST', API, undefined, {});
  const limited = await api.call('GET', `${API}/types`, tokens.desk);
  const checks = {
    statusWithoutPermission: denied.status,
    statusWithoutToken: anonymous.status,
    ratelimitLimit: limited.headers['ratelimit-limit'],
  };
  out(`gateway checks: ${JSON.stringify(checks)}`);
  if (denied.status !== 403 || anonymous.status !== 401 || !limited.headers['ratelimit-limit'])
    throw new Error('the gateway does not enforce its checks');

  // ---- seed through the API

  const tSeed = performance.now();
  await api.create(`${API}/types`, tokens.desk, BOOKING_TYPE);
  await api.create(`${API}/types`, tokens.desk, FINDER_TYPE);
  const staffIds = (
    await inParallel(STAFF, 8, (i) =>
      api.create<{ id: string }>('/api/v1/staff', tokens.manager, staffBody(i, scheduleOf(i))),
    )
  ).map((s) => s.id);
  const finder = await api.create<{ id: string }>(
    '/api/v1/staff',
    tokens.manager,
    staffBody(0, ALWAYS, 'Finder'),
  );
  const patientIds = (
    await inParallel(STAFF * PER_STAFF, 8, (i) =>
      api.create<{ id: string }>('/api/v1/patients?confirmDuplicate=true', tokens.desk, patientBody(i)),
    )
  ).map((p) => p.id);
  // their events fill Appointment's copies (no booking needs a read-through for them)
  await until("Appointment's copies of the staff and patients", 180_000, async () => {
    const rows = await query<{ kind: string; n: number }>(
      `SELECT kind, count(*)::int AS n FROM appointment.local_copies GROUP BY kind`,
    );
    const n = (kind: string) => rows.find((r) => r.kind === kind)?.n ?? 0;
    return n('staff') >= STAFF + 1 && n('patient') >= STAFF * PER_STAFF;
  });
  const finderFrom = daysAhead(2);
  await seedFinderBookings(monitor, finder.id, finderFrom, FINDER_DAYS, BOOKED);
  const seedSeconds = (performance.now() - tSeed) / 1000;
  out(
    `seeded through the gateway in ${seedSeconds.toFixed(1)} s: ${STAFF + 1} staff, ${patientIds.length} patients ` +
      `(copied to Appointment by their events), ${BOOKED} bookings of the slot finder's staff member (SQL)`,
  );

  // ---- (1) bookings: bare pg against the gateway → Appointment

  const perStaff = Math.ceil((WARMUP + REQUESTS) / STAFF) + 1;
  const bookFrom = daysAhead(2);
  const slots = staffIds.map((_, i) => slotsOf(scheduleOf(i), bookFrom, perStaff, BOOKING_TYPE.durationMin));
  const servicePlan = new BookingPlan(staffIds, patientIds, slots);
  const barePlan = new BookingPlan(syntheticIds(STAFF), syntheticIds(STAFF * PER_STAFF), slots);
  const bare = new BareBookings(dbUrl, CONNECTIONS, barePlan);
  apis.push(bare);
  await bare.open();
  const pool = new Pool(gateway.url, { connections: CONNECTIONS, pipelining: 1, keepAliveTimeout: 60_000 });
  apis.push(pool);
  const bookingHeaders = { authorization: `Bearer ${tokens.desk}`, 'content-type': 'application/json' };
  const bookThroughGateway = async (): Promise<number> => {
    const b = servicePlan.next();
    const res = await pool.request({
      method: 'POST',
      path: API,
      headers: bookingHeaders,
      body: JSON.stringify({
        patientId: b.patientId,
        staffId: b.staffId,
        type: BOOKING_TYPE.code,
        start: new Date(b.start).toISOString(),
      }),
    });
    const body = await res.body.text();
    if (res.statusCode !== 201) throw new Error(`booking: ${res.statusCode} ${body.slice(0, 400)}`);
    return 1;
  };

  interface Setup {
    name: string;
    op: () => Promise<number>;
    pids: Record<string, number>;
    latencies: number[];
    wallMs: number;
    truncated: boolean;
    ticks: Record<string, number>;
  }
  const setup = (name: string, op: Setup['op'], pids: Record<string, number>): Setup => ({
    name,
    op,
    pids: { ...pids, 'bench process': process.pid },
    latencies: [],
    wallMs: 0,
    truncated: false,
    ticks: {},
  });
  const setups = [
    setup('(a) bare pg: INSERT + outbox row', () => bare.book(), {}),
    setup('(b) gateway → Appointment', bookThroughGateway, {
      gateway: gateway.pid,
      appointment: appointmentSvc.pid,
      staff: staffSvc.pid,
      patient: patientSvc.pid,
    }),
  ] as const;

  /**
   * One slice: `count` bookings in a closed loop, with the CPU time of each process over it added
   * to the set-up's totals: the bench process, the services' processes, the bench database's
   * PostgreSQL backends (those alive at both ends of the slice: a pooled connection that closes
   * during it loses its share, one opened during it is not seen) and the machine as a whole.
   */
  async function slice(s: Setup, count: number, maxMs: number): Promise<void> {
    const groups: [string, number][] = Object.entries(s.pids);
    for (const pid of await backendPids()) groups.push(['postgres backends', pid]);
    const before = await Promise.all(groups.map(([, pid]) => processTicks(pid)));
    const m0 = await machineTicks();
    const r = await closedLoop(count, CONNECTIONS, maxMs, s.op);
    const m1 = await machineTicks();
    const after = await Promise.all(groups.map(([, pid]) => processTicks(pid)));
    groups.forEach(([name], i) => {
      const [start, end] = [before[i], after[i]];
      if (start !== undefined && end !== undefined) s.ticks[name] = (s.ticks[name] ?? 0) + (end - start);
    });
    if (m0 && m1) s.ticks.machine = (s.ticks.machine ?? 0) + (m1.busy - m0.busy);
    for (const l of r.latencies) s.latencies.push(l);
    s.wallMs += r.wallMs;
    s.truncated ||= r.truncated;
  }

  // warm-up: every staff member booked once at least (fills Appointment's copy of their time off)
  for (const s of setups) await closedLoop(WARMUP, CONNECTIONS, MAX_MS, s.op);
  const loadBefore = load();
  const callsBefore = await outboundCalls(appointmentSvc.managementUrl);
  const perSlice = Math.ceil(REQUESTS / ROUNDS);
  for (let round = 0; round < ROUNDS; round++)
    for (let k = 0; k < setups.length; k++)
      await slice(setups[(round + k) % setups.length] as Setup, perSlice, MAX_MS / ROUNDS / setups.length);
  const outboundDuringMeasure = (await outboundCalls(appointmentSvc.managementUrl)) - callsBefore;
  const loadAfter = load();

  const bookingResult = (s: Setup) => {
    const stats = summarize({
      latencies: s.latencies,
      wallMs: s.wallMs,
      empty: 0,
      meanItems: 1,
      truncated: s.truncated,
    });
    // clock ticks are 10 ms on Linux (USER_HZ 100); the machine's busy ticks are summed over CPUs
    const cpuMsPerBooking: Record<string, number> = {};
    for (const [k, t] of Object.entries(s.ticks))
      cpuMsPerBooking[k === 'machine' ? 'machine (all processes)' : k] = (t * 10) / stats.requests;
    out(
      `${s.name.padEnd(34)} ${stats.reqPerSec.toFixed(0).padStart(6)} bookings/s  p50 ${stats.p50.toFixed(2)} ms` +
        `  p95 ${stats.p95.toFixed(2)} ms  p99 ${stats.p99.toFixed(2)} ms  max ${stats.max.toFixed(1)} ms` +
        (stats.truncated ? `  (stopped at ${stats.requests} by the time bound)` : ''),
    );
    out(
      `${''.padEnd(34)} CPU ms/booking: ${Object.entries(cpuMsPerBooking)
        .map(([k, v]) => `${k} ${v.toFixed(2)}`)
        .join(', ')}`,
    );
    return { name: s.name, stats, cpuMsPerBooking };
  };
  out('');
  out('(1) bookings, closed loop, interleaved rounds:');
  const [a, b] = setups.map(bookingResult) as [
    ReturnType<typeof bookingResult>,
    ReturnType<typeof bookingResult>,
  ];
  const ratio = b.stats.reqPerSec / a.stats.reqPerSec;
  const bookingMet = ratio >= TARGET.ratio;
  out(
    `b/a throughput ${ratio.toFixed(2)}; target ≥ ${TARGET.ratio.toFixed(2)}: ${bookingMet ? 'met' : 'NOT met'}` +
      `; Appointment's HTTP calls during the measured rounds: ${outboundDuringMeasure}`,
  );

  await bare.close(); // its connections are not needed any more
  apis.splice(apis.indexOf(bare), 1);
  // what the database holds now, and how far the relay is behind
  const [db] = await query<{ service: number; bare: number; pending: number }>(
    `SELECT (SELECT count(*) FROM appointment.appointments WHERE type = $1)::int AS service,
            (SELECT count(*) FROM bare.appointments)::int AS bare,
            (SELECT count(*) FROM appointment.outbox WHERE published_at IS NULL)::int AS pending`,
    [BOOKING_TYPE.code],
  );
  if (!db) throw new Error('no counts');
  out(
    `rows: ${db.service} booked through the gateway (${servicePlan.used} sent), ${db.bare} by bare pg ` +
      `(${barePlan.used} sent); outbox rows not yet relayed at the end: ${db.pending}`,
  );
  if (db.service !== servicePlan.used || db.bare !== barePlan.used)
    throw new Error('the database does not hold every booking answered');
  // the slot finder is measured on a quiet system: the relay and Staff's consumer caught up
  const tDrain = performance.now();
  await until('the relay to publish the outbox', 300_000, async () => {
    const [r] = await query<{ n: number }>(
      `SELECT count(*)::int AS n FROM appointment.outbox WHERE published_at IS NULL`,
    );
    return r?.n === 0;
  });
  // …and Staff has applied them to its assignments; bounded, and not waited for when Staff
  // applies none (a Staff without that consumer is no reason to stop)
  const tStaff = Date.now();
  let staffCaughtUp = false;
  for (;;) {
    const [r] = await query<{ published: number; applied: number }>(
      `SELECT (SELECT count(*) FROM appointment.outbox WHERE type LIKE 'appointment.%')::int AS published,
              (SELECT count(*) FROM staff.inbox WHERE type LIKE 'appointment.%')::int AS applied`,
    );
    staffCaughtUp = r !== undefined && r.applied >= r.published;
    const waited = Date.now() - tStaff;
    if (staffCaughtUp || waited > 120_000 || (r?.applied === 0 && waited > 10_000)) break;
    await sleep(200);
  }
  const drainSeconds = (performance.now() - tDrain) / 1000;

  // ---- (2) the slot finder, open loop

  const finderOrigin = FINDER_VIA === 'gateway' ? gateway.url : appointmentSvc.url;
  const finderPool = new Pool(finderOrigin, { connections: 64, pipelining: 1, keepAliveTimeout: 60_000 });
  apis.push(finderPool);
  const from = new Date(finderFrom).toISOString();
  const to = new Date(finderFrom + FINDER_DAYS * DAY).toISOString();
  const finderPath =
    `${API}/slots?type=${FINDER_TYPE.code}&staffId=${finder.id}` +
    `&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
  const finderHeaders = { authorization: `Bearer ${tokens.desk}` };
  let answerBytes = 0;
  let answerSlots = 0;
  const findSlots = async (): Promise<void> => {
    const res = await finderPool.request({ method: 'GET', path: finderPath, headers: finderHeaders });
    const body = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`slots: ${res.statusCode} ${body.slice(0, 400)}`);
    if (answerBytes === 0) {
      answerBytes = body.length;
      answerSlots = (JSON.parse(body) as { slots: unknown[] }).slots.length;
    }
  };
  await findSlots(); // the first one fills the copy of the staff member's time off
  // one at a time, nothing else in flight: what a request costs before any queueing
  const unloaded: number[] = [];
  for (let i = 0; i < 20; i++) {
    const start = performance.now();
    await findSlots();
    unloaded.push(performance.now() - start);
  }
  unloaded.sort((x, y) => x - y);
  const unloadedMedian = percentile(unloaded, 50);
  if (FINDER_WARMUP > 0) await openLoop(RATE, FINDER_WARMUP, findSlots);
  const finderLoadBefore = load();
  const finderRun: OpenLoopResult = await openLoop(RATE, SECONDS, findSlots);
  const sorted = [...finderRun.latencies].sort((x, y) => x - y);
  const finder2 = {
    via: FINDER_VIA,
    path: finderPath,
    answer: { slots: answerSlots, bytes: answerBytes },
    unloadedMedianMs: unloadedMedian,
    offered: finderRun.offered,
    answered: sorted.length,
    failures: finderRun.failures,
    ...(finderRun.firstFailure ? { firstFailure: finderRun.firstFailure } : {}),
    offeredRate: RATE,
    achievedRate: finderRun.achievedRate,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? NaN,
    sendLagP99: finderRun.sendLagP99,
    sendLagMax: finderRun.sendLagMax,
    loadBefore: finderLoadBefore,
    loadAfter: load(),
  };
  const finderMet =
    finderRun.failures === 0 && RATE >= TARGET.finderRate && finder2.p95 <= TARGET.finderP95Ms;
  out('');
  out(
    `(2) slot finder via ${FINDER_VIA}, ${BOOKED} booked in ${FINDER_DAYS} days (answer: ${answerSlots} slots, ` +
      `${answerBytes} bytes), open loop at ${RATE}/s for ${SECONDS} s (waited ${drainSeconds.toFixed(1)} s for the outbox to drain` +
      `${staffCaughtUp ? " and Staff's consumer to catch up" : "; Staff's consumer had NOT caught up"}):`,
  );
  out(`    one request at a time (20, before the run): median ${unloadedMedian.toFixed(2)} ms`);
  out(
    `    p50 ${finder2.p50.toFixed(2)} ms  p95 ${finder2.p95.toFixed(2)} ms  p99 ${finder2.p99.toFixed(2)} ms` +
      `  max ${finder2.max.toFixed(1)} ms; achieved ${finder2.achievedRate.toFixed(1)}/s, ${finder2.failures} failed` +
      ` of ${finder2.offered}; send lag p99 ${finder2.sendLagP99.toFixed(2)} ms`,
  );
  out(
    `    target p95 ≤ ${TARGET.finderP95Ms} ms at ${TARGET.finderRate}/s: ${finderMet ? 'met' : 'NOT met'}` +
      (RATE < TARGET.finderRate ? ` (offered only ${RATE}/s)` : ''),
  );

  const file = new URL(`scheduling-${new Date().toISOString().replace(/[:.]/g, '-')}.json`, RESULTS_DIR);
  writeFileSync(
    file,
    JSON.stringify(
      {
        bench: 'scheduling',
        at: new Date().toISOString(),
        machine: { cpus: cpus().length, loadAtStart, node: process.version },
        config: {
          staff: STAFF,
          patients: STAFF * PER_STAFF,
          connections: CONNECTIONS,
          requests: REQUESTS,
          warmup: WARMUP,
          rounds: ROUNDS,
          maxSeconds: MAX_MS / 1000,
          booked: BOOKED,
          rate: RATE,
          seconds: SECONDS,
          finderWarmupSeconds: FINDER_WARMUP,
          finderVia: FINDER_VIA,
          processes:
            'bench process (load generator, bare pg clients), gateway, Staff, Patient, Appointment: one process each',
          rateLimit: { ip: HUGE_RATE, principal: HUGE_RATE, store: 'redis' },
          seedSeconds,
        },
        checks,
        bookings: {
          a,
          b,
          ratio,
          loadBefore,
          loadAfter,
          appointmentOutboundCallsDuringMeasure: outboundDuringMeasure,
          outboxPendingAtEnd: db.pending,
          outboxDrainSeconds: drainSeconds,
          staffConsumerCaughtUp: staffCaughtUp,
        },
        slotFinder: finder2,
        target: { ...TARGET, bookingsMet: bookingMet, finderMet },
        seconds: (performance.now() - t0) / 1000,
      },
      null,
      2,
    ),
  );
  out(`results: ${fileURLToPath(file)}`);
} finally {
  for (const x of apis.reverse()) await x.close().catch(() => undefined);
  await Promise.all(children.map(stopChild));
  await monitor.end();
}
