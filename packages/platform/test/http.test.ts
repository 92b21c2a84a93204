import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Type } from '@sinclair/typebox';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  createHttpServer,
  createMetrics,
  createTokenVerifier,
  isUuid,
  ManagementServer,
  uuidv7,
  type App,
  type ReadinessCheck,
  SECURITY_HEADERS,
} from '@hms/platform';
import { createTestKeys, TEST_AUDIENCE, TEST_ISSUER, type TestKeys } from '@hms/testkit';
import { call, captureLogger, deferred, listen, type LogLine } from './helpers.js';

const ThingInput = Type.Object(
  {
    name: Type.String({ minLength: 2, maxLength: 50, pattern: '^[A-Za-z ]+$' }),
    quantity: Type.Integer({ minimum: 0 }),
    email: Type.Optional(Type.String({ format: 'email' })),
    phone: Type.Optional(Type.Union([Type.String({ pattern: '^\\+?[0-9 ]{6,20}$' }), Type.Null()])),
  },
  { additionalProperties: false },
);

let keys: TestKeys;

function buildApp(opts: { readiness?: ReadinessCheck[]; bodyLimit?: number; maxUrlLength?: number } = {}) {
  const { logger, lines } = captureLogger('http-test');
  const metrics = createMetrics('http-test');
  const verifier = createTokenVerifier({
    jwksUrl: keys.jwksUrl,
    issuer: TEST_ISSUER,
    audience: TEST_AUDIENCE,
  });
  const app: App = createHttpServer({
    service: 'http-test',
    logger,
    verifier,
    metrics,
    readiness: opts.readiness,
    bodyLimit: opts.bodyLimit ?? 2048,
    maxUrlLength: opts.maxUrlLength ?? 1024,
  });
  app.get(
    '/api/v1/things',
    {
      config: { permission: 'patients:read' },
      schema: {
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })) }),
      },
    },
    async (request) => ({ items: [], limit: request.query.limit ?? 20 }),
  );
  app.post(
    '/api/v1/things',
    { config: { permission: 'patients:write' }, schema: { body: ThingInput } },
    async (request, reply) => reply.code(201).send({ id: uuidv7(), ...request.body }),
  );
  app.get('/api/v1/whoami', { config: { authenticated: true } }, async (request) => ({
    sub: request.principal?.sub,
  }));
  app.get('/api/v1/boom', { config: { permission: 'patients:read' } }, async () => {
    throw new Error('lookup failed for Ada Lovelace born 1815-12-10');
  });
  app.get('/api/v1/db-boom', { config: { permission: 'patients:read' } }, async () => {
    throw Object.assign(
      new Error('duplicate key value violates unique constraint: Key (name)=(Ada Lovelace)'),
      {
        code: '23505',
        constraint: 'things_name_key',
      },
    );
  });
  return { app, lines, metrics, verifier, logger };
}

describe('HTTP kit', () => {
  let app: App;
  let url: string;
  let management: ManagementServer;
  let managementUrl: string;
  let logs: () => LogLine[];
  let reader: string;
  let writer: string;
  let ready = true;

  beforeAll(async () => {
    keys = await createTestKeys();
    const built = buildApp({
      readiness: [
        { name: 'always', check: async () => undefined },
        {
          name: 'database',
          check: async () => {
            if (!ready) throw new Error('connection refused');
          },
        },
      ],
    });
    app = built.app;
    logs = built.lines;
    url = await listen(app);
    management = new ManagementServer({
      logger: built.logger,
      verifier: built.verifier,
      metrics: createMetrics('management-test'),
    });
    management.add({ name: 'http-test', registry: built.metrics.registry });
    managementUrl = await management.listen('127.0.0.1', 0);
    reader = `Bearer ${await keys.mint({ roles: ['nurse'] })}`;
    writer = `Bearer ${await keys.mint({ roles: ['physician'] })}`;
  });
  afterAll(async () => {
    await management.close();
    await app.close();
  });

  const expectProblem = (
    res: { status: number; headers: Headers; body: Record<string, unknown> },
    status: number,
    code: string,
  ) => {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ type: `urn:hms:problem:${code.replace(/_/g, '-')}`, status, code });
    expect(typeof res.body.title).toBe('string');
    expect(res.body).not.toHaveProperty('stack');
  };

  describe('problem+json for every refusal', () => {
    test('404 for an unknown route', async () => {
      const res = await call(`${url}/api/v1/nothing-here?q=secret`);
      expectProblem(res, 404, 'not_found');
      expect(res.body.instance).toBe('/api/v1/nothing-here');
    });

    test('404 or 405 for a known path with a method it does not serve', async () => {
      const res = await call(`${url}/api/v1/things`, {
        method: 'DELETE',
        headers: { authorization: writer },
      });
      expect([404, 405]).toContain(res.status);
      expectProblem(res, res.status, res.status === 405 ? 'method_not_allowed' : 'not_found');
    });

    test('413 for a body over the limit', async () => {
      const res = await call(`${url}/api/v1/things`, {
        method: 'POST',
        headers: { authorization: writer, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'x'.repeat(3000), quantity: 1 }),
      });
      expectProblem(res, 413, 'payload_too_large');
    });

    test('414 for a URL over maxUrlLength', async () => {
      const res = await call(`${url}/api/v1/things?q=${'a'.repeat(1100)}`, {
        headers: { authorization: reader },
      });
      expectProblem(res, 414, 'uri_too_long');
    });

    test('415 for a content type the route does not parse', async () => {
      const res = await call(`${url}/api/v1/things`, {
        method: 'POST',
        headers: { authorization: writer, 'content-type': 'application/xml' },
        body: '<thing/>',
      });
      expectProblem(res, 415, 'unsupported_media_type');
    });

    test('400 for malformed JSON, without echoing the body', async () => {
      const res = await call(`${url}/api/v1/things`, {
        method: 'POST',
        headers: { authorization: writer, 'content-type': 'application/json' },
        body: '{"name": "Ada Lovelace", "quantity": 1, "note": "MARKER-1815',
      });
      expectProblem(res, 400, 'malformed_json');
      expect(res.text).not.toContain('MARKER-1815');
      expect(res.text).not.toContain('Ada Lovelace');
    });

    test('400 validation with one errors entry per bad field', async () => {
      const res = await call(`${url}/api/v1/things`, {
        method: 'POST',
        headers: { authorization: writer, 'content-type': 'application/json' },
        body: JSON.stringify({
          name: '1',
          quantity: -1,
          email: 'not-an-email',
          phone: 'call me',
          extra: true,
        }),
      });
      expectProblem(res, 400, 'validation_failed');
      const errors = res.body.errors as { path: string; message: string }[];
      expect(errors.map((e) => e.path).sort()).toEqual([
        '/body/email',
        '/body/extra',
        '/body/name',
        '/body/phone',
        '/body/quantity',
      ]);
      for (const e of errors) expect(e.message).toMatch(/\S/);
      expect(errors.find((e) => e.path === '/body/extra')?.message).toBe('is not an allowed field');
      expect(errors.find((e) => e.path === '/body/phone')?.message).toMatch(/pattern/);
      expect(res.text).not.toContain('call me');
    });

    test('400 validation names each missing field and bad query parameter', async () => {
      const missing = await call(`${url}/api/v1/things`, {
        method: 'POST',
        headers: { authorization: writer, 'content-type': 'application/json' },
        body: '{}',
      });
      expectProblem(missing, 400, 'validation_failed');
      expect(missing.body.errors).toEqual([
        { path: '/body/name', message: 'is required' },
        { path: '/body/quantity', message: 'is required' },
      ]);
      const query = await call(`${url}/api/v1/things?limit=0`, { headers: { authorization: reader } });
      expectProblem(query, 400, 'validation_failed');
      expect((query.body.errors as { path: string }[]).map((e) => e.path)).toEqual(['/querystring/limit']);
    });

    test('431 (or 400) problem for a huge header, from the raw client error handler', async () => {
      const raw = await rawRequest(
        url,
        `GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Huge: ${'a'.repeat(20_000)}\r\n\r\n`,
      );
      const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(raw)?.[1]);
      expect([431, 400]).toContain(status);
      const [head = '', body = ''] = raw.split('\r\n\r\n');
      expect(head.toLowerCase()).toContain('content-type: application/problem+json');
      const problem = JSON.parse(body) as Record<string, unknown>;
      expect(problem.status).toBe(status);
      expect(problem.type).toBe(`urn:hms:problem:${status === 431 ? 'header-too-large' : 'bad-request'}`);
      expect(typeof problem.title).toBe('string');
      expect(body).not.toContain('aaaa');
    });

    test('400 problem for a request line that is not HTTP', async () => {
      const raw = await rawRequest(url, 'NOT AN HTTP REQUEST\r\n\r\n');
      expect(raw).toMatch(/^HTTP\/1\.1 400 /);
      expect(JSON.parse(raw.split('\r\n\r\n')[1] ?? '')).toMatchObject({ status: 400 });
    });

    test('one line per request: its id, route template, status and caller, never the query', async () => {
      const res = await call(`${url}/api/v1/nothing-here?name=Lovelace`, {
        headers: { 'x-request-id': 'req-line-1' },
      });
      expect(res.status).toBe(404);
      await expect
        .poll(() => logs().find((l) => l.msg === 'request' && l.reqId === 'req-line-1'))
        .toMatchObject({ level: 'info', method: 'GET', route: 'unmatched', status: 404 });
      expect(JSON.stringify(logs())).not.toContain('Lovelace');
    });

    test('an unknown error answers a bare 500, logged with the request id', async () => {
      const res = await call(`${url}/api/v1/boom`, { headers: { authorization: reader } });
      expectProblem(res, 500, 'internal');
      expect(Object.keys(res.body).sort()).toEqual(['code', 'instance', 'status', 'title', 'type']);
      expect(res.text).not.toMatch(/Lovelace|lookup failed|at |\.ts/);
      const id = res.headers.get('x-request-id');
      const logged = logs().find((l) => l.msg === 'request failed' && l.reqId === id);
      expect(logged?.level).toBe('error');
      expect(logged?.err).toMatchObject({ type: 'Error' });
    });

    test('a database error answers a bare 500 and its message is not logged', async () => {
      const res = await call(`${url}/api/v1/db-boom`, { headers: { authorization: reader } });
      expectProblem(res, 500, 'internal');
      expect(res.text).not.toContain('Lovelace');
      const id = res.headers.get('x-request-id');
      const logged = logs().find((l) => l.msg === 'request failed' && l.reqId === id);
      expect(logged?.err).toMatchObject({ code: '23505', constraint: 'things_name_key' });
      expect(JSON.stringify(logged)).not.toContain('Lovelace');
    });
  });

  describe('request ids', () => {
    test('generates a UUIDv7 request id and echoes it', async () => {
      const res = await call(`${url}/health/live`);
      const id = res.headers.get('x-request-id') ?? '';
      expect(isUuid(id)).toBe(true);
      expect(id[14]).toBe('7');
    });

    test('keeps a sane incoming request id', async () => {
      const res = await call(`${url}/health/live`, { headers: { 'x-request-id': 'gw-1234:abc.def_9' } });
      expect(res.headers.get('x-request-id')).toBe('gw-1234:abc.def_9');
      const problem = await call(`${url}/api/v1/things`, { headers: { 'x-request-id': 'gw-5678' } });
      expect(problem.headers.get('x-request-id')).toBe('gw-5678');
    });

    test('replaces an incoming request id that is too long or has odd characters', async () => {
      for (const given of ['x'.repeat(300), 'has spaces in it', '<script>alert(1)</script>']) {
        const res = await call(`${url}/health/live`, { headers: { 'x-request-id': given } });
        const id = res.headers.get('x-request-id') ?? '';
        expect(id).not.toBe(given);
        expect(isUuid(id)).toBe(true);
      }
    });
  });

  describe('headers', () => {
    test('sets security headers on success and on problems', async () => {
      for (const path of ['/health/live', '/api/v1/things', '/nowhere']) {
        const res = await call(`${url}${path}`);
        for (const [name, value] of Object.entries(SECURITY_HEADERS))
          expect(res.headers.get(name)).toBe(value);
        expect(res.headers.get('x-frame-options')).toBe('DENY');
        expect(res.headers.get('x-content-type-options')).toBe('nosniff');
        expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
        expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
        expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
        expect(res.headers.get('referrer-policy')).toBe('no-referrer');
        expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
        expect(res.headers.get('x-powered-by')).toBeNull();
      }
    });

    test('answers /api routes with cache-control: no-store, success or not', async () => {
      const ok = await call(`${url}/api/v1/things`, { headers: { authorization: reader } });
      expect(ok.status).toBe(200);
      expect(ok.body).toEqual({ items: [], limit: 20 });
      expect(ok.headers.get('cache-control')).toBe('no-store');
      const refused = await call(`${url}/api/v1/things`);
      expect(refused.status).toBe(401);
      expect(refused.headers.get('cache-control')).toBe('no-store');
    });
  });

  describe('health, metrics, OpenAPI', () => {
    test('/health/live answers 200', async () => {
      const res = await call(`${url}/health/live`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'ok' });
    });

    test('/health/ready answers 200 while every check passes and a 503 problem when one fails', async () => {
      ready = true;
      const ok = await call(`${url}/health/ready`);
      expect(ok.status).toBe(200);
      expect(ok.body).toEqual({ status: 'ready', checks: { always: 'ok', database: 'ok' } });
      ready = false;
      const failing = await call(`${url}/health/ready`);
      expectProblem(failing, 503, 'unavailable');
      expect(failing.body.checks).toEqual({ always: 'ok', database: 'failing' });
      expect(failing.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(failing.text).not.toContain('connection refused');
      ready = true;
    });

    test('/metrics is not on the public port', async () => {
      expectProblem(await call(`${url}/metrics`), 404, 'not_found');
      expectProblem(await call(`${url}/admin/events/http-test/dead-letters`), 404, 'not_found');
    });

    test('the management listener exposes request durations labelled by route template, not raw path', async () => {
      await call(`${url}/api/v1/things?limit=5`, { headers: { authorization: reader } });
      await call(`${url}/api/v1/unknown/0190a1b2`);
      const res = await call(`${managementUrl}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(res.text).toMatch(
        /http_request_duration_seconds_count\{[^}]*method="GET"[^}]*route="\/api\/v1\/things"[^}]*status_code="200"[^}]*\} [1-9]/,
      );
      expect(res.text).toMatch(/http_request_duration_seconds_bucket\{[^}]*route="\/api\/v1\/things"/);
      expect(res.text).not.toContain('0190a1b2');
      expect(res.text).toContain('service="http-test"');
    });

    test('/openapi.json lists the routes with their permission', async () => {
      const res = await call(`${url}/openapi.json`);
      expect(res.status).toBe(200);
      expect(res.body.openapi).toBe('3.1.0');
      const paths = res.body.paths as Record<string, Record<string, Record<string, unknown>>>;
      expect(paths['/api/v1/things']?.get?.['x-permission']).toBe('patients:read');
      expect(paths['/api/v1/things']?.post?.['x-permission']).toBe('patients:write');
      expect(paths['/api/v1/things']?.get?.security).toEqual([{ bearer: [] }]);
      expect(paths['/api/v1/things']?.post?.requestBody).toBeDefined();
      expect(Object.keys(paths)).not.toContain('/health/live');
    });
  });
});

describe('HTTP kit: routes that need a token but no permission', () => {
  beforeAll(async () => {
    keys ??= await createTestKeys();
  });

  test('an authenticated route answers 401 without a token and serves any valid token', async () => {
    const { app } = buildApp();
    const base = await listen(app);
    try {
      const anonymous = await call(`${base}/api/v1/whoami`);
      expect(anonymous.status).toBe(401);
      const token = await keys.mint({ sub: 'someone', roles: [] });
      const res = await call(`${base}/api/v1/whoami`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ sub: 'someone' });
      const doc = await call(`${base}/openapi.json`);
      const op = (doc.body as { paths: Record<string, Record<string, Record<string, unknown>>> }).paths[
        '/api/v1/whoami'
      ]?.get;
      expect(op?.['x-authenticated']).toBe(true);
      expect(op?.security).toEqual([{ bearer: [] }]);
    } finally {
      await app.close();
    }
  });
});

describe('HTTP kit: building and stopping', () => {
  beforeAll(async () => {
    keys ??= await createTestKeys();
  });

  test('refuses a route that declares none of permission, authenticated or public', async () => {
    const { app } = buildApp();
    void app.register(async (scope) => {
      scope.get('/api/v1/unguarded', async () => ({ open: true }));
    });
    await expect(app.ready()).rejects.toThrow(
      /GET \/api\/v1\/unguarded declares none of permission, authenticated or public/,
    );
    const direct = buildApp().app;
    expect(() => direct.get('/api/v1/unguarded', async () => ({ open: true }))).toThrow(/declares none of/);
    await direct.close();
  });

  test('graceful shutdown lets an in-flight request finish while close() waits for it', async () => {
    const { app } = buildApp();
    const entered = deferred();
    let handlerDoneAt = 0;
    app.get('/api/v1/slow', { config: { public: true } }, async () => {
      entered.resolve();
      await sleep(300);
      handlerDoneAt = Date.now();
      return { finished: true };
    });
    const base = await listen(app);
    const inFlight = call(`${base}/api/v1/slow`);
    await entered.promise;
    const closeStartedAt = Date.now();
    const closed = app.close().then(() => Date.now());
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ finished: true });
    const closedAt = await closed;
    expect(closedAt).toBeGreaterThanOrEqual(handlerDoneAt);
    expect(closedAt - closeStartedAt).toBeLessThan(5000);
    // no longer listening
    await expect(fetch(`${base}/health/live`)).rejects.toThrow();
  });
});

/** Writes raw bytes to the server and reads everything it answers until it closes. */
function rawRequest(base: string, payload: string): Promise<string> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: Number(port) });
    let data = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(payload));
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('end', () => resolve(data));
    socket.on('close', () => resolve(data));
    socket.on('error', (err) => (data ? resolve(data) : reject(err)));
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer')));
  });
}
