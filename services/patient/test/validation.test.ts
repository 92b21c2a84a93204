import type { Patient } from '@hms/contracts';
import { type RunningService, qs } from '@hms/testkit';
import { expectProblem, expectValidationErrors } from '@hms/testkit/vitest';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  PATIENTS,
  SEARCH,
  counts,
  newPatient,
  omit,
  outboxOf,
  putBodyOf,
  register,
  storedRow,
  usePatientService,
  type Tokens,
} from './helpers.js';

let svc: RunningService;
let t: Tokens;

usePatientService((s, tokens) => {
  svc = s;
  t = tokens;
});

const post = (body: unknown) => svc.request('POST', PATIENTS, { token: t.writer, body });
const tomorrow = () => new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);

describe('POST body validation: 400 with one {path, message} per bad field, and nothing written', () => {
  let before: { patients: number; outbox: number };
  beforeEach(async () => {
    before = await counts(svc);
  });
  const expectNothingWritten = async () => expect(await counts(svc)).toEqual(before);

  it('lists both fields when givenName is missing and birthDate is malformed', async () => {
    const body = omit(newPatient({ birthDate: '10/12/1985' }), 'givenName');
    const errors = expectValidationErrors(await post(body));
    expect(errors.map((e) => e.path)).toEqual(['/body/birthDate', '/body/givenName']);
    expect(errors.find((e) => e.path === '/body/givenName')?.message).toBe('is required');
    await expectNothingWritten();
  });

  it('lists every missing required field', async () => {
    const errors = expectValidationErrors(await post({}));
    expect(errors.map((e) => e.path)).toEqual([
      '/body/birthDate',
      '/body/familyName',
      '/body/givenName',
      '/body/sex',
    ]);
    await expectNothingWritten();
  });

  it('rejects an unknown field by name', async () => {
    const errors = expectValidationErrors(await post({ ...newPatient(), nickname: 'Ada' }));
    expect(errors).toEqual([{ path: '/body/nickname', message: 'is not an allowed field' }]);
    await expectNothingWritten();
  });

  it('rejects a value outside an enum', async () => {
    const errors = expectValidationErrors(await post(newPatient({ sex: 'robot' as 'other' })));
    expect(errors.map((e) => e.path)).toEqual(['/body/sex']);
    await expectNothingWritten();
  });

  it('rejects a malformed email', async () => {
    const errors = expectValidationErrors(await post(newPatient({ email: 'ada-at-example.org' })));
    expect(errors).toEqual([{ path: '/body/email', message: expect.stringContaining('email') as string }]);
    await expectNothingWritten();
  });

  it.each(['1985-13-01', '1985-02-30', '85-12-10', '1985-12-10T00:00:00Z', ''])(
    'rejects the birth date %j',
    async (birthDate) => {
      const errors = expectValidationErrors(await post(newPatient({ birthDate })));
      expect(errors.map((e) => e.path)).toEqual(['/body/birthDate']);
      await expectNothingWritten();
    },
  );

  it('rejects a birth date in the future', async () => {
    const errors = expectValidationErrors(await post(newPatient({ birthDate: tomorrow() })));
    expect(errors).toEqual([{ path: '/body/birthDate', message: 'must not be in the future' }]);
    await expectNothingWritten();
  });

  it('rejects a birth date before 1880', async () => {
    const errors = expectValidationErrors(await post(newPatient({ birthDate: '1879-12-31' })));
    expect(errors).toEqual([{ path: '/body/birthDate', message: 'must be on or after 1880-01-01' }]);
    await expectNothingWritten();
  });

  it('lists each blank name and the future birth date together', async () => {
    const errors = expectValidationErrors(
      await post(newPatient({ givenName: '   ', familyName: ' ', birthDate: '2999-01-01' })),
    );
    expect(errors.map((e) => e.path)).toEqual(['/body/birthDate', '/body/familyName', '/body/givenName']);
    await expectNothingWritten();
  });

  it('rejects a condition whose onset is before the birth date', async () => {
    const errors = expectValidationErrors(
      await post(
        newPatient({
          birthDate: '1985-12-10',
          conditions: [
            { code: 'J45', display: 'Asthma', onset: '1990-01-01', status: 'active' },
            { code: 'E11', display: 'Diabetes', onset: '1980-01-01', status: 'active' },
          ],
        }),
      ),
    );
    expect(errors).toEqual([
      { path: '/body/conditions/1/onset', message: 'must not be before the birth date' },
    ]);
    await expectNothingWritten();
  });

  it('points into nested objects and arrays with JSON pointers', async () => {
    const errors = expectValidationErrors(
      await post({
        ...newPatient(),
        address: { line1: '1 Road', city: 'Paris', country: 'fr' },
        allergies: [{ substance: 'nuts', severity: 'fatal' }],
        emergencyContact: { name: 'Bob', relation: 'brother' },
      }),
    );
    expect(errors.map((e) => e.path)).toEqual([
      '/body/address/country',
      '/body/allergies/0/severity',
      '/body/emergencyContact/phone',
    ]);
    await expectNothingWritten();
  });

  it('rejects a field of the wrong type that cannot be read as the right one', async () => {
    const errors = expectValidationErrors(
      await post({ ...newPatient(), address: 'London', allergies: { a: 1 } }),
    );
    expect(errors.map((e) => e.path)).toEqual(['/body/address', '/body/allergies']);
    await expectNothingWritten();
  });

  it('rejects names longer than 100 characters and a phone with letters', async () => {
    const errors = expectValidationErrors(
      await post(newPatient({ familyName: 'x'.repeat(101), phone: 'call me maybe' })),
    );
    expect(errors.map((e) => e.path)).toEqual(['/body/familyName', '/body/phone']);
    await expectNothingWritten();
  });

  it('rejects a body that is not an object', async () => {
    expectValidationErrors(await post([newPatient()]));
    await expectNothingWritten();
  });

  it('answers 400 malformed-json for a body that is not JSON', async () => {
    const res = await svc.request('POST', PATIENTS, {
      token: t.writer,
      rawBody: '{"givenName": "Ada",',
      headers: { 'content-type': 'application/json' },
    });
    const problem = expectProblem(res, 400);
    expect(problem.type).toBe('urn:hms:problem:malformed-json');
    expect(problem.errors).toEqual([{ path: '/body', message: 'is not valid JSON' }]);
    expect(JSON.stringify(problem)).not.toContain('Ada');
    await expectNothingWritten();
  });

  it('refuses a number where the schema says string: bodies are not type-coerced', async () => {
    const errors = expectValidationErrors(await post({ ...newPatient(), givenName: 42 }));
    expect(errors.map((e) => e.path)).toEqual(['/body/givenName']);
    await expectNothingWritten();
  });

  it('answers 415 for a text/plain body', async () => {
    const res = await svc.request('POST', PATIENTS, {
      token: t.writer,
      rawBody: JSON.stringify(newPatient()),
      headers: { 'content-type': 'text/plain' },
    });
    expectProblem(res, 415);
    await expectNothingWritten();
  });

  it('answers 400 for an empty body sent as JSON', async () => {
    const res = await svc.request('POST', PATIENTS, {
      token: t.writer,
      rawBody: '',
      headers: { 'content-type': 'application/json' },
    });
    expectProblem(res, 400);
    await expectNothingWritten();
  });

  it('answers 415 for a body that is not JSON by content type', async () => {
    const res = await svc.request('POST', PATIENTS, {
      token: t.writer,
      rawBody: '<patient><givenName>Ada</givenName></patient>',
      headers: { 'content-type': 'application/xml' },
    });
    expectProblem(res, 415);
    await expectNothingWritten();
  });

  it('answers 413 for a body over 1 MiB', async () => {
    const res = await svc.request('POST', PATIENTS, {
      token: t.writer,
      rawBody: JSON.stringify({ ...newPatient(), familyName: 'x'.repeat(1_100_000) }),
      headers: { 'content-type': 'application/json' },
    });
    expectProblem(res, 413);
    await expectNothingWritten();
  });
});

describe('update validation: 400 and the record unchanged', () => {
  let p: Patient;
  beforeAll(async () => {
    p = await register(svc, t.writer);
  });
  const expectUnchanged = async () => {
    expect(await storedRow(svc, p.id)).toMatchObject({ version: 1, given_name: p.givenName });
    expect(await outboxOf(svc, p.id)).toHaveLength(1);
  };

  it('PUT with a bad body lists each bad field and changes nothing', async () => {
    const body = omit({ ...putBodyOf(p), email: 'nope', givenName: 'Changed' }, 'familyName');
    const res = await svc.request('PUT', `${PATIENTS}/${p.id}`, {
      token: t.writer,
      body,
      headers: { 'if-match': '"v1"' },
    });
    expect(expectValidationErrors(res).map((e) => e.path)).toEqual(['/body/email', '/body/familyName']);
    await expectUnchanged();
  });

  it('PUT with a future birth date answers 400 and changes nothing', async () => {
    const res = await svc.request('PUT', `${PATIENTS}/${p.id}`, {
      token: t.writer,
      body: { ...putBodyOf(p), givenName: 'Changed', birthDate: tomorrow() },
      headers: { 'if-match': '"v1"' },
    });
    expect(expectValidationErrors(res)).toEqual([
      { path: '/body/birthDate', message: 'must not be in the future' },
    ]);
    await expectUnchanged();
  });

  it('PATCH with an unknown field, a wrong enum and a bad email lists all three', async () => {
    const res = await svc.request('PATCH', `${PATIENTS}/${p.id}`, {
      token: t.writer,
      body: { shoeSize: 42, status: 'asleep', email: 'x@' },
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    const errors = expectValidationErrors(res);
    expect([...new Set(errors.map((e) => e.path))]).toEqual([
      '/body/email',
      '/body/shoeSize',
      '/body/status',
    ]);
    expect(errors).toContainEqual({ path: '/body/email', message: 'must match format "email"' });
    expect(errors).toContainEqual({ path: '/body/shoeSize', message: 'is not an allowed field' });
    await expectUnchanged();
  });

  it('PATCH that would move the birth date after a condition onset answers 400', async () => {
    const q = await register(
      svc,
      t.writer,
      newPatient({ conditions: [{ code: 'J45', display: 'Asthma', onset: '1990-01-01', status: 'active' }] }),
    );
    const res = await svc.request('PATCH', `${PATIENTS}/${q.id}`, {
      token: t.writer,
      body: { birthDate: '1995-01-01' },
    });
    expect(expectValidationErrors(res)).toEqual([
      { path: '/body/conditions/0/onset', message: 'must not be before the birth date' },
    ]);
    expect(await storedRow(svc, q.id)).toMatchObject({ version: 1 });
  });

  it('PATCH with malformed JSON answers 400 and changes nothing', async () => {
    const res = await svc.request('PATCH', `${PATIENTS}/${p.id}`, {
      token: t.writer,
      rawBody: '{"givenName": ',
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    expectProblem(res, 400);
    await expectUnchanged();
  });

  it('PATCH with a non-JSON content type answers 415', async () => {
    const res = await svc.request('PATCH', `${PATIENTS}/${p.id}`, {
      token: t.writer,
      rawBody: 'givenName=Changed',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expectProblem(res, 415);
    await expectUnchanged();
  });
});

describe('path and query validation', () => {
  it.each([
    ['GET', undefined],
    ['PUT', newPatient()],
    ['PATCH', { givenName: 'X' }],
    ['DELETE', undefined],
  ] as const)('%s with a malformed uuid in the path answers 400 naming /params/id', async (method, body) => {
    const res = await svc.request(method, `${PATIENTS}/not-a-uuid`, {
      token: t.writer,
      ...(body ? { body } : {}),
      headers: { 'if-match': '"v1"' },
    });
    expect(expectValidationErrors(res)).toEqual([
      { path: '/params/id', message: expect.stringContaining('uuid') as string },
    ]);
  });

  it.each([101, 0, -1, 2.5, 'ten'])('list answers 400 for limit=%j', async (limit) => {
    const res = await svc.request('GET', PATIENTS + qs({ limit }), { token: t.reader });
    expect(expectValidationErrors(res).map((e) => e.path)).toEqual(['/querystring/limit']);
  });

  it('list accepts limit=100', async () => {
    expect((await svc.request('GET', PATIENTS + qs({ limit: 100 }), { token: t.reader })).status).toBe(200);
  });

  it('list answers 400 for a cursor that is not one it issued', async () => {
    const res = await svc.request('GET', PATIENTS + qs({ cursor: 'not-a-cursor' }), { token: t.reader });
    expect(expectValidationErrors(res).map((e) => e.path)).toEqual(['/querystring/cursor']);
  });

  it.each([
    ['a string that is not an id', ['robert']],
    ['a number', [42]],
    ['a search cursor', [0, 'lovelace', 'ada', '01900000-0000-7000-8000-000000000000']],
  ])('list answers 400 (not 500) for a well-formed cursor holding %s', async (_what, key) => {
    const cursor = Buffer.from(JSON.stringify(key)).toString('base64url');
    const res = await svc.request('GET', PATIENTS + qs({ cursor }), { token: t.reader });
    expect(expectValidationErrors(res).map((e) => e.path)).toEqual(['/querystring/cursor']);
  });

  it.each([
    ['a rank that is not a number', ['x', 'a', 'b', '01900000-0000-7000-8000-000000000000']],
    ['an id that is not a uuid', [0, 'a', 'b', 'robert']],
    ['a rank beyond any integer column', [2 ** 40, 'a', 'b', '01900000-0000-7000-8000-000000000000']],
    ['a name with a NUL character', [0, 'a\u0000b', 'c', '01900000-0000-7000-8000-000000000000']],
    ['a list cursor', ['01900000-0000-7000-8000-000000000000']],
  ])('search answers 400 (not 500) for a cursor holding %s', async (_what, key) => {
    const cursor = Buffer.from(JSON.stringify(key)).toString('base64url');
    const res = await svc.request('GET', SEARCH + qs({ name: 'ada', cursor }), { token: t.reader });
    expect(expectValidationErrors(res).map((e) => e.path)).toEqual(['/querystring/cursor']);
  });

  it('list names each bad query parameter: unknown one, wrong status, limit too big', async () => {
    const res = await svc.request('GET', PATIENTS + qs({ status: 'sleeping', limit: 500, sort: 'name' }), {
      token: t.reader,
    });
    expect(expectValidationErrors(res).map((e) => e.path)).toEqual([
      '/querystring/limit',
      '/querystring/sort',
      '/querystring/status',
    ]);
  });

  it('search with no criterion answers 400 with an errors entry', async () => {
    const res = await svc.request('GET', SEARCH, { token: t.reader });
    const errors = expectValidationErrors(res);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.path).toBe('/querystring');
  });

  it('search with only paging and status parameters is still a search without criterion', async () => {
    const res = await svc.request('GET', SEARCH + qs({ status: 'all', limit: 5 }), { token: t.reader });
    expect(expectValidationErrors(res)).toHaveLength(1);
  });

  it('search with a name made only of wildcard characters is a search without criterion', async () => {
    const res = await svc.request('GET', SEARCH + qs({ name: '%_%' }), { token: t.reader });
    expect(expectValidationErrors(res)).toHaveLength(1);
  });

  it('search names each bad criterion', async () => {
    const res = await svc.request(
      'GET',
      SEARCH +
        qs({ name: 'a', birthDate: '1985-13-40', mrn: 'MRN12', email: 'nope', phone: 'abc', limit: 101 }),
      { token: t.reader },
    );
    expect(expectValidationErrors(res).map((e) => e.path)).toEqual([
      '/querystring/birthDate',
      '/querystring/email',
      '/querystring/limit',
      '/querystring/mrn',
      '/querystring/name',
      '/querystring/phone',
    ]);
  });

  it('POST answers 400 for an unknown query parameter and writes nothing', async () => {
    const before = await counts(svc);
    const res = await svc.request('POST', PATIENTS + qs({ force: 'yes' }), {
      token: t.writer,
      body: newPatient(),
    });
    expect(expectValidationErrors(res).map((e) => e.path)).toEqual(['/querystring/force']);
    expect(await counts(svc)).toEqual(before);
  });
});
