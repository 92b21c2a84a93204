import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { Readable } from 'node:stream';
import { request as undiciRequest } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '@hms/testkit/vitest';
import { PATIENTS, newPatient, STARTUP_MS, served, startStack, uniqueWord, type Stack } from './helpers.js';
import { streams } from './fixtures/auth-stub.js';

let s: Stack;
let token: string;

beforeAll(async () => {
  s = await startStack({ BODY_LIMIT: String(256 * 1024) });
  token = await s.keys.mint({ roles: ['receptionist'] });
}, STARTUP_MS);
afterAll(async () => {
  await s.close();
});

interface Echo {
  headers: Record<string, string | undefined>;
  authorization: boolean;
}

describe('routing to the owning service', () => {
  it('creates and reads a patient through the gateway with a real token', async () => {
    const created = await s.gateway.request<{ id: string; mrn: string }>('POST', PATIENTS, {
      token,
      body: newPatient(),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.headers.get('location')).toBe(`${PATIENTS}/${created.body.id}`);
    expect(created.body.mrn).toMatch(/^MRN/);

    const read = await s.gateway.request<{ id: string }>('GET', `${PATIENTS}/${created.body.id}`, { token });
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);
    expect(read.headers.get('etag')).toBe(created.headers.get('etag'));

    // the same record, straight from the service
    const direct = await s.patient.request('GET', `${PATIENTS}/${created.body.id}`, { token });
    expect(direct.body).toEqual(read.body);
  });

  it('passes the query string through untouched', async () => {
    const p = { ...newPatient(), familyName: uniqueWord() };
    await s.gateway.request('POST', PATIENTS, { token, body: p });
    const res = await s.gateway.request<{ items: { familyName: string }[] }>(
      'GET',
      `${PATIENTS}/search?name=${encodeURIComponent(p.familyName)}&limit=5`,
      { token },
    );
    expect(res.status).toBe(200);
    expect(res.body.items.map((i) => i.familyName)).toEqual([p.familyName]);
  });

  it('lets public routes through without a token', async () => {
    expect((await s.gateway.request('POST', '/api/v1/auth/login', { body: {} })).status).toBe(200);
    const jwks = await s.gateway.request<{ keys: unknown[] }>('GET', '/.well-known/jwks.json');
    expect(jwks.status).toBe(200);
    expect(jwks.body).toEqual({ keys: [] });
  });

  it.each(['/api/v1/nothing', '/nothing', '/api/v1/patientsx', '/api', '/api/v1'])(
    'answers 404 problem for %s, which no service owns',
    async (path) => {
      const res = await s.gateway.request('GET', path, { token });
      expect(expectProblem(res, 404).code).toBe('not_found');
    },
  );

  it('answers 404 problem for a path under a prefix that its service does not have', async () => {
    const res = await s.gateway.request('GET', `${PATIENTS}/a/b/c`, { token });
    expect(expectProblem(res, 404).detail).toBe(`no route for GET ${PATIENTS}/a/b/c`);
  });

  it('answers 405 with Allow for a method the path does not take', async () => {
    const res = await s.gateway.request('PATCH', PATIENTS, { token, body: {} });
    expectProblem(res, 405);
    expect(res.headers.get('allow')?.split(', ').sort()).toEqual(['GET', 'HEAD', 'POST']);
  });

  it('answers HEAD with the GET route permission', async () => {
    const res = await fetch(`${s.gateway.url}${PATIENTS}`, {
      method: 'HEAD',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    const anonymous = await fetch(`${s.gateway.url}${PATIENTS}`, { method: 'HEAD' });
    expect(anonymous.status).toBe(401);
  });
});

describe('what travels with a request', () => {
  // a trusted proxy's id and trace are kept: security-forwarding.test.ts
  it('gives a client that is not a trusted proxy the gateway’s own id, not the one it sent', async () => {
    const id = `test-${randomBytes(6).toString('hex')}`;
    const res = await s.gateway.request<Echo>('GET', '/api/v1/auth/echo', {
      headers: { 'x-request-id': id },
    });
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.headers['x-request-id']).toBe(res.headers.get('x-request-id'));
  });

  it('gives a request without an id the gateway’s own, the same one the service sees', async () => {
    const res = await s.gateway.request<Echo>('GET', '/api/v1/auth/echo');
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.headers['x-request-id']).toBe(id);
  });

  it('replaces an x-request-id that is not a safe token', async () => {
    const res = await s.gateway.request<Echo>('GET', '/api/v1/auth/echo', {
      headers: { 'x-request-id': 'bad id with spaces' },
    });
    expect(res.body.headers['x-request-id']).not.toBe('bad id with spaces');
    expect(res.body.headers['x-request-id']).toBe(res.headers.get('x-request-id'));
  });

  it('starts a new trace rather than join the traceparent of a client that is not a trusted proxy', async () => {
    const tp = `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
    const res = await s.gateway.request<Echo>('GET', '/api/v1/auth/echo', { headers: { traceparent: tp } });
    expect(res.body.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    expect(res.body.headers.traceparent?.split('-')[1]).not.toBe(tp.split('-')[1]);
  });

  it('starts a trace for a request that has none', async () => {
    const res = await s.gateway.request<Echo>('GET', '/api/v1/auth/echo');
    expect(res.body.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
  });

  it('forwards Authorization and sets X-Forwarded-For/Proto/Host', async () => {
    const res = await s.gateway.request<Echo>('GET', '/api/v1/auth/echo', { token });
    expect(res.body.authorization).toBe(true);
    expect(res.body.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(res.body.headers['x-forwarded-proto']).toBe('http');
    expect(res.body.headers['x-forwarded-host']).toBe(new URL(s.gateway.url).host);
  });

  it('does not believe X-Forwarded-* from a client that is not a trusted proxy', async () => {
    const res = await s.gateway.request<Echo>('GET', '/api/v1/auth/echo', {
      headers: {
        'x-forwarded-for': '203.0.113.9',
        'x-forwarded-host': 'evil.example',
        'x-forwarded-proto': 'https',
      },
    });
    expect(res.body.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(res.body.headers['x-forwarded-host']).toBe(new URL(s.gateway.url).host);
    expect(res.body.headers['x-forwarded-proto']).toBe('http');
  });

  it('strips hop-by-hop headers, including those the Connection header names', async () => {
    // node:http, because undici refuses to send hop-by-hop headers at all
    const body = await new Promise<Echo>((resolve, reject) => {
      const req = httpRequest(`${s.gateway.url}/api/v1/auth/echo`, {
        headers: {
          connection: 'keep-alive, x-hop-secret',
          'x-hop-secret': 'for the gateway only',
          'keep-alive': 'timeout=5',
          'proxy-authorization': 'Basic Zm9vOmJhcg==',
          te: 'trailers',
          'x-end-to-end': 'kept',
        },
      });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(JSON.parse(text) as Echo));
      });
      req.on('error', reject);
      req.end();
    });
    expect(body.headers['x-end-to-end']).toBe('kept');
    for (const h of ['x-hop-secret', 'proxy-authorization', 'te', 'keep-alive'])
      expect(body.headers[h], h).toBeUndefined();
  });
});

describe('streaming', () => {
  it('streams the response: the first chunk arrives before the service has written the last', async () => {
    const started = Date.now();
    const res = await undiciRequest(`${s.gateway.url}/api/v1/auth/stream?gapMs=400`);
    expect(res.statusCode).toBe(200);
    const arrivals: number[] = [];
    let text = '';
    for await (const chunk of res.body) {
      arrivals.push(Date.now() - started);
      text += (chunk as Buffer).toString();
    }
    expect(text).toBe('chunk-0\nchunk-1\nchunk-2\n');
    expect(arrivals.length).toBeGreaterThanOrEqual(2);
    // the whole answer takes two gaps; a buffering proxy would deliver it all at once at the end
    expect((arrivals.at(-1) ?? 0) - (arrivals[0] ?? 0)).toBeGreaterThanOrEqual(600);
  });

  it('aborts the call upstream when the client hangs up half-way through a streamed answer', async () => {
    const before = streams.abandoned;
    const res = await undiciRequest(`${s.gateway.url}/api/v1/auth/endless?chunks=200`);
    expect(res.statusCode).toBe(200);
    const first: unknown = await new Promise((resolve) => res.body.once('data', resolve));
    expect(first).toBeInstanceOf(Buffer);
    res.body.destroy(); // the first chunk, then the client goes away
    // the gateway gives up its own read, and the service sees its answer abandoned
    await expect.poll(() => streams.abandoned, { timeout: 3000 }).toBe(before + 1);
  });

  it('streams the request body both ways: the service answers before the client has sent it all', async () => {
    let received = '';
    let gotFirst!: () => void;
    const firstEchoed = new Promise<void>((resolve) => (gotFirst = resolve));
    const body = Readable.from(
      (async function* () {
        yield Buffer.from('first;');
        // the rest is sent only once the first part came back through both hops
        await firstEchoed;
        yield Buffer.from('second;');
      })(),
    );
    const res = await undiciRequest(`${s.gateway.url}/api/v1/auth/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body,
    });
    expect(res.statusCode).toBe(200);
    for await (const chunk of res.body) {
      received += (chunk as Buffer).toString();
      if (received.includes('first;')) gotFirst();
    }
    expect(received).toBe('first;second;');
  });

  it('carries a large request body intact', async () => {
    const data = randomBytes(200 * 1024);
    const res = await s.gateway.request<{ bytes: number; sha256: string }>('POST', '/api/v1/auth/digest', {
      rawBody: data as unknown as string,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') });
  });

  it('passes on a body of any media type, or none, for the service to judge', async () => {
    const before = await served(s.auth, '/api/v1/auth/digest', 'POST');
    const res = await undiciRequest(`${s.gateway.url}/api/v1/auth/digest`, {
      method: 'POST',
      body: 'no type',
    });
    await res.body.dump();
    const xml = await s.gateway.request('POST', '/api/v1/auth/digest', {
      rawBody: '<a/>',
      headers: { 'content-type': 'application/xml' },
    });
    // the gateway parsed neither: both reached the service, which answers as it sees fit
    expect(await served(s.auth, '/api/v1/auth/digest', 'POST')).toBe(before + 2);
    expect([res.statusCode, xml.status]).toEqual([415, 415]);
  });

  it('refuses a body over BODY_LIMIT with 413 before calling the service', async () => {
    const res = await s.gateway.request('POST', '/api/v1/auth/digest', {
      rawBody: randomBytes(300 * 1024) as unknown as string,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expectProblem(res, 413);
  });

  it('refuses a chunked body that grows over BODY_LIMIT with 413', async () => {
    const body = Readable.from(
      (async function* () {
        for (let i = 0; i < 10; i++) yield randomBytes(64 * 1024);
      })(),
    );
    const res = await undiciRequest(`${s.gateway.url}/api/v1/auth/digest`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body,
    }).catch((err: unknown) => err as Error);
    if (res instanceof Error) {
      // the gateway may close the connection while the client is still sending
      expect(res.message).toMatch(/closed|reset|socket|EPIPE/i);
    } else {
      expect(res.statusCode).toBe(413);
      await res.body.dump();
    }
  });
});
