import type { Patient } from '@hms/contracts';
import type { RunningService } from '@hms/testkit';
import { expectProblem, readAllPages } from '@hms/testkit/vitest';
import { describe, expect, it } from 'vitest';
import { isValidMrn } from '../src/domain/patient.js';
import {
  PATIENTS,
  newPatient,
  omit,
  putBodyOf,
  register,
  storedRow,
  usePatientService,
  type Tokens,
} from './helpers.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const MERGE_PATCH = { 'content-type': 'application/merge-patch+json' };

let svc: RunningService;
let t: Tokens;

usePatientService((s, tokens) => {
  svc = s;
  t = tokens;
});

const get = (id: string) => svc.request<Patient>('GET', `${PATIENTS}/${id}`, { token: t.writer });

describe('POST /api/v1/patients', () => {
  it('registers a patient: 201 with the full record, a Location header and an ETag', async () => {
    const input = newPatient({
      emergencyContact: { name: 'Charles Babbage', relation: 'friend', phone: '+44 20 7946 0000' },
      insurance: { payer: 'NHS', memberId: 'M-1', groupNumber: 'G-7' },
      conditions: [{ code: 'E11', display: 'Type 2 diabetes', onset: '2010-04-01', status: 'active' }],
    });
    const res = await svc.request<Patient>('POST', PATIENTS, { token: t.writer, body: input });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ ...input, status: 'active', version: 1 });
    expect(res.body.id).toMatch(UUID_V7);
    expect(isValidMrn(res.body.mrn)).toBe(true);
    expect(res.body.createdAt).toBe(res.body.updatedAt);
    expect(new Date(res.body.createdAt).toISOString()).toBe(res.body.createdAt);
    expect(res.headers.get('location')).toBe(`${PATIENTS}/${res.body.id}`);
    expect(res.headers.get('etag')).toBe('"v1"');
    expect(await storedRow(svc, res.body.id)).toMatchObject({ version: 1, status: 'active' });
  });

  it('registers a patient with only the required fields: optional ones absent, lists empty', async () => {
    const res = await svc.request<Patient>('POST', PATIENTS, {
      token: t.writer,
      body: {
        givenName: 'Mary',
        familyName: `Somerville${Date.now()}`,
        birthDate: '1940-12-26',
        sex: 'female',
      },
    });
    expect(res.status).toBe(201);
    expect(res.body.allergies).toEqual([]);
    expect(res.body.conditions).toEqual([]);
    for (const f of ['phone', 'email', 'address', 'emergencyContact', 'insurance'])
      expect(res.body).not.toHaveProperty(f);
  });

  it('trims surrounding spaces from names', async () => {
    const input = newPatient();
    const p = await register(svc, t.writer, {
      ...input,
      givenName: `  ${input.givenName} `,
      familyName: ` ${input.familyName}  `,
    });
    expect(p.givenName).toBe(input.givenName);
    expect(p.familyName).toBe(input.familyName);
  });

  it('gives every patient its own MRN with a valid check digit', async () => {
    const a = await register(svc, t.writer);
    const b = await register(svc, t.writer);
    expect(a.mrn).not.toBe(b.mrn);
    expect(a.mrn).toMatch(/^MRN\d{9}$/);
    expect(isValidMrn(a.mrn) && isValidMrn(b.mrn)).toBe(true);
  });

  it('registers a patient with a status given in the body', async () => {
    const p = await register(svc, t.writer, newPatient({ status: 'deceased' }));
    expect(p.status).toBe('deceased');
  });
});

describe('GET /api/v1/patients/:id', () => {
  it('returns the patient with an ETag naming its version', async () => {
    const created = await register(svc, t.writer);
    const res = await get(created.id);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(created);
    expect(res.headers.get('etag')).toBe('"v1"');
  });

  it('answers 404 problem for an id no patient has', async () => {
    const p = expectProblem(await get('01900000-0000-7000-8000-000000000000'), 404);
    expect(p.code).toBe('patient_not_found');
  });
});

describe('PUT /api/v1/patients/:id', () => {
  it('answers 428 when PUT has no If-Match, and changes nothing', async () => {
    const p = await register(svc, t.writer);
    const res = await svc.request('PUT', `${PATIENTS}/${p.id}`, {
      token: t.writer,
      body: { ...putBodyOf(p), givenName: 'Changed' },
    });
    expectProblem(res, 428);
    expect((await get(p.id)).body).toEqual(p);
  });

  it('answers 412 with the current ETag when If-Match is stale, and changes nothing', async () => {
    const p = await register(svc, t.writer);
    const first = await svc.request<Patient>('PUT', `${PATIENTS}/${p.id}`, {
      token: t.writer,
      body: { ...putBodyOf(p), givenName: 'First' },
      headers: { 'if-match': '"v1"' },
    });
    expect(first.status).toBe(200);
    const stale = await svc.request('PUT', `${PATIENTS}/${p.id}`, {
      token: t.writer,
      body: { ...putBodyOf(p), givenName: 'Second' },
      headers: { 'if-match': '"v1"' },
    });
    const problem = expectProblem(stale, 412);
    expect(problem.currentETag).toBe('"v2"');
    const now = await get(p.id);
    expect(now.body.givenName).toBe('First');
    expect(now.body.version).toBe(2);
  });

  it('answers 412 when If-Match is not an ETag this service issued', async () => {
    const p = await register(svc, t.writer);
    const res = await svc.request('PUT', `${PATIENTS}/${p.id}`, {
      token: t.writer,
      body: putBodyOf(p),
      headers: { 'if-match': 'W/"something-else"' },
    });
    expectProblem(res, 412);
    expect(await storedRow(svc, p.id)).toMatchObject({ version: 1 });
  });

  it('replaces the record with the current If-Match: 200, a new ETag and version + 1', async () => {
    const p = await register(svc, t.writer);
    const etag = (await get(p.id)).headers.get('etag') ?? '';
    const body = { ...putBodyOf(p), givenName: 'Augusta', email: 'augusta@example.org' };
    const res = await svc.request<Patient>('PUT', `${PATIENTS}/${p.id}`, {
      token: t.writer,
      body,
      headers: { 'if-match': etag },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"v2"');
    expect(res.body).toMatchObject({ ...body, id: p.id, mrn: p.mrn, version: p.version + 1 });
    expect(res.body.createdAt).toBe(p.createdAt);
    expect(res.body.updatedAt > p.updatedAt).toBe(true);
    const again = await get(p.id);
    expect(again.body).toEqual(res.body);
    expect(again.headers.get('etag')).toBe('"v2"');
  });

  it('clears the optional fields a PUT leaves out and keeps the status it omits', async () => {
    const p = await register(svc, t.writer);
    const rest = omit(putBodyOf(p), 'phone', 'address', 'allergies', 'status');
    const res = await svc.request<Patient>('PUT', `${PATIENTS}/${p.id}`, {
      token: t.writer,
      body: rest,
      headers: { 'if-match': '"v1"' },
    });
    expect(res.status).toBe(200);
    expect(res.body).not.toHaveProperty('phone');
    expect(res.body).not.toHaveProperty('address');
    expect(res.body.allergies).toEqual([]);
    expect(res.body.email).toBe(p.email);
    expect(res.body.status).toBe('active');
  });

  it('accepts If-Match: * as "whatever the current version is"', async () => {
    const p = await register(svc, t.writer);
    const res = await svc.request<Patient>('PUT', `${PATIENTS}/${p.id}`, {
      token: t.writer,
      body: { ...putBodyOf(p), familyName: `${p.familyName}x` },
      headers: { 'if-match': '*' },
    });
    expect(res.status).toBe(200);
    expect(res.body.version).toBe(2);
  });

  it('a PUT that changes nothing keeps the version and the ETag', async () => {
    const p = await register(svc, t.writer);
    const res = await svc.request<Patient>('PUT', `${PATIENTS}/${p.id}`, {
      token: t.writer,
      body: putBodyOf(p),
      headers: { 'if-match': '"v1"' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(p);
    expect(res.headers.get('etag')).toBe('"v1"');
    expect(await storedRow(svc, p.id)).toMatchObject({ version: 1 });
  });

  it('answers 404 for PUT to an unknown id', async () => {
    const res = await svc.request('PUT', `${PATIENTS}/01900000-0000-7000-8000-000000000001`, {
      token: t.writer,
      body: newPatient(),
      headers: { 'if-match': '"v1"' },
    });
    expectProblem(res, 404);
  });

  it('lets exactly one of two concurrent PUTs with the same If-Match win; the other gets 412', async () => {
    const p = await register(svc, t.writer);
    const put = (givenName: string) =>
      svc.request<Patient>('PUT', `${PATIENTS}/${p.id}`, {
        token: t.writer,
        body: { ...putBodyOf(p), givenName },
        headers: { 'if-match': '"v1"' },
      });
    const results = await Promise.all([put('Racer A'), put('Racer B')]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 412]);
    const winner = results.find((r) => r.status === 200);
    const now = await get(p.id);
    expect(now.body.version).toBe(2);
    expect(now.body.givenName).toBe(winner?.body.givenName);
  });
});

describe('PATCH /api/v1/patients/:id', () => {
  it('changes only the fields sent (application/merge-patch+json)', async () => {
    const p = await register(svc, t.writer);
    const res = await svc.request<Patient>('PATCH', `${PATIENTS}/${p.id}`, {
      token: t.writer,
      body: { email: 'new@example.org', sex: 'other' },
      headers: MERGE_PATCH,
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      ...p,
      email: 'new@example.org',
      sex: 'other',
      version: 2,
      updatedAt: res.body.updatedAt,
    });
    expect(res.headers.get('etag')).toBe('"v2"');
  });

  it('accepts a merge patch sent as application/json too', async () => {
    const p = await register(svc, t.writer);
    const res = await svc.request<Patient>('PATCH', `${PATIENTS}/${p.id}`, {
      token: t.writer,
      body: { givenName: 'Plainjson' },
    });
    expect(res.status).toBe(200);
    expect(res.body.givenName).toBe('Plainjson');
    expect(res.body.familyName).toBe(p.familyName);
  });

  it('clears an optional field sent as null', async () => {
    const p = await register(svc, t.writer);
    expect(p.phone).toBeDefined();
    const res = await svc.request<Patient>('PATCH', `${PATIENTS}/${p.id}`, {
      token: t.writer,
      body: { phone: null, address: null },
      headers: MERGE_PATCH,
    });
    expect(res.status).toBe(200);
    expect(res.body).not.toHaveProperty('phone');
    expect(res.body).not.toHaveProperty('address');
    expect(res.body.email).toBe(p.email);
    expect((await get(p.id)).body).not.toHaveProperty('phone');
    expect(await storedRow(svc, p.id)).toMatchObject({ phone: null });
  });

  it('empties the allergy list when allergies is sent as null', async () => {
    const p = await register(svc, t.writer);
    expect(p.allergies).toHaveLength(1);
    const res = await svc.request<Patient>('PATCH', `${PATIENTS}/${p.id}`, {
      token: t.writer,
      body: { allergies: null },
      headers: MERGE_PATCH,
    });
    expect(res.status).toBe(200);
    expect(res.body.allergies).toEqual([]);
  });

  it('replaces a nested object whole rather than merging into it', async () => {
    const p = await register(svc, t.writer);
    const address = { line1: '1 New Road', city: 'Leeds', country: 'GB' };
    const res = await svc.request<Patient>('PATCH', `${PATIENTS}/${p.id}`, {
      token: t.writer,
      body: { address },
      headers: MERGE_PATCH,
    });
    expect(res.status).toBe(200);
    expect(res.body.address).toEqual(address);
  });

  it('applies with the current If-Match and answers 412 for a stale one', async () => {
    const p = await register(svc, t.writer);
    const ok = await svc.request<Patient>('PATCH', `${PATIENTS}/${p.id}`, {
      token: t.writer,
      body: { givenName: 'Current' },
      headers: { ...MERGE_PATCH, 'if-match': '"v1"' },
    });
    expect(ok.status).toBe(200);
    const stale = await svc.request('PATCH', `${PATIENTS}/${p.id}`, {
      token: t.writer,
      body: { givenName: 'Stale' },
      headers: { ...MERGE_PATCH, 'if-match': '"v1"' },
    });
    expectProblem(stale, 412);
    expect((await get(p.id)).body.givenName).toBe('Current');
  });

  it('refuses null for a required field', async () => {
    const p = await register(svc, t.writer);
    const res = await svc.request('PATCH', `${PATIENTS}/${p.id}`, {
      token: t.writer,
      body: { givenName: null },
      headers: MERGE_PATCH,
    });
    const problem = expectProblem(res, 400);
    expect(problem.errors?.map((e) => e.path)).toContain('/body/givenName');
    expect((await get(p.id)).body).toEqual(p);
  });

  it('refuses an empty patch', async () => {
    const p = await register(svc, t.writer);
    const res = await svc.request('PATCH', `${PATIENTS}/${p.id}`, {
      token: t.writer,
      body: {},
      headers: MERGE_PATCH,
    });
    expectProblem(res, 400);
  });

  it('answers 404 for PATCH of an unknown id', async () => {
    const res = await svc.request('PATCH', `${PATIENTS}/01900000-0000-7000-8000-000000000002`, {
      token: t.writer,
      body: { givenName: 'Nobody' },
      headers: MERGE_PATCH,
    });
    expectProblem(res, 404);
  });
});

describe('DELETE /api/v1/patients/:id', () => {
  it('deactivates: 204, and the record stays readable by id with status inactive', async () => {
    const p = await register(svc, t.writer);
    const res = await svc.request('DELETE', `${PATIENTS}/${p.id}`, { token: t.writer });
    expect(res.status).toBe(204);
    expect(res.body).toBe('');
    expect(res.headers.get('etag')).toBe('"v2"');
    const after = await get(p.id);
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ ...putBodyOf(p), status: 'inactive', version: 2 });
  });

  it('takes a deactivated patient out of the default list; ?status=inactive shows it', async () => {
    const p = await register(svc, t.writer);
    const before = await readAllPages<Patient>(svc, PATIENTS, t.writer);
    expect(before.items.map((x) => x.id)).toContain(p.id);
    expect((await svc.request('DELETE', `${PATIENTS}/${p.id}`, { token: t.writer })).status).toBe(204);
    const active = await readAllPages<Patient>(svc, PATIENTS, t.writer);
    expect(active.items.map((x) => x.id)).not.toContain(p.id);
    const inactive = await readAllPages<Patient>(svc, PATIENTS, t.writer, { status: 'inactive' });
    expect(inactive.items.find((x) => x.id === p.id)?.status).toBe('inactive');
  });

  it('deleting an already deactivated patient is harmless: 204, no new version', async () => {
    const p = await register(svc, t.writer);
    expect((await svc.request('DELETE', `${PATIENTS}/${p.id}`, { token: t.writer })).status).toBe(204);
    const again = await svc.request('DELETE', `${PATIENTS}/${p.id}`, { token: t.writer });
    expect(again.status).toBe(204);
    expect(again.headers.get('etag')).toBe('"v2"');
    expect(await storedRow(svc, p.id)).toMatchObject({ version: 2, status: 'inactive' });
  });

  it('answers 412 for DELETE with a stale If-Match and leaves the patient active', async () => {
    const p = await register(svc, t.writer);
    await svc.request('PATCH', `${PATIENTS}/${p.id}`, { token: t.writer, body: { givenName: 'Moved' } });
    const res = await svc.request('DELETE', `${PATIENTS}/${p.id}`, {
      token: t.writer,
      headers: { 'if-match': '"v1"' },
    });
    expectProblem(res, 412);
    expect(await storedRow(svc, p.id)).toMatchObject({ version: 2, status: 'active' });
  });

  it('answers 404 for DELETE of an unknown id', async () => {
    const res = await svc.request('DELETE', `${PATIENTS}/01900000-0000-7000-8000-000000000003`, {
      token: t.writer,
    });
    expectProblem(res, 404);
  });
});
