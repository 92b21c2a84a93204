/**
 * One server of the benchmark, in a process of its own (its own event loop, as in production):
 * the bare Fastify + pg handler, the Patient service or the gateway. Started by main.ts, which
 * sends its configuration as argv[2] and is told the listening URL over IPC.
 */
import { gatewayService } from '@hms/gateway';
import { patientService } from '@hms/patient';
import {
  InProcessBus,
  loggerOptions,
  logDestination,
  RedisStore,
  startModule,
  type ServiceModule,
} from '@hms/platform';
import Fastify from 'fastify';
import { createServer } from 'node:http';
import { Pool } from 'undici';
import pg from 'pg';
import { pino } from 'pino';
import type { ChildConfig, FromChild, ToChild } from './protocol.js';

const config = JSON.parse(process.argv[2] ?? '{}') as ChildConfig;

function send(message: FromChild): void {
  process.send?.(message);
}

const COLUMNS = `id, mrn, given_name, family_name, birth_date, sex, phone, email, address, emergency_contact,
  insurance, allergies, conditions, status, version, created_at, updated_at`;

/**
 * The reference: GET /patients/:id → one SELECT by primary key on the same table → the row as
 * JSON. No authentication, no schema, no logging: the floor any service of this stack stands on.
 */
async function startBare(): Promise<{ url: string; close(): Promise<void> }> {
  pg.types.setTypeParser(pg.types.builtins.DATE, (v: string) => v); // dates as written, like the service
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 10 }); // PostgresDb's default
  const app = Fastify({ logger: false });
  app.get<{ Params: { id: string } }>('/patients/:id', async (request, reply) => {
    const { rows } = await pool.query(`SELECT ${COLUMNS} FROM patient.patients WHERE id = $1`, [
      request.params.id,
    ]);
    if (rows.length === 0) return reply.code(404).send({ status: 404 });
    return rows[0] as unknown;
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (typeof address !== 'object' || !address) throw new Error('did not listen');
  return {
    url: `http://127.0.0.1:${address.port}`,
    async close() {
      await app.close();
      await pool.end();
    },
  };
}

/**
 * A service as `runStandalone` runs it, through the kit's `startModule`: PostgresDb (and the
 * relay's own connection), RedisStore with the deny-list, registry, balancer and verifier on it,
 * metrics with process metrics, one log line per request at level info (to a file). One adapter
 * differs: the event bus is the in-process one (no RabbitMQ is declared for a benchmark); neither
 * a read nor the gateway publishes anything.
 */
async function startKitService(mod: ServiceModule): Promise<{ url: string; close(): Promise<void> }> {
  const logger = pino(loggerOptions(mod.name, 'info'), logDestination(config.logFile));
  const store = new RedisStore(config.redisUrl, config.redisPrefix);
  const bus = new InProcessBus();
  const running = await startModule(mod, {
    env: { ...process.env, ...config.env, DATABASE_URL: config.databaseUrl },
    store,
    bus,
    jwksUrl: config.jwksUrl,
    logger,
    listen: { host: '127.0.0.1', port: 0 },
  });
  return {
    url: running.url,
    async close() {
      await running.close();
      await bus.close();
      await store.close();
    },
  };
}

/**
 * A reference, not a gateway: the least any Node proxy does per request (node:http server, one
 * undici Pool to the service, headers passed through, small answers buffered as the gateway
 * buffers them), with no check of any kind. What a hop costs on this machine by itself.
 */
async function startProxy(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const pool = new Pool(target, { connections: 128, pipelining: 1, keepAliveTimeout: 60_000 });
  const server = createServer((req, res) => {
    const headers = { ...req.headers };
    delete headers.host;
    delete headers.connection;
    pool
      .request({ method: req.method as 'GET', path: req.url ?? '/', headers })
      .then(async (answer) => {
        const body = Buffer.from(await answer.body.arrayBuffer());
        const out = { ...answer.headers };
        delete out.connection;
        delete out['keep-alive'];
        res.writeHead(answer.statusCode, out);
        res.end(body);
      })
      .catch(() => {
        res.statusCode = 502;
        res.end();
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('did not listen');
  return {
    url: `http://127.0.0.1:${address.port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await pool.close();
    },
  };
}

const server =
  config.role === 'bare'
    ? await startBare()
    : config.role === 'proxy'
      ? await startProxy(config.env.PATIENT_URL as string)
      : await startKitService(config.role === 'gateway' ? gatewayService : patientService);

process.on('message', (message: ToChild) => {
  if (message.kind !== 'stop') return;
  void server.close().then(() => {
    send({ kind: 'stopped' });
    process.disconnect();
  });
});
// the bench process went away (it failed): do not linger
process.on('disconnect', () => process.exit(0));
send({ kind: 'ready', url: server.url });
