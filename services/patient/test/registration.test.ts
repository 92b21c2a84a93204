import type { Patient } from '@hms/contracts';
import { type RunningService, qs } from '@hms/testkit';
import { expectProblem } from '@hms/testkit/vitest';
import { describe, expect, it } from 'vitest';
import {
  PATIENTS,
  counts,
  newPatient,
  outboxOf,
  register,
  usePatientService,
  uniqueWord,
  type Tokens,
} from './helpers.js';

let svc: RunningService;
let t: Tokens;

usePatientService((s, tokens) => {
  svc = s;
  t = tokens;
});

async function rowsNamed(familyName: string): Promise<number> {
  const { rows } = await svc.db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM patients WHERE family_name = $1',
    [familyName],
  );
  return rows[0]?.n ?? -1;
}

describe('duplicate guard', () => {
  it('answers 409 with existingId when the same name and birth date is registered twice', async () => {
    const first = await register(svc, t.writer);
    const before = await counts(svc);
    const res = await svc.request('POST', PATIENTS, { token: t.writer, body: samePersonAs(first) });
    const problem = expectProblem(res, 409);
    expect(problem.existingId).toBe(first.id);
    expect(problem.code).toBe('duplicate_patient');
    expect(await counts(svc)).toEqual(before);
  });

  it('finds the duplicate when the names differ only in case and accents (José / jose)', async () => {
    const family = `Núñez${uniqueWord()}`;
    const first = await register(svc, t.writer, newPatient({ givenName: 'José', familyName: family }));
    const before = await counts(svc);
    const res = await svc.request('POST', PATIENTS, {
      token: t.writer,
      body: newPatient({
        givenName: 'jose',
        familyName: family.normalize('NFD').replace(/\p{M}/gu, '').toUpperCase(),
        birthDate: first.birthDate,
        email: 'other@example.org',
      }),
    });
    expect(expectProblem(res, 409).existingId).toBe(first.id);
    expect(await counts(svc)).toEqual(before);
  });

  it('finds the duplicate despite surrounding spaces in the names', async () => {
    const first = await register(svc, t.writer);
    const res = await svc.request('POST', PATIENTS, {
      token: t.writer,
      body: { ...samePersonAs(first), givenName: ` ${first.givenName}  ` },
    });
    expect(expectProblem(res, 409).existingId).toBe(first.id);
  });

  it('registers the same name and birth date anyway with ?confirmDuplicate=true (201)', async () => {
    const first = await register(svc, t.writer);
    const res = await svc.request<Patient>('POST', PATIENTS + qs({ confirmDuplicate: 'true' }), {
      token: t.writer,
      body: samePersonAs(first),
    });
    expect(res.status).toBe(201);
    expect(res.body.id).not.toBe(first.id);
    expect(res.body.mrn).not.toBe(first.mrn);
    expect(await rowsNamed(first.familyName)).toBe(2);
    expect(await outboxOf(svc, res.body.id)).toHaveLength(1);
  });

  it('?confirmDuplicate=false still guards', async () => {
    const first = await register(svc, t.writer);
    const res = await svc.request('POST', PATIENTS + qs({ confirmDuplicate: 'false' }), {
      token: t.writer,
      body: samePersonAs(first),
    });
    expectProblem(res, 409);
  });

  it('the same name with another birth date is a different person', async () => {
    const first = await register(svc, t.writer);
    const res = await svc.request('POST', PATIENTS, {
      token: t.writer,
      body: { ...samePersonAs(first), birthDate: '1986-12-10' },
    });
    expect(res.status).toBe(201);
  });

  it('a deactivated patient does not block registering the same name and birth date', async () => {
    const first = await register(svc, t.writer);
    expect((await svc.request('DELETE', `${PATIENTS}/${first.id}`, { token: t.writer })).status).toBe(204);
    const res = await svc.request<Patient>('POST', PATIENTS, { token: t.writer, body: samePersonAs(first) });
    expect(res.status).toBe(201);
  });

  it('lets only one of two concurrent registrations of the same person through', async () => {
    const input = newPatient();
    const results = await Promise.all([
      svc.request('POST', PATIENTS, { token: t.writer, body: input }),
      svc.request('POST', PATIENTS, { token: t.writer, body: input }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    expect(await rowsNamed(input.familyName)).toBe(1);
  });
});

describe('Idempotency-Key on POST', () => {
  it('replays the first response for the same key and body: same id, idempotent-replayed, one row', async () => {
    const input = newPatient();
    const key = `create-${uniqueWord(12)}`;
    const send = () =>
      svc.request<Patient>('POST', PATIENTS, {
        token: t.writer,
        body: input,
        headers: { 'idempotency-key': key },
      });
    const first = await send();
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const second = await send();
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('location')).toBe(first.headers.get('location'));
    expect(second.headers.get('etag')).toBe('"v1"');
    expect(second.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await rowsNamed(input.familyName)).toBe(1);
    expect(await outboxOf(svc, first.body.id)).toHaveLength(1);
  });

  it('replays a refused duplicate as the same 409', async () => {
    const first = await register(svc, t.writer);
    const key = `dup-${uniqueWord(12)}`;
    const body = samePersonAs(first);
    const send = () =>
      svc.request('POST', PATIENTS, { token: t.writer, body, headers: { 'idempotency-key': key } });
    const a = await send();
    const b = await send();
    expect(expectProblem(a, 409).existingId).toBe(first.id);
    expect(expectProblem(b, 409).existingId).toBe(first.id);
    expect(b.headers.get('idempotent-replayed')).toBe('true');
  });

  it('answers 422 when the same key comes with a different body, and creates nothing', async () => {
    const key = `reuse-${uniqueWord(12)}`;
    const first = await svc.request<Patient>('POST', PATIENTS, {
      token: t.writer,
      body: newPatient(),
      headers: { 'idempotency-key': key },
    });
    expect(first.status).toBe(201);
    const before = await counts(svc);
    const other = newPatient();
    const res = await svc.request('POST', PATIENTS, {
      token: t.writer,
      body: other,
      headers: { 'idempotency-key': key },
    });
    expect(expectProblem(res, 422).code).toBe('idempotency_key_reused');
    expect(await counts(svc)).toEqual(before);
    expect(await rowsNamed(other.familyName)).toBe(0);
  });

  it('keys are per caller: the same key from another user is a request of its own', async () => {
    const key = `shared-${uniqueWord(12)}`;
    const a = await svc.request<Patient>('POST', PATIENTS, {
      token: await svc.keys.mint({ roles: ['receptionist'], sub: 'user-a' }),
      body: newPatient(),
      headers: { 'idempotency-key': key },
    });
    const b = await svc.request<Patient>('POST', PATIENTS, {
      token: await svc.keys.mint({ roles: ['receptionist'], sub: 'user-b' }),
      body: newPatient(),
      headers: { 'idempotency-key': key },
    });
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(b.headers.get('idempotent-replayed')).toBeNull();
    expect(b.body.id).not.toBe(a.body.id);
  });

  it('without a key, sending the same registration twice is caught by the duplicate guard', async () => {
    const input = newPatient();
    const a = await svc.request<Patient>('POST', PATIENTS, { token: t.writer, body: input });
    const b = await svc.request('POST', PATIENTS, { token: t.writer, body: input });
    expect(a.status).toBe(201);
    expect(expectProblem(b, 409).existingId).toBe(a.body.id);
  });

  it('answers 400 for an Idempotency-Key that is not 1 to 200 visible ASCII characters', async () => {
    const before = await counts(svc);
    const res = await svc.request('POST', PATIENTS, {
      token: t.writer,
      body: newPatient(),
      headers: { 'idempotency-key': 'x'.repeat(201) },
    });
    expectProblem(res, 400);
    expect(await counts(svc)).toEqual(before);
  });

  it('does not record a key for a request that failed validation: the fixed request goes through', async () => {
    const key = `fix-${uniqueWord(12)}`;
    const good = newPatient();
    const bad = await svc.request('POST', PATIENTS, {
      token: t.writer,
      body: { ...good, birthDate: 'yesterday' },
      headers: { 'idempotency-key': key },
    });
    expectProblem(bad, 400);
    const fixed = await svc.request<Patient>('POST', PATIENTS, {
      token: t.writer,
      body: good,
      headers: { 'idempotency-key': key },
    });
    expect(fixed.status).toBe(201);
    expect(fixed.headers.get('idempotent-replayed')).toBeNull();
  });
});

/** The registration body that would describe the same person as `p`. */
function samePersonAs(p: Patient) {
  return newPatient({ givenName: p.givenName, familyName: p.familyName, birthDate: p.birthDate });
}
