import type { Patient } from '@hms/contracts';
import { type ApiResponse, type RunningService, qs } from '@hms/testkit';
import { expectProblem } from '@hms/testkit/vitest';
import { describe, expect, it } from 'vitest';
import {
  PATIENTS,
  SEARCH,
  counts,
  newPatient,
  putBodyOf,
  register,
  usePatientService,
  uniqueWord,
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

describe('every error is an RFC 9457 problem', () => {
  const cases: [number, string, () => Promise<ApiResponse>][] = [
    [400, 'a validation error', () => svc.request('POST', PATIENTS, { token: t.writer, body: {} })],
    [401, 'no token', () => svc.request('GET', PATIENTS)],
    [
      403,
      'no permission',
      async () => svc.request('GET', PATIENTS, { token: await svc.keys.mint({ roles: ['auditor'] }) }),
    ],
    [
      404,
      'an unknown patient',
      () => svc.request('GET', `${PATIENTS}/01900000-0000-7000-8000-00000000abcd`, { token: t.reader }),
    ],
    [404, 'an unknown route', () => svc.request('GET', '/api/v1/patientz', { token: t.reader })],
    [409, 'a duplicate', () => svc.request('POST', PATIENTS, { token: t.writer, body: putBodyOf(p) })],
    [
      412,
      'a stale If-Match',
      () =>
        svc.request('PUT', `${PATIENTS}/${p.id}`, {
          token: t.writer,
          body: putBodyOf(p),
          headers: { 'if-match': '"v99"' },
        }),
    ],
    [
      413,
      'a body too large',
      () =>
        svc.request('POST', PATIENTS, {
          token: t.writer,
          rawBody: `{"x":"${'y'.repeat(1_200_000)}"}`,
          headers: { 'content-type': 'application/json' },
        }),
    ],
    [
      415,
      'a wrong content type',
      () =>
        svc.request('POST', PATIENTS, {
          token: t.writer,
          rawBody: 'a,b',
          headers: { 'content-type': 'text/csv' },
        }),
    ],
    [
      428,
      'a PUT without If-Match',
      () => svc.request('PUT', `${PATIENTS}/${p.id}`, { token: t.writer, body: putBodyOf(p) }),
    ],
  ];

  it.each(cases)('%i (%s) has type, title and status, and no stack trace', async (status, _what, send) => {
    const res = await send();
    const problem = expectProblem(res, status);
    expect(problem.instance).toMatch(/^\/api\/v1\/patient/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });

  it('names the request path as the instance, without the query string', async () => {
    const res = await svc.request('GET', SEARCH + qs({ name: 'x' }), { token: t.reader });
    expect(expectProblem(res, 400).instance).toBe(SEARCH);
  });
});

describe('nothing leaks', () => {
  it('a validation error does not echo the rejected values', async () => {
    const secret = `Secret${uniqueWord()}`;
    const res = await svc.request('POST', PATIENTS, {
      token: t.writer,
      body: newPatient({ givenName: secret, email: `${secret}-not-an-email`, birthDate: secret }),
    });
    expectProblem(res, 400);
    expect(JSON.stringify(res.body)).not.toContain(secret);
  });

  it('a duplicate does not echo the name or birth date it matched', async () => {
    const res = await svc.request('POST', PATIENTS, {
      token: t.writer,
      body: newPatient({ givenName: p.givenName, familyName: p.familyName, birthDate: p.birthDate }),
    });
    const text = JSON.stringify(expectProblem(res, 409));
    expect(text).not.toContain(p.familyName);
    expect(text).not.toContain(p.birthDate);
  });

  it('SQL typed into a search is only text: 200, no match, and the table still there', async () => {
    const before = await counts(svc);
    const res = await svc.request('GET', SEARCH + qs({ name: "x'); DROP TABLE patients; --" }), {
      token: t.reader,
    });
    expect(res.status).toBe(200);
    expect(await counts(svc)).toEqual(before);
  });

  it('a database failure answers a bare 500 without the SQL, its message or the patient', async () => {
    const givenName = `Explode${uniqueWord()}`;
    await svc.db.exec(`
      CREATE FUNCTION test_explode() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.given_name = '${givenName}' THEN
          RAISE EXCEPTION 'relation "secret_table" does not exist: SELECT * FROM patients WHERE %', NEW.family_name;
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER test_explode BEFORE INSERT ON patients FOR EACH ROW EXECUTE FUNCTION test_explode();
    `);
    try {
      const input = newPatient({ givenName });
      const res = await svc.request('POST', PATIENTS, { token: t.writer, body: input });
      const problem = expectProblem(res, 500);
      expect(problem).toMatchObject({ type: 'urn:hms:problem:internal', title: 'Internal server error' });
      const text = JSON.stringify(problem);
      for (const leak of ['secret_table', 'SELECT', 'patients WHERE', givenName, input.familyName, 'plpgsql'])
        expect(text).not.toContain(leak);
    } finally {
      await svc.db.exec('DROP TRIGGER test_explode ON patients; DROP FUNCTION test_explode();');
    }
  });
});
