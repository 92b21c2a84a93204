import type { Patient } from '@hms/contracts';
import { createTestKeys, startService, type RunningService } from '@hms/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patientService } from '../src/service.js';
import {
  PATIENTS,
  SEARCH,
  counts,
  expectProblem,
  newPatient,
  putBodyOf,
  qs,
  register,
  storedRow,
  tokensFor,
  type Tokens,
} from './helpers.js';

let svc: RunningService;
let t: Tokens;
let p: Patient;

beforeAll(async () => {
  svc = await startService(patientService);
  t = await tokensFor(svc);
  p = await register(svc, t.writer);
});
afterAll(async () => {
  await svc.close();
});

interface Call {
  method: string;
  path: () => string;
  body?: () => unknown;
  headers?: Record<string, string>;
}

const reads: [string, Call][] = [
  ['GET /patients', { method: 'GET', path: () => PATIENTS }],
  ['GET /patients/:id', { method: 'GET', path: () => `${PATIENTS}/${p.id}` }],
  ['GET /patients/search', { method: 'GET', path: () => SEARCH + qs({ name: 'lovelace' }) }],
];
const writes: [string, Call][] = [
  ['POST /patients', { method: 'POST', path: () => PATIENTS, body: () => newPatient() }],
  [
    'PUT /patients/:id',
    {
      method: 'PUT',
      path: () => `${PATIENTS}/${p.id}`,
      body: () => ({ ...putBodyOf(p), givenName: 'Intruder' }),
      headers: { 'if-match': '"v1"' },
    },
  ],
  [
    'PATCH /patients/:id',
    { method: 'PATCH', path: () => `${PATIENTS}/${p.id}`, body: () => ({ givenName: 'Intruder' }) },
  ],
  ['DELETE /patients/:id', { method: 'DELETE', path: () => `${PATIENTS}/${p.id}` }],
];
const everything = [...reads, ...writes];

function call(c: Call, token?: string) {
  const body = c.body?.();
  return svc.request(c.method, c.path(), {
    ...(token === undefined ? {} : { token }),
    ...(body === undefined ? {} : { body }),
    ...(c.headers ? { headers: c.headers } : {}),
  });
}

/** Nothing a refused request could have touched has changed. */
async function expectUntouched(before: { patients: number; outbox: number }) {
  expect(await counts(svc)).toEqual(before);
  expect(await storedRow(svc, p.id)).toMatchObject({ version: 1, status: 'active', given_name: p.givenName });
}

describe('401: no valid token', () => {
  it.each(everything)('%s without a token answers 401 with WWW-Authenticate: Bearer', async (_name, c) => {
    const before = await counts(svc);
    const res = await call(c);
    expect(expectProblem(res, 401).code).toBe('unauthenticated');
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    await expectUntouched(before);
  });

  it.each(everything)('%s with a garbage token answers 401 invalid_token', async (_name, c) => {
    const before = await counts(svc);
    const res = await call(c, 'garbage');
    expectProblem(res, 401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
    await expectUntouched(before);
  });

  it.each(everything)('%s with an expired token answers 401 invalid_token', async (_name, c) => {
    const before = await counts(svc);
    const expired = await svc.keys.mint({ roles: ['admin'], expiresInSec: -60 });
    const res = await call(c, expired);
    expect(expectProblem(res, 401).detail).toBe('token expired');
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
    await expectUntouched(before);
  });

  it('a well-formed JWT that is not a signed token answers 401', async () => {
    const fake = `${Buffer.from('{"alg":"ES256","kid":"x"}').toString('base64url')}.${Buffer.from('{}').toString('base64url')}.c2ln`;
    const res = await svc.request('GET', PATIENTS, { token: fake });
    expectProblem(res, 401);
    expect(res.headers.get('www-authenticate')).toMatch(/invalid_token/);
  });

  it('a token signed by a key the service does not trust answers 401', async () => {
    const other = await createTestKeys();
    const res = await svc.request('GET', PATIENTS, { token: await other.mint({ roles: ['admin'] }) });
    expectProblem(res, 401);
    expect(res.headers.get('www-authenticate')).toMatch(/invalid_token/);
  });

  it('a token for another audience answers 401', async () => {
    const res = await svc.request('GET', PATIENTS, {
      token: await svc.keys.mint({ roles: ['admin'], audience: 'somebody-else' }),
    });
    expectProblem(res, 401);
  });

  it('a token that is not valid yet answers 401', async () => {
    const res = await svc.request('GET', PATIENTS, {
      token: await svc.keys.mint({ roles: ['admin'], notBeforeSec: 600 }),
    });
    expectProblem(res, 401);
  });

  it('an Authorization header that is not Bearer answers 401', async () => {
    const res = await svc.request('GET', PATIENTS, { headers: { authorization: 'Basic YWRhOmxvdmVsYWNl' } });
    expectProblem(res, 401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('answers 401 before looking at the body: an invalid body without a token is still 401', async () => {
    const res = await svc.request('POST', PATIENTS, { body: { nonsense: true } });
    expectProblem(res, 401);
  });
});

describe('403: a valid token without the permission', () => {
  it.each(reads)('%s with roles [auditor] answers 403', async (_name, c) => {
    const auditor = await svc.keys.mint({ roles: ['auditor'] });
    const problem = expectProblem(await call(c, auditor), 403);
    expect(problem.detail).toBe('requires the patients:read permission');
  });

  it.each(writes)('%s with only patients:read in scope answers 403 and changes nothing', async (_name, c) => {
    const before = await counts(svc);
    const problem = expectProblem(await call(c, t.reader), 403);
    expect(problem.detail).toBe('requires the patients:write permission');
    await expectUntouched(before);
  });

  it.each(writes)('%s with roles [pharmacist] (read-only on patients) answers 403', async (_name, c) => {
    const before = await counts(svc);
    const pharmacist = await svc.keys.mint({ roles: ['pharmacist'] });
    expectProblem(await call(c, pharmacist), 403);
    await expectUntouched(before);
  });

  it('a token with no roles and no scope answers 403 on reads', async () => {
    expectProblem(await svc.request('GET', PATIENTS, { token: await svc.keys.mint() }), 403);
  });

  it('an unknown role grants nothing', async () => {
    const res = await svc.request('GET', PATIENTS, { token: await svc.keys.mint({ roles: ['superuser'] }) });
    expectProblem(res, 403);
  });
});

describe('granted', () => {
  it.each(reads)('%s works with a scope of only patients:read', async (_name, c) => {
    expect((await call(c, t.reader)).status).toBe(200);
  });

  it.each(['physician', 'nurse', 'receptionist', 'pharmacist', 'billing', 'admin'])(
    'role %s may read patients',
    async (role) => {
      const res = await svc.request('GET', `${PATIENTS}/${p.id}`, {
        token: await svc.keys.mint({ roles: [role] }),
      });
      expect(res.status).toBe(200);
    },
  );

  it.each(['physician', 'nurse', 'receptionist', 'admin'])('role %s may register a patient', async (role) => {
    const res = await svc.request('POST', PATIENTS, {
      token: await svc.keys.mint({ roles: [role] }),
      body: newPatient(),
    });
    expect(res.status).toBe(201);
  });

  it('a service identity with a scope of patients:write alone may register a patient', async () => {
    const res = await svc.request('POST', PATIENTS, {
      token: await svc.keys.mint({ sub: 'svc:registrar', scope: ['patients:write'] }),
      body: newPatient(),
    });
    expect(res.status).toBe(201);
  });
});
