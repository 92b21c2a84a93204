import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PATIENTS, STARTUP_MS, served, startStack, type Stack } from './helpers.js';

/**
 * A body over BODY_LIMIT gets its 413 problem on every try (issue #16): the client is still
 * sending when the answer is ready, so the connection must stay open until it can read it. Before,
 * 4–6 of 10 such POSTs (Node's own HTTP client, keep-alive) ended in EPIPE on the client instead.
 */
let s: Stack;
let token: string;
const LIMIT = 1024 * 1024;
const TWO_MB = 2 * 1024 * 1024;

beforeAll(async () => {
  s = await startStack({ BODY_LIMIT: String(LIMIT) });
  token = await s.keys.mint({ roles: ['receptionist'] });
}, STARTUP_MS);
afterAll(async () => {
  await s.close();
});

/** A 2 MB JSON body (a patient whose note is far too long): JSON, so each service parses it. */
const bigJson = () => JSON.stringify({ givenName: 'A', familyName: 'B', note: 'x'.repeat(TWO_MB) });

interface Outcome {
  status?: number;
  type?: string;
  text?: string;
  error?: string;
  /** Whether it went on a connection an earlier request had used (the agent keeps them alive). */
  reused?: boolean;
}

/** A POST with Node's HTTP client (its default agent keeps connections alive), bounded in time. */
function post(base: string, path: string, body: string | Readable, headers: Record<string, string>) {
  return new Promise<Outcome>((resolve) => {
    const sized = typeof body === 'string' ? { 'content-length': String(Buffer.byteLength(body)) } : {};
    const req = httpRequest(
      `${base}${path}`,
      { method: 'POST', headers: { ...headers, ...sized } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode,
            type: res.headers['content-type'],
            text,
            reused: req.reusedSocket,
          }),
        );
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    req.setTimeout(10_000, () => req.destroy(Object.assign(new Error('no answer'), { code: 'TIMEOUT' })));
    if (typeof body === 'string') req.end(body);
    else body.pipe(req);
  });
}

const statusOrError = (o: Outcome) => o.error ?? o.status;

describe('a body over BODY_LIMIT', () => {
  it('gets twenty 413 problems for twenty 2 MB POSTs of known length, and reaches no service', async () => {
    const before = await served(s.patient, PATIENTS, 'POST');
    const outcomes = [];
    for (let i = 0; i < 20; i++) {
      const path = ['/api/v1/patients', '/api/v1/auth/login', '/api/v1/auth/digest'][i % 3] as string;
      outcomes.push(
        await post(s.gateway.url, path, bigJson(), {
          'content-type': 'application/json',
          authorization: `Bearer ${token}`,
        }),
      );
    }
    expect(outcomes.map(statusOrError)).toEqual(Array(20).fill(413));
    for (const o of outcomes) {
      expect(o.type).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(o.text ?? '')).toMatchObject({ status: 413, code: 'payload_too_large' });
    }
    expect(await served(s.patient, PATIENTS, 'POST')).toBe(before);
  });

  it('gets its 413 on every try when it is chunked and grows over the limit on the way', async () => {
    const outcomes = [];
    for (let i = 0; i < 10; i++) {
      const body = Readable.from(
        (async function* () {
          for (let k = 0; k < 32; k++) yield randomBytes(64 * 1024);
        })(),
      );
      outcomes.push(
        await post(s.gateway.url, '/api/v1/auth/digest', body, {
          'content-type': 'application/octet-stream',
        }),
      );
    }
    expect(outcomes.map(statusOrError)).toEqual(Array(10).fill(413));
  });

  it('gets its 413 from a service reached directly, too, and 401 for a body sent without a token', async () => {
    const outcomes = [];
    for (let i = 0; i < 10; i++)
      outcomes.push(
        await post(s.patient.url, PATIENTS, bigJson(), {
          'content-type': 'application/json',
          authorization: `Bearer ${token}`,
        }),
      );
    expect(outcomes.map(statusOrError)).toEqual(Array(10).fill(413));
    const refused = [];
    for (let i = 0; i < 10; i++)
      refused.push(await post(s.gateway.url, PATIENTS, bigJson(), { 'content-type': 'application/json' }));
    expect(refused.map(statusOrError)).toEqual(Array(10).fill(401));
  });

  it('keeps the connection for the next request once the rest of the body is read', async () => {
    const first = await post(s.gateway.url, '/api/v1/auth/login', bigJson(), {
      'content-type': 'application/json',
    });
    const next = await post(s.gateway.url, '/api/v1/auth/login', '{}', {
      'content-type': 'application/json',
    });
    expect([statusOrError(first), statusOrError(next)]).toEqual([413, 200]);
    expect(next.reused).toBe(true);
  });
});
