import type { Patient } from '@hms/contracts';
import { qs, type RunningService } from '@hms/testkit';
import { expectAccessMatrix, expectErrorCatalogue, expectProblem } from '@hms/testkit/vitest';
import { describe, expect, it } from 'vitest';
import {
  PATIENTS,
  SEARCH,
  counts,
  newPatient,
  putBodyOf,
  register,
  storedRow,
  usePatientService,
  type Tokens,
} from './helpers.js';

let svc: RunningService;
let t: Tokens;
let p: Patient;

usePatientService(async (s, tokens) => {
  svc = s;
  t = tokens;
  p = await register(svc, t.writer);
});

/** What a refused request must leave as it was: the counts and the registered patient's row. */
const untouched = async () => ({ counts: await counts(svc), row: await storedRow(svc, p.id) });

describe('the guard on every route', () => {
  it('401 without a valid token, 403 without the route’s permission, on every route it registered', async () => {
    const walked = await expectAccessMatrix(svc, { params: { id: p.id }, untouched });
    expect(walked.map((r) => `${r.method} ${r.url}`)).toEqual(
      expect.arrayContaining([
        `GET ${PATIENTS}`,
        `GET ${SEARCH}`,
        `GET ${PATIENTS}/:id`,
        `POST ${PATIENTS}`,
        `PUT ${PATIENTS}/:id`,
        `PATCH ${PATIENTS}/:id`,
        `DELETE ${PATIENTS}/:id`,
      ]),
    );
    expect(await storedRow(svc, p.id)).toMatchObject({
      version: 1,
      status: 'active',
      given_name: p.givenName,
    });
  });

  it('documents every error it can answer', async () => {
    const { used } = await expectErrorCatalogue(svc, new URL('../src/', import.meta.url));
    expect(used).toEqual(expect.arrayContaining(['patient_not_found', 'duplicate_patient']));
  });
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

function call(c: Call, token: string) {
  const body = c.body?.();
  return svc.request(c.method, c.path(), {
    token,
    ...(body === undefined ? {} : { body }),
    ...(c.headers ? { headers: c.headers } : {}),
  });
}

describe('which roles may read and change patients', () => {
  it.each(reads)('%s with roles [auditor] answers 403', async (_name, c) => {
    const auditor = await svc.keys.mint({ roles: ['auditor'] });
    const problem = expectProblem(await call(c, auditor), 403);
    expect(problem.detail).toBe('requires the patients:read permission');
  });

  it.each(writes)(
    '%s with a valid request but only patients:read answers 403 and changes nothing',
    async (_name, c) => {
      const before = await untouched();
      const problem = expectProblem(await call(c, t.reader), 403);
      expect(problem.detail).toBe('requires the patients:write permission');
      expect(await untouched()).toEqual(before);
    },
  );

  it.each(writes)('%s with roles [pharmacist] (read-only on patients) answers 403', async (_name, c) => {
    const before = await untouched();
    const pharmacist = await svc.keys.mint({ roles: ['pharmacist'] });
    expectProblem(await call(c, pharmacist), 403);
    expect(await untouched()).toEqual(before);
  });

  it('a person with no roles, or only roles that do not exist, may not read patients', async () => {
    for (const roles of [[], ['superuser']])
      expectProblem(await svc.request('GET', PATIENTS, { token: await svc.keys.mint({ roles }) }), 403);
  });

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
