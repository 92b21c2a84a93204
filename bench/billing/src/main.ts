/**
 * Billing benchmark (issue #13): the lag from an appointment.created.v1 committed to its draft
 * invoice visible, at a fixed offered rate, open loop, against the local PostgreSQL and RabbitMQ,
 * with Billing as cluster mode runs it (a process of its own, its production settings: the
 * PostgresDb pool at DB_POOL_MAX's default, the inbox with its group commit, JSON logs at info to
 * bench/results/billing-bench-billing.log).
 *
 * The events are published by this process straight onto the run's RabbitMQ exchange, as
 * Appointment's outbox relay publishes them once their booking committed (booking 100
 * appointments a second through Appointment itself does not fit this 2-core VM beside Billing):
 * event k's lag runs from its DUE time (it is sent then, whether or not earlier ones are done)
 * to the moment its invoice is first seen in Billing's table (`billing.invoices`, polled for the
 * events in flight every --poll-ms), so up to one poll interval late. Half the appointment types
 * are priced in the fee schedule, half are not (drafted flagged for pricing). Warm-up at the same
 * rate first. Target: p99 ≤ 500 ms at 100 appointments/s.
 *
 * Prints p50/p95/p99/max, the achieved rate and failures; writes
 * bench/results/billing-<time>.json. The database (hms_bench_billing) is created afresh by every
 * run and left for inspection.
 *
 *   npm run bench:billing -- [--rate 100] [--seconds 30] [--warmup 5] [--poll-ms 5] [--timeout 30]
 *
 * Infrastructure: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres),
 * BENCH_AMQP_URL (amqp://guest:guest@127.0.0.1:5672), BENCH_REDIS_URL (redis://127.0.0.1:6379).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { exportJWK } from 'jose';
import type { Appointment } from '@hms/contracts';
import { RabbitBus, buildEnvelope, createLogger, uuidv7 } from '@hms/platform';
import {
  createTestKeys,
  intArg,
  openLoop,
  percentile,
  type BenchChildConfig,
  type FromBenchChild,
} from '@hms/testkit';
import pg from 'pg';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '5' },
    'poll-ms': { type: 'string', default: '5' },
    timeout: { type: 'string', default: '30' },
  },
});
const RATE = intArg('rate', args.rate, 1, 100_000);
const SECONDS = intArg('seconds', args.seconds, 1, 3600);
const WARMUP = intArg('warmup', args.warmup, 0, 3600);
const POLL_MS = intArg('poll-ms', args['poll-ms'], 1, 10_000);
const TIMEOUT_MS = intArg('timeout', args.timeout, 1, 3600) * 1000;

const PG_SERVER = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const AMQP_URL = process.env.BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const DB_NAME = 'hms_bench_billing';
const RESULTS_DIR = new URL('../../results/', import.meta.url);
const TARGET = { p99Ms: 500, rate: 100 };
const TYPES = ['consult-30', 'consult-60', 'follow-up', 'vaccination'];
const PRICED = TYPES.slice(0, 2);

mkdirSync(RESULTS_DIR, { recursive: true });
const load = () => loadavg().map((l) => Math.round(l * 100) / 100);
const out = (line: string) => process.stdout.write(`${line}\n`);
out(
  `billing bench: ${RATE} appointment.created.v1/s for ${SECONDS} s (+${WARMUP} s warm-up), poll every ${POLL_MS} ms; ` +
    `${cpus().length} CPUs, load average ${load().join(' ')}`,
);

const server = new pg.Client({ connectionString: PG_SERVER });
await server.connect();
await server.query(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
await server.query(`CREATE DATABASE ${DB_NAME}`);
await server.end();
const dbUrl = Object.assign(new URL(PG_SERVER), { pathname: `/${DB_NAME}` }).toString();

const keys = await createTestKeys();
const runId = randomBytes(4).toString('hex');
const namespace = `hms-bench-bill-${runId}`;
const config: BenchChildConfig<'billing'> = {
  role: 'billing',
  databaseUrl: dbUrl,
  amqpUrl: AMQP_URL,
  amqpNamespace: namespace,
  redisUrl: REDIS_URL,
  redisPrefix: `hms-bench-bill:${runId}:`,
  jwksUrl: keys.jwksUrl,
  signingKey: { jwk: { ...(await exportJWK(keys.privateKey)) }, kid: keys.kid },
  env: {},
  logFile: fileURLToPath(new URL('billing-bench-billing.log', RESULTS_DIR)),
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
  child.once('exit', (code) => reject(new Error(`billing exited with ${code} before it was ready`)));
  child.on('message', (m: FromBenchChild) => {
    if (m.kind === 'ready') resolve(m.url);
  });
});
out(`billing ${url} (pid ${child.pid})`);

const bus = await RabbitBus.connect({ url: AMQP_URL, namespace, logger: createLogger('bench', 'warn') });
const monitor = new pg.Client({ connectionString: dbUrl, application_name: 'hms-bench-monitor' });
await monitor.connect();

try {
  const token = await keys.mint({ roles: ['billing'], expiresInSec: 3600 });
  for (const code of PRICED) {
    const res = await fetch(`${url}/api/v1/billing/fee-schedule/${code}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ description: `Fee of ${code}`, unitPrice: 12_000, currency: 'USD' }),
    });
    if (res.status !== 201) throw new Error(`fee schedule: ${res.status} ${await res.text()}`);
  }

  /** Appointments in flight, by id: resolved once their invoice is seen. */
  const waiting = new Map<string, { resolve: () => void; reject: (e: Error) => void; deadline: number }>();
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      if (waiting.size > 0) {
        const ids = [...waiting.keys()];
        const { rows } = await monitor.query<{ appointment_id: string }>(
          'SELECT appointment_id FROM billing.invoices WHERE appointment_id = ANY($1::uuid[])',
          [ids],
        );
        for (const r of rows) {
          waiting.get(r.appointment_id)?.resolve();
          waiting.delete(r.appointment_id);
        }
        const now = Date.now();
        for (const [id, w] of waiting)
          if (w.deadline < now) {
            w.reject(new Error(`no invoice for appointment ${id} within ${TIMEOUT_MS} ms`));
            waiting.delete(id);
          }
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  })();

  const patients = Array.from({ length: 500 }, () => uuidv7());
  const staffId = uuidv7();
  const send = async (i: number): Promise<void> => {
    const now = new Date().toISOString();
    const start = new Date(Date.UTC(2031, 0, 6, 9) + i * 60_000);
    const appointment: Appointment = {
      id: uuidv7(),
      patientId: patients[i % patients.length] as string,
      staffId,
      type: TYPES[i % TYPES.length] as string,
      start: start.toISOString(),
      end: new Date(start.getTime() + 30 * 60_000).toISOString(),
      bufferBeforeMin: 0,
      bufferAfterMin: 0,
      status: 'scheduled',
      history: [{ at: now, action: 'booked', by: 'bench' }],
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    const seen = new Promise<void>((resolve, reject) =>
      waiting.set(appointment.id, { resolve, reject, deadline: Date.now() + TIMEOUT_MS }),
    );
    const envelope = buildEnvelope('appointment', {
      type: 'appointment.created.v1',
      subject: appointment.id,
      data: { appointment },
    });
    await bus.publish([envelope]);
    await seen;
  };

  if (WARMUP > 0) await openLoop(RATE, WARMUP, (i) => send(1_000_000 + i));
  const loadBefore = load();
  const r = await openLoop(RATE, SECONDS, send);
  const loadAfter = load();
  watching = false;
  await watcher;
  const sorted = [...r.latencies].sort((a, b) => a - b);
  const ms = (v: number) => Math.round(v * 10) / 10;
  const stats = {
    offeredRate: RATE,
    seconds: SECONDS,
    offered: r.offered,
    drafted: sorted.length,
    failures: r.failures,
    ...(r.firstFailure ? { firstFailure: r.firstFailure } : {}),
    achievedRate: Math.round(r.achievedRate * 10) / 10,
    p50: ms(percentile(sorted, 50)),
    p95: ms(percentile(sorted, 95)),
    p99: ms(percentile(sorted, 99)),
    max: ms(sorted[sorted.length - 1] ?? NaN),
    sendLagP99: ms(r.sendLagP99),
    loadBefore,
    loadAfter,
  };
  const { rows } = await monitor.query<{ priced: number; unpriced: number }>(
    `SELECT count(*) FILTER (WHERE NOT needs_pricing)::int AS priced, count(*) FILTER (WHERE needs_pricing)::int AS unpriced
       FROM billing.invoices`,
  );
  out(
    `appointment.created.v1 → draft invoice visible: p50 ${stats.p50} ms, p95 ${stats.p95} ms, p99 ${stats.p99} ms, ` +
      `max ${stats.max} ms; ${stats.drafted}/${stats.offered} drafted at ${stats.achievedRate}/s, ${stats.failures} failures; ` +
      `invoices in all: ${rows[0]?.priced} priced, ${rows[0]?.unpriced} flagged for pricing; load ${loadBefore.join(' ')} → ${loadAfter.join(' ')}`,
  );
  const met = stats.failures === 0 && stats.p99 <= TARGET.p99Ms;
  out(`target p99 ≤ ${TARGET.p99Ms} ms at ${TARGET.rate}/s: ${met ? 'met' : 'NOT met'}`);
  const file = new URL(`billing-${new Date().toISOString().replace(/[:.]/g, '-')}.json`, RESULTS_DIR);
  writeFileSync(file, JSON.stringify({ stats, target: TARGET, cpus: cpus().length }, null, 2));
  out(`wrote ${fileURLToPath(file)}`);
} finally {
  await monitor.end();
  await bus.close();
  if (child.exitCode === null && child.connected) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.send({ kind: 'stop' });
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
}
