import { assertValidEvent, type Patient } from '@hms/contracts';
import { type OutboxRow, type RunningService, startService } from '@hms/testkit';
import { expectProblem } from '@hms/testkit/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patientService } from '../src/service.js';
import {
  PATIENTS,
  counts,
  newPatient,
  omit,
  outboxOf,
  putBodyOf,
  register,
  storedRow,
  tokensFor,
  uniqueWord,
  type Tokens,
} from './helpers.js';

let svc: RunningService;
let t: Tokens;

/**
 * A real fault in the real database: a trigger refuses outbox rows for the subjects (or new
 * patients' given names) listed in `test_poison`, so a test can make the event write fail after
 * the patient row was written and watch the transaction roll back.
 */
const POISON = `
  CREATE TABLE test_poison (value text PRIMARY KEY);
  CREATE FUNCTION test_poison_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF EXISTS (SELECT 1 FROM test_poison
                WHERE value = NEW.subject OR value = NEW.envelope->'data'->'patient'->>'givenName') THEN
      RAISE EXCEPTION 'injected failure: INSERT INTO outbox refused for %', NEW.subject;
    END IF;
    RETURN NEW;
  END $$;
  CREATE TRIGGER test_poison_outbox BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION test_poison_outbox();
`;

beforeAll(async () => {
  svc = await startService(patientService);
  t = await tokensFor(svc);
  await svc.db.exec(POISON);
});
afterAll(async () => {
  await svc.close();
});

const patch = (id: string, body: unknown, headers: Record<string, string> = {}) =>
  svc.request<Patient>('PATCH', `${PATIENTS}/${id}`, { token: t.writer, body, headers });

/** The one event a test expects, checked against the CloudEvents envelope and the registry. */
function theEvent(rows: OutboxRow[], type: string): OutboxRow['envelope'] {
  const matching = rows.filter((r) => r.type === type);
  expect(matching).toHaveLength(1);
  const row = matching[0];
  if (!row) throw new Error('unreachable');
  expect(() => {
    assertValidEvent(row.envelope);
  }).not.toThrow();
  expect(row.envelope.type).toBe(type);
  expect(row.envelope.subject).toBe(row.subject);
  return row.envelope;
}

describe('events written with a successful change', () => {
  it('a registration writes exactly one patient.registered.v1, a valid CloudEvent carrying the full patient', async () => {
    const before = await counts(svc);
    const res = await svc.request<Patient>('POST', PATIENTS, { token: t.writer, body: newPatient() });
    expect(res.status).toBe(201);
    expect(await counts(svc)).toEqual({ patients: before.patients + 1, outbox: before.outbox + 1 });
    const rows = await outboxOf(svc, res.body.id);
    expect(rows).toHaveLength(1);
    const event = theEvent(rows, 'patient.registered.v1');
    expect(event).toMatchObject({
      specversion: '1.0',
      source: '/hms/patient',
      subject: res.body.id,
      datacontenttype: 'application/json',
      dataschema: 'urn:hms:event:patient.registered.v1',
    });
    expect(event.id).not.toBe(res.body.id);
    expect(event.data).toEqual({ patient: res.body });
  });

  it('names the verified caller as the event’s actor (the token’s sub), never a name', async () => {
    const sub = '0190a1b2-0000-7000-8000-00000000a11c';
    const token = await svc.keys.mint({ sub, roles: ['receptionist'] });
    const res = await svc.request<Patient>('POST', PATIENTS, { token, body: newPatient() });
    expect(res.status).toBe(201);
    expect(theEvent(await outboxOf(svc, res.body.id), 'patient.registered.v1').actor).toBe(sub);
  });

  it("continues the caller's trace in the event (same trace id, the service's own span)", async () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const res = await svc.request<Patient>('POST', PATIENTS, {
      token: t.writer,
      body: newPatient(),
      headers: { traceparent },
    });
    expect(res.status).toBe(201);
    const carried = theEvent(await outboxOf(svc, res.body.id), 'patient.registered.v1').traceparent;
    expect(carried).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    expect(carried).not.toBe(traceparent);
  });

  it('a PATCH writes patient.updated.v1 naming the changed fields, committed with the bumped version', async () => {
    const p = await register(svc, t.writer);
    const res = await patch(p.id, { email: 'changed@example.org', phone: null });
    expect(res.status).toBe(200);
    expect(await storedRow(svc, p.id)).toMatchObject({ version: 2, phone: null });
    const rows = await outboxOf(svc, p.id);
    expect(rows.map((r) => r.type)).toEqual(['patient.registered.v1', 'patient.updated.v1']);
    const event = theEvent(rows, 'patient.updated.v1');
    expect(event.data).toEqual({ patient: res.body, changedFields: ['phone', 'email'] });
  });

  it('a PUT writes patient.updated.v1 naming exactly the fields it changed, cleared ones included', async () => {
    const p = await register(svc, t.writer);
    const body = omit({ ...putBodyOf(p), familyName: `${p.familyName}Jr`, allergies: [] }, 'address');
    const res = await svc.request<Patient>('PUT', `${PATIENTS}/${p.id}`, {
      token: t.writer,
      body,
      headers: { 'if-match': '"v1"' },
    });
    expect(res.status).toBe(200);
    const event = theEvent(await outboxOf(svc, p.id), 'patient.updated.v1');
    expect(event.data.changedFields).toEqual(['familyName', 'address', 'allergies']);
    expect(event.data.patient).toEqual(res.body);
  });

  it('a DELETE writes patient.updated.v1 with changedFields [status] and the inactive patient', async () => {
    const p = await register(svc, t.writer);
    expect((await svc.request('DELETE', `${PATIENTS}/${p.id}`, { token: t.writer })).status).toBe(204);
    const event = theEvent(await outboxOf(svc, p.id), 'patient.updated.v1');
    expect(event.data.changedFields).toEqual(['status']);
    expect(event.data.patient).toMatchObject({ id: p.id, status: 'inactive', version: 2 });
  });

  it('each change writes its own event, in order, carrying the version it made', async () => {
    const p = await register(svc, t.writer);
    await patch(p.id, { givenName: 'Second' });
    await patch(p.id, { status: 'deceased' });
    const rows = await outboxOf(svc, p.id);
    expect(rows.map((r) => r.type)).toEqual([
      'patient.registered.v1',
      'patient.updated.v1',
      'patient.updated.v1',
    ]);
    expect(rows.map((r) => (r.envelope.data.patient as Patient).version)).toEqual([1, 2, 3]);
    expect(rows.map((r) => r.envelope.data.changedFields)).toEqual([undefined, ['givenName'], ['status']]);
    expect(new Set(rows.map((r) => r.envelope.id)).size).toBe(3);
    for (const r of rows) assertValidEvent(r.envelope);
  });
});

describe('no change, no event', () => {
  it('a PUT that changes nothing writes no event and does not bump the version', async () => {
    const p = await register(
      svc,
      t.writer,
      newPatient({
        emergencyContact: { name: 'Charles Babbage', relation: 'friend', phone: '+44 20 7946 0000' },
        insurance: { payer: 'NHS', memberId: 'M-1', groupNumber: 'G-7' },
        conditions: [{ code: 'E11', display: 'Type 2 diabetes', onset: '2010-04-01', status: 'active' }],
      }),
    );
    const res = await svc.request<Patient>('PUT', `${PATIENTS}/${p.id}`, {
      token: t.writer,
      body: putBodyOf(p),
      headers: { 'if-match': '"v1"' },
    });
    expect(res.status).toBe(200);
    expect(res.body.version).toBe(1);
    expect(res.headers.get('etag')).toBe('"v1"');
    expect(await storedRow(svc, p.id)).toMatchObject({ version: 1 });
    expect((await outboxOf(svc, p.id)).map((r) => r.type)).toEqual(['patient.registered.v1']);
  });

  it('a PATCH that sends the current values writes no event', async () => {
    const p = await register(svc, t.writer);
    const res = await patch(p.id, { givenName: p.givenName, address: p.address, allergies: p.allergies });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(p);
    expect(await outboxOf(svc, p.id)).toHaveLength(1);
  });
});

describe('a failed update leaves neither a changed row nor an event', () => {
  it('stale If-Match', async () => {
    const p = await register(svc, t.writer);
    expect((await patch(p.id, { givenName: 'Newer' })).status).toBe(200);
    const before = await counts(svc);
    const res = await svc.request('PUT', `${PATIENTS}/${p.id}`, {
      token: t.writer,
      body: { ...putBodyOf(p), givenName: 'Stale' },
      headers: { 'if-match': '"v1"' },
    });
    expectProblem(res, 412);
    expect(await counts(svc)).toEqual(before);
    expect(await storedRow(svc, p.id)).toMatchObject({ version: 2, given_name: 'Newer' });
  });

  it('a body the domain rules reject (birth date after a condition onset)', async () => {
    const p = await register(
      svc,
      t.writer,
      newPatient({ conditions: [{ code: 'J45', display: 'Asthma', onset: '1990-01-01', status: 'active' }] }),
    );
    const before = await counts(svc);
    expectProblem(await patch(p.id, { birthDate: '1991-01-01', givenName: 'Changed' }), 400);
    expect(await counts(svc)).toEqual(before);
    expect(await storedRow(svc, p.id)).toMatchObject({ version: 1, given_name: p.givenName });
  });

  it('a body the schema rejects', async () => {
    const p = await register(svc, t.writer);
    const before = await counts(svc);
    expectProblem(await patch(p.id, { givenName: 'Changed', email: 'not-an-email' }), 400);
    expect(await counts(svc)).toEqual(before);
    expect(await storedRow(svc, p.id)).toMatchObject({ version: 1, given_name: p.givenName });
  });

  it('when the event cannot be written, the row change is rolled back with it', async () => {
    const p = await register(svc, t.writer);
    await svc.db.query('INSERT INTO test_poison (value) VALUES ($1)', [p.id]);
    const res = await patch(p.id, { givenName: 'Rolledback' });
    const problem = expectProblem(res, 500);
    expect(JSON.stringify(problem)).not.toMatch(/injected|outbox|Rolledback/i);
    expect(await storedRow(svc, p.id)).toMatchObject({ version: 1, given_name: p.givenName });
    expect(await outboxOf(svc, p.id)).toHaveLength(1);
    await svc.db.query('DELETE FROM test_poison WHERE value = $1', [p.id]);
    expect((await patch(p.id, { givenName: 'Afterwards' })).body.version).toBe(2);
  });

  it('when the registration event cannot be written, no patient is registered', async () => {
    const givenName = `Poisoned${uniqueWord()}`;
    await svc.db.query('INSERT INTO test_poison (value) VALUES ($1)', [givenName]);
    const before = await counts(svc);
    const res = await svc.request('POST', PATIENTS, { token: t.writer, body: newPatient({ givenName }) });
    expectProblem(res, 500);
    expect(await counts(svc)).toEqual(before);
    const { rows } = await svc.db.query('SELECT id FROM patients WHERE given_name = $1', [givenName]);
    expect(rows).toEqual([]);
  });
});
