import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createThrowawayDatabase, createTestKeys, testServerUrl, type TestKeys } from '@hms/testkit';

/**
 * Operations endpoints are off the public port (issue #16, ADR 0019), shown on a standalone
 * service as `node services/patient/dist/main.js` runs it (real PostgreSQL, RabbitMQ and Redis):
 * its public port answers `/metrics` 404, its management listener answers it, and the dead-letter
 * administration there wants a token with `events:manage`.
 */
const root = fileURLToPath(new URL('../../../', import.meta.url));
const amqp = process.env.TEST_AMQP_URL;
const redis = process.env.TEST_REDIS_URL;
const server = testServerUrl();

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });

describe.runIf(amqp && redis && server)('a standalone service', () => {
  let child: ChildProcess;
  let keys: TestKeys;
  let drop: () => Promise<void>;
  let publicUrl: string;
  let managementUrl: string;

  beforeAll(async () => {
    keys = await createTestKeys();
    const db = await createThrowawayDatabase(server as string, 'hms_test_mgmt');
    drop = () => db.drop();
    const [port, managementPort] = [await freePort(), await freePort()];
    publicUrl = `http://127.0.0.1:${port}`;
    managementUrl = `http://127.0.0.1:${managementPort}`;
    child = spawn(process.execPath, [join(root, 'services/patient/dist/main.js')], {
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: db.url,
        AMQP_URL: amqp,
        REDIS_URL: redis,
        JWKS_URL: keys.jwksUrl,
        HOST: '127.0.0.1',
        PORT: String(port),
        MANAGEMENT_PORT: String(managementPort),
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    // bounded: a service that does not come up fails the test rather than hanging it
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ready = await fetch(`${publicUrl}/health/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error('the patient service did not start');
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 60_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await drop?.();
  });

  it('answers /metrics 404 on its public port', async () => {
    const res = await fetch(`${publicUrl}/metrics`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect((await fetch(`${publicUrl}/admin/events/patient/dead-letters`)).status).toBe(404);
  });

  it('answers /metrics on its management listener, with its own samples', async () => {
    await fetch(`${publicUrl}/health/live`);
    const res = await fetch(`${managementUrl}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    const served = text
      .split('\n')
      .find(
        (l) => l.startsWith('http_request_duration_seconds_count{') && l.includes('route="/health/live"'),
      );
    expect(served).toContain('service="patient"');
    expect(Number(served?.split(' ').pop())).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^process_cpu_user_seconds_total/m);
  });

  it('wants a token holding events:manage for the dead-letter administration', async () => {
    const path = `${managementUrl}/admin/events/patient/dead-letters`;
    expect((await fetch(path)).status).toBe(401);
    const nurse = await keys.mint({ roles: ['nurse'] });
    expect((await fetch(path, { headers: { authorization: `Bearer ${nurse}` } })).status).toBe(403);
    const admin = await keys.mint({ roles: ['admin'] });
    const answer = await fetch(path, { headers: { authorization: `Bearer ${admin}` } });
    // Patient consumes no events: there is no queue of its to administer
    expect(answer.status).toBe(404);
    const services = await fetch(`${managementUrl}/admin/services`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(await services.json()).toEqual({ items: [{ name: 'patient', consumesEvents: false }] });
  });
});
