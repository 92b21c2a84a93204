import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, test } from 'vitest';
import { AppError, createMetrics, runWithContext, UpstreamClient, type UpstreamOptions } from '@hms/platform';
import { deferred } from './helpers.js';

interface Upstream {
  url: string;
  calls: { method: string; path: string; headers: IncomingHttpHeaders; body: string }[];
  close(): Promise<void>;
}

type Handler = (n: number, res: ServerResponse) => void | Promise<void>;

/** A real HTTP server on loopback that counts what reaches it; `handle` answers call n (1-based). */
async function upstream(handle: Handler): Promise<Upstream> {
  const calls: Upstream['calls'] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      calls.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
      void handle(calls.length, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const json = (res: ServerResponse, status: number, body: unknown = {}) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function setup(handle: Handler, opts: Partial<UpstreamOptions> = {}) {
  const up = await upstream(handle);
  const metrics = createMetrics('client-test');
  const client = new UpstreamClient({ name: 'things', resolve: () => up.url, ...opts }, metrics);
  cleanup.push(
    () => up.close(),
    () => client.close(),
  );
  return { up, client, metrics };
}

async function failure(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe('UpstreamClient', () => {
  test('returns status, headers and the parsed JSON body', async () => {
    const { client, up } = await setup((_n, res) => json(res, 200, { id: 'a1' }));
    const res = await client.request<{ id: string }>('GET', '/things/a1?x=1');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: 'a1' });
    expect(res.headers['content-type']).toBe('application/json');
    expect(up.calls[0]).toMatchObject({ method: 'GET', path: '/things/a1?x=1' });
  });

  test('retries a GET answered 503 and succeeds', async () => {
    const { client, up } = await setup((n, res) => (n === 1 ? json(res, 503) : json(res, 200, { ok: true })));
    const res = await client.request('GET', '/things');
    expect(res).toMatchObject({ status: 200, body: { ok: true } });
    expect(up.calls).toHaveLength(2);
  });

  test('does not retry a POST', async () => {
    const { client, up } = await setup((_n, res) => json(res, 503));
    const err = await failure(client.request('POST', '/things', { body: { name: 'x' } }));
    expect(err.status).toBe(503);
    expect(up.calls).toHaveLength(1);
    expect(up.calls[0]?.body).toBe('{"name":"x"}');
    expect(up.calls[0]?.headers['content-type']).toBe('application/json');
  });

  test('passes 4xx answers through without retrying', async () => {
    const { client, up } = await setup((_n, res) => json(res, 404, { code: 'not_found' }));
    expect(await client.request('GET', '/things/nope')).toMatchObject({
      status: 404,
      body: { code: 'not_found' },
    });
    expect(up.calls).toHaveLength(1);
  });

  test('a call that runs past its deadline answers a 503 AppError with Retry-After, and is not sent again', async () => {
    // the deadline covers every try of the call (ADR 0020): a try that uses it up leaves none
    const { client, up, metrics } = await setup(
      async (_n, res) => {
        await sleep(400);
        json(res, 200);
      },
      { timeoutMs: 100, retries: 1, halfOpenAfterMs: 3000 },
    );
    const started = Date.now();
    const err = await failure(client.request('GET', '/slow'));
    expect(Date.now() - started).toBeLessThan(400);
    expect(err.status).toBe(503);
    expect(err.code).toBe('unavailable');
    expect(err.headers['retry-after']).toBe('3');
    expect(err.detail).toMatch(/timeout/);
    expect(err.extensions).toEqual({ upstream: 'things' });
    await sleep(450); // long enough for a second try, had one been sent, to reach the upstream
    expect(up.calls).toHaveLength(1);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/http_client_requests_total\{[^}]*upstream="things"[^}]*outcome="timeout"[^}]*\} 1/);
  });

  test('a 503 that says when to come back is not sent again, and its Retry-After reaches the caller', async () => {
    const { client, up } = await setup((_n, res) => {
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '7' });
      res.end('{}');
    });
    const err = await failure(client.request('GET', '/things'));
    expect(err.status).toBe(503);
    expect(err.headers['retry-after']).toBe('7');
    expect(err.detail).toMatch(/answered 503/);
    expect(up.calls).toHaveLength(1);
  });

  test('an instance that refuses the connection is marked down and the call goes at once to the next', async () => {
    const { up, metrics } = await setup((_n, res) => json(res, 200, { ok: true }));
    const gone = await upstream((_n, res) => json(res, 200));
    await gone.close(); // its port now refuses connections
    const picks = [gone.url, up.url];
    const down: string[] = [];
    const client = new UpstreamClient(
      { name: 'things', resolve: () => picks.shift() ?? up.url, markDown: (url) => down.push(url) },
      metrics,
    );
    cleanup.push(() => client.close());
    expect(await client.request('GET', '/things')).toMatchObject({ status: 200, body: { ok: true } });
    expect(down).toEqual([gone.url]);
    expect(up.calls).toHaveLength(1);
    expect(await metrics.registry.metrics()).toMatch(
      /http_client_retries_total\{[^}]*upstream="things"[^}]*reason="ECONNREFUSED"[^}]*\} 1/,
    );
  });

  test('a connection broken mid-call is sent again, and its instance stays in rotation', async () => {
    const down: string[] = [];
    const { client, up } = await setup(
      (n, res) => {
        if (n === 1) res.socket?.destroy();
        else json(res, 200, { ok: true });
      },
      { markDown: (url) => down.push(url) },
    );
    expect(await client.request('GET', '/things')).toMatchObject({ status: 200, body: { ok: true } });
    expect(up.calls).toHaveLength(2);
    expect(down).toEqual([]);
  });

  test('opens the circuit after N consecutive failures, fails fast, and half-opens later', async () => {
    let healthy = false;
    const { client, up, metrics } = await setup((_n, res) => (healthy ? json(res, 200) : json(res, 503)), {
      retries: 0,
      breakerThreshold: 3,
      halfOpenAfterMs: 300,
    });
    for (let i = 0; i < 3; i++) expect((await failure(client.request('GET', '/things'))).status).toBe(503);
    expect(up.calls).toHaveLength(3);
    expect(client.circuitState).toBe('open');
    expect(await metrics.registry.metrics()).toMatch(
      /circuit_breaker_state\{[^}]*upstream="things"[^}]*\} 2/,
    );

    // open: answered at once, without reaching the upstream
    const err = await failure(client.request('GET', '/things'));
    expect(err.status).toBe(503);
    expect(err.detail).toMatch(/circuit open/);
    expect(err.headers['retry-after']).toBe('1');
    expect(up.calls).toHaveLength(3);

    healthy = true;
    await sleep(350);
    expect(await client.request('GET', '/things')).toMatchObject({ status: 200 });
    expect(up.calls).toHaveLength(4);
    expect(client.circuitState).toBe('closed');
  });

  test('a failed half-open trial opens the circuit again', async () => {
    const { client, up } = await setup((_n, res) => json(res, 503), {
      retries: 0,
      breakerThreshold: 2,
      halfOpenAfterMs: 200,
    });
    await failure(client.request('GET', '/a'));
    await failure(client.request('GET', '/a'));
    expect(client.circuitState).toBe('open');
    await sleep(250);
    await failure(client.request('GET', '/a')); // the trial reaches the upstream and fails
    expect(up.calls).toHaveLength(3);
    expect(client.circuitState).toBe('open');
    await failure(client.request('GET', '/a'));
    expect(up.calls).toHaveLength(3);
  });

  test('the bulkhead rejects calls beyond maxConcurrent + maxQueued', async () => {
    const gate = deferred();
    let inFlight = 0;
    let maxInFlight = 0;
    const { client, up } = await setup(
      async (_n, res) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await gate.promise;
        inFlight--;
        json(res, 200);
      },
      { maxConcurrent: 1, maxQueued: 1, retries: 0, timeoutMs: 5000 },
    );
    // three calls at once: one runs, one waits, one is refused at once. Which one is refused is
    // not the client's promise (each call gathers its token before it reaches the bulkhead), so
    // the test names none: the first to settle must be the refusal, before the upstream answers.
    const calls = ['/1', '/2', '/3'].map((path) =>
      client.request('GET', path).then(
        (res) => ({ path, res }),
        (err: unknown) => ({ path, err }),
      ),
    );
    const refused = await Promise.race(calls);
    expect('err' in refused && refused.err).toBeInstanceOf(AppError);
    const err = (refused as { err: AppError }).err;
    expect(err.status).toBe(503);
    expect(err.detail).toMatch(/bulkhead full/);
    // the running call reaches the upstream (bounded wait: a loaded machine may take a while),
    // and the waiting one does not while the first holds the bulkhead's only slot
    for (const until = Date.now() + 10_000; up.calls.length === 0 && Date.now() < until;) await sleep(10);
    await sleep(50);
    expect(up.calls).toHaveLength(1);
    gate.resolve();
    const settled = await Promise.all(calls);
    const answered = settled.filter((s) => 'res' in s);
    expect(answered.map((s) => ('res' in s ? s.res.status : 0))).toEqual([200, 200]);
    expect(up.calls.map((c) => c.path).sort()).toEqual(answered.map((s) => s.path).sort());
    expect(maxInFlight).toBe(1);
  });

  test('forwards the request id, the trace (as a child span) and the caller token of the work context', async () => {
    const { client, up } = await setup((_n, res) => json(res, 200));
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await runWithContext({ requestId: 'req-42', traceparent, authorization: 'Bearer user.token.sig' }, () =>
      client.request('GET', '/things'),
    );
    expect(up.calls[0]?.headers).toMatchObject({
      'x-request-id': 'req-42',
      authorization: 'Bearer user.token.sig',
      accept: 'application/json',
    });
    // the call is a span of its own within the caller's trace
    const sent = String(up.calls[0]?.headers.traceparent);
    expect(sent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    expect(sent).not.toBe(traceparent);
  });

  test('uses the service token when no user started the call', async () => {
    const { client, up } = await setup((_n, res) => json(res, 200), {
      serviceToken: async () => 'service.token.sig',
    });
    await client.request('GET', '/outside-a-request');
    await runWithContext({ requestId: 'job-1' }, () => client.request('GET', '/in-a-job'));
    await runWithContext({ requestId: 'req-7', authorization: 'Bearer user.token.sig' }, () =>
      client.request('GET', '/for-a-user'),
    );
    expect(up.calls.map((c) => c.headers.authorization)).toEqual([
      'Bearer service.token.sig',
      'Bearer service.token.sig',
      'Bearer user.token.sig',
    ]);
    expect(up.calls[0]?.headers['x-request-id']).toBeUndefined();
    expect(up.calls[1]?.headers['x-request-id']).toBe('job-1');
  });

  test('an upstream that cannot be reached answers a 503 AppError', async () => {
    const { client, up } = await setup((_n, res) => json(res, 200), { retries: 1 });
    await up.close();
    const err = await failure(client.request('GET', '/things'));
    expect(err.status).toBe(503);
    expect(err.headers['retry-after']).toMatch(/^\d+$/);
  });
});

describe('many calls at once', () => {
  test('twenty concurrent calls raise no MaxListenersExceededWarning (each call has its own abort signal)', async () => {
    const { client } = await setup(async (_n, res) => {
      await sleep(50);
      json(res, 200, { ok: true });
    });
    const warnings: string[] = [];
    const onWarning = (w: Error) => void warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const answers = await Promise.all(Array.from({ length: 20 }, () => client.request('GET', '/things')));
      expect(answers.map((a) => a.status)).toEqual(Array.from({ length: 20 }, () => 200));
      await sleep(10); // warnings are emitted on the next tick
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).not.toContain('MaxListenersExceededWarning');
  });
});
