import {
  DependencyUnavailableError,
  PostgresDb,
  isDependencyUnavailable,
  type ServiceModule,
} from '@hms/platform';
import {
  createTestDatabase,
  createTestKeys,
  startService,
  testServerUrl,
  type RunningService,
} from '@hms/testkit';
import { expectProblem } from '@hms/testkit/vitest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { TcpProxy } from './tcp-proxy.js';

/**
 * A dependency that cannot be reached is a 503 with Retry-After (DESIGN.md §4), not a 500: a
 * service on real PostgreSQL through a TCP proxy that the test cuts and restores.
 */
const server = testServerUrl();

const counter: ServiceModule = {
  name: 'counter',
  description: 'counts rows, to need its database on every request',
  migrations: () => [{ name: 'counter/001.sql', sql: 'create table ticks (id int primary key)' }],
  setup(app, deps) {
    app.get('/api/v1/ticks', { config: { authenticated: true } }, async () => {
      const rows = await deps.db.query<{ n: string }>('select count(*)::text as n from ticks');
      return { n: Number(rows.rows[0]?.n) };
    });
  },
};

describe.runIf(server)('a database that cannot be reached', () => {
  let proxy: TcpProxy;
  let svc: RunningService;
  let drop: () => Promise<void>;
  let db: PostgresDb;
  let token: string;

  beforeAll(async () => {
    const database = await createTestDatabase('counter', 'postgres');
    drop = () => database.close();
    const target = new URL(database.url as string);
    proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    await proxy.start();
    db = new PostgresDb({ url: proxy.urlFor(database.url as string), schema: 'counter', poolMax: 3 });
    const keys = await createTestKeys();
    svc = await startService(counter, { keys, db });
    token = await keys.mint({ roles: ['nurse'] });
  }, 60_000);
  afterAll(async () => {
    await svc?.close();
    await db?.close();
    await proxy?.close();
    await drop?.();
  });

  test('answers 503 with Retry-After while it is away, and 200 again once it is back', async () => {
    expect((await svc.request('GET', '/api/v1/ticks', { token })).body).toEqual({ n: 0 });

    await proxy.cut(); // pooled connections dropped, new ones refused
    for (let i = 0; i < 3; i++) {
      const res = await svc.request('GET', '/api/v1/ticks', { token });
      const problem = expectProblem(res, 503);
      expect(problem.code).toBe('unavailable');
      expect(res.headers.get('retry-after')).toBe('2');
      expect(JSON.stringify(res.body)).not.toMatch(/select|count\(|ECONN|terminated|127\.0\.0\.1/i);
    }

    await proxy.restore();
    const deadline = Date.now() + 15_000;
    for (;;) {
      const res = await svc.request('GET', '/api/v1/ticks', { token });
      if (res.status === 200) {
        expect(res.body).toEqual({ n: 0 });
        break;
      }
      expect(res.status).toBe(503);
      expect(Date.now(), 'the service did not reach its database again').toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 60_000);
});

describe('what counts as a dependency that cannot be reached', () => {
  const coded = (code: string, message = 'x') => Object.assign(new Error(message), { code });
  test.each([
    ['a refused connection', coded('ECONNREFUSED')],
    [
      'a reset connection, its code on the cause',
      new Error('fetch failed', { cause: { code: 'ECONNRESET' } }),
    ],
    ['undici failing to connect in time', coded('UND_ERR_CONNECT_TIMEOUT')],
    [
      'PostgreSQL shutting down (57P01)',
      coded('57P01', 'terminating connection due to administrator command'),
    ],
    ['PostgreSQL starting up (57P03)', coded('57P03', 'the database system is starting up')],
    ['a connection exception (08006)', coded('08006')],
    ['too many connections (53300)', coded('53300')],
    ['pg losing its connection', new Error('Connection terminated unexpectedly')],
    ['pg-pool finding no connection in time', new Error('timeout exceeded when trying to connect')],
    ['ioredis timing a command out', new Error('Command timed out')],
    ['amqplib on a channel that went away', new Error('Channel closed')],
    ['the kit finding its broker not connected', new DependencyUnavailableError('broker')],
  ])('%s: yes', (_name, err) => {
    expect(isDependencyUnavailable(err)).toBe(true);
  });
  test.each([
    ['a unique violation (23505)', coded('23505', 'duplicate key value violates unique constraint')],
    ['a serialization failure (40001)', coded('40001')],
    ['a syntax error (42601)', coded('42601')],
    ['an ordinary bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['not an error at all', 'ECONNREFUSED'],
  ])('%s: no', (_name, err) => {
    expect(isDependencyUnavailable(err)).toBe(false);
  });
});
