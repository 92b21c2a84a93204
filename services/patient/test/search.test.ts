import type { Patient } from '@hms/contracts';
import { type Page, type RunningService, qs } from '@hms/testkit';
import { readAllPages } from '@hms/testkit/vitest';
import { describe, expect, it } from 'vitest';
import {
  PATIENTS,
  SEARCH,
  newPatient,
  randomBirthDate,
  register,
  usePatientService,
  uniquePhone,
  uniqueWord,
  type Tokens,
} from './helpers.js';

let svc: RunningService;
let t: Tokens;

usePatientService((s, tokens) => {
  svc = s;
  t = tokens;
});

type Params = Record<string, string | number | undefined>;
const search = (params: Params) =>
  svc.request<Page<Patient>>('GET', SEARCH + qs(params), { token: t.reader });
/** Every match, across all pages. */
const searchAll = async (params: Params) =>
  (await readAllPages<Patient>(svc, SEARCH, t.reader, params)).items;
const ids = (items: Patient[]) => items.map((p) => p.id);
const capitalize = (w: string) => w.charAt(0).toUpperCase() + w.slice(1);

describe('search by name', () => {
  it("finds a patient by the prefix of the family name ('lov' finds Lovelace)", async () => {
    const p = await register(svc, t.writer, newPatient({ familyName: `Lovelace${uniqueWord()}` }));
    const found = await searchAll({ name: 'lov' });
    expect(ids(found)).toContain(p.id);
  });

  it('finds a patient by the prefix of the given name', async () => {
    const given = capitalize(uniqueWord(10));
    const p = await register(svc, t.writer, newPatient({ givenName: given }));
    expect(ids(await searchAll({ name: given.slice(0, 6) }))).toEqual([p.id]);
  });

  it("is case- and accent-insensitive ('JOSE' finds 'José')", async () => {
    const family = `Álvarez${uniqueWord()}`;
    const p = await register(svc, t.writer, newPatient({ givenName: 'José', familyName: family }));
    expect(ids(await searchAll({ name: 'JOSE' }))).toContain(p.id);
    const plain = family.toUpperCase().replace('Á', 'A');
    expect(ids(await searchAll({ name: `jose ${plain}` }))).toEqual([p.id]);
  });

  it("matches accents written in the query against plain stored names ('ZOË' finds 'Zoe')", async () => {
    const family = `Zoe${uniqueWord()}`;
    const p = await register(svc, t.writer, newPatient({ givenName: 'Renee', familyName: family }));
    const query = `RENÉE ZOË${family.slice(3).toUpperCase()}`;
    expect(ids(await searchAll({ name: query }))).toEqual([p.id]);
  });

  it.each([
    ['a letter missing', (w: string) => w.slice(0, 6) + w.slice(7)],
    ['a letter changed', (w: string) => `${w.slice(0, 9)}z${w.slice(10)}`],
    ['two letters swapped', (w: string) => w.slice(0, 4) + w.charAt(5) + w.charAt(4) + w.slice(6)],
  ])('finds a patient fuzzily despite %s', async (_what, typo) => {
    const family = `Wojciechowski${uniqueWord()}`;
    const p = await register(svc, t.writer, newPatient({ familyName: family }));
    const query = typo(family.toLowerCase());
    expect(query).not.toBe(family.toLowerCase());
    expect(ids(await searchAll({ name: query }))).toContain(p.id);
  });

  it('does not match a name that merely shares a few letters', async () => {
    const u = uniqueWord();
    const p = await register(svc, t.writer, newPatient({ familyName: `Bartholomew${u}` }));
    expect(ids(await searchAll({ name: `Zimmermann${uniqueWord()}` }))).not.toContain(p.id);
  });

  it('ranks prefix matches before fuzzy ones', async () => {
    const u = uniqueWord();
    const fuzzy = await register(svc, t.writer, newPatient({ familyName: `Marten${u}` }));
    const prefix = await register(svc, t.writer, newPatient({ familyName: `Martin${u}` }));
    const found = ids(await searchAll({ name: `martin${u}` }));
    expect(found).toContain(fuzzy.id);
    expect(found.indexOf(prefix.id)).toBe(0);
    expect(found.indexOf(fuzzy.id)).toBeGreaterThan(0);
  });

  it('needs every word to match: given and family name together', async () => {
    const family = `Hopper${uniqueWord()}`;
    const grace = await register(svc, t.writer, newPatient({ givenName: 'Grace', familyName: family }));
    const ada = await register(svc, t.writer, newPatient({ givenName: 'Ada', familyName: family }));
    expect(ids(await searchAll({ name: `grace ${family}` }))).toEqual([grace.id]);
    expect(ids(await searchAll({ name: `${family}, Grace` }))).toEqual([grace.id]);
    expect(ids(await searchAll({ name: `ada ${family}` }))).toEqual([ada.id]);
    expect(ids(await searchAll({ name: family })).sort()).toEqual([ada.id, grace.id].sort());
  });

  it('ignores SQL LIKE wildcards typed into the name', async () => {
    const family = `Percent${uniqueWord()}`;
    const p = await register(svc, t.writer, newPatient({ familyName: family }));
    expect(ids(await searchAll({ name: `${family.slice(0, 10)}%` }))).toEqual([p.id]);
    expect(ids(await searchAll({ name: `${family.slice(0, 10)}\\` }))).toEqual([p.id]);
  });
});

describe('search by other criteria', () => {
  it('finds patients by birth date, and only those born that day', async () => {
    const birthDate = randomBirthDate();
    const a = await register(svc, t.writer, newPatient({ birthDate }));
    const b = await register(svc, t.writer, newPatient({ birthDate }));
    const other = await register(svc, t.writer);
    const found = await searchAll({ birthDate });
    expect(ids(found)).toEqual(expect.arrayContaining([a.id, b.id]));
    expect(ids(found)).not.toContain(other.id);
    expect(found.every((p) => p.birthDate === birthDate)).toBe(true);
  });

  it('finds exactly one patient by MRN, written in any case', async () => {
    const p = await register(svc, t.writer);
    await register(svc, t.writer);
    expect(ids((await search({ mrn: p.mrn })).body.items)).toEqual([p.id]);
    expect(ids((await search({ mrn: p.mrn.toLowerCase() })).body.items)).toEqual([p.id]);
    expect((await search({ mrn: 'MRN999999999' })).body.items).toEqual([]);
  });

  it("matches phone numbers whatever their formatting ('+44 (20) 7946-0958' finds '+44 20 7946 0958')", async () => {
    const p = await register(svc, t.writer, newPatient({ phone: '+44 20 7946 0958' }));
    const found = await searchAll({ phone: '+44 (20) 7946-0958' });
    expect(ids(found)).toContain(p.id);
    expect(found.every((x) => x.phone?.replace(/\D/g, '') === '442079460958')).toBe(true);
  });

  it('finds only the patient with that phone number', async () => {
    const phone = uniquePhone();
    const p = await register(svc, t.writer, newPatient({ phone }));
    const digits = phone.replace(/\D/g, '');
    const reformatted = `+${digits.slice(0, 2)} (${digits.slice(2, 4)}) ${digits.slice(4, 8)}-${digits.slice(8)}`;
    expect(ids(await searchAll({ phone: reformatted }))).toEqual([p.id]);
    expect(ids(await searchAll({ phone: digits }))).toEqual([p.id]);
  });

  it('finds a patient by email, case-insensitively', async () => {
    const u = uniqueWord();
    const p = await register(svc, t.writer, newPatient({ email: `Ada.${u}@Example.ORG` }));
    expect(ids(await searchAll({ email: `ada.${u}@example.org` }))).toEqual([p.id]);
    expect(ids(await searchAll({ email: `ADA.${u.toUpperCase()}@EXAMPLE.ORG` }))).toEqual([p.id]);
    expect(await searchAll({ email: `ada.${u}@example.com` })).toEqual([]);
  });

  it('combines criteria: every one given must match', async () => {
    const family = `Combo${uniqueWord()}`;
    const a = await register(svc, t.writer, newPatient({ familyName: family, birthDate: '1970-01-01' }));
    await register(svc, t.writer, newPatient({ familyName: family, birthDate: '1971-01-01' }));
    expect(ids(await searchAll({ name: family, birthDate: '1970-01-01' }))).toEqual([a.id]);
    expect(ids(await searchAll({ name: family, email: a.email }))).toEqual([a.id]);
    expect(await searchAll({ name: family, birthDate: '1972-01-01' })).toEqual([]);
  });
});

describe('search results', () => {
  it('leave deactivated patients out unless ?status asks for them', async () => {
    const p = await register(svc, t.writer);
    expect((await svc.request('DELETE', `${PATIENTS}/${p.id}`, { token: t.writer })).status).toBe(204);
    expect((await search({ mrn: p.mrn })).body.items).toEqual([]);
    const inactive = (await search({ mrn: p.mrn, status: 'inactive' })).body.items;
    expect(ids(inactive)).toEqual([p.id]);
    expect(inactive[0]?.status).toBe('inactive');
    expect(ids((await search({ mrn: p.mrn, status: 'all' })).body.items)).toEqual([p.id]);
  });

  it('page with limit and cursor in name order: no item repeated or missed', async () => {
    const family = `Pager${uniqueWord()}`;
    const given = ['Dora', 'Alma', 'Emil', 'Cleo', 'Bert'];
    const created = new Map<string, string>();
    for (const g of given)
      created.set((await register(svc, t.writer, newPatient({ givenName: g, familyName: family }))).id, g);

    const first = await search({ name: family, limit: 2 });
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.nextCursor).not.toBeNull();

    const { items, pages } = await readAllPages<Patient>(svc, SEARCH, t.reader, { name: family, limit: 2 });
    expect(pages).toBe(3);
    expect(new Set(ids(items)).size).toBe(5);
    expect(items.map((p) => p.givenName)).toEqual(['Alma', 'Bert', 'Cleo', 'Dora', 'Emil']);
    expect(ids(items).every((id) => created.has(id))).toBe(true);
  });

  it('answer an empty page with no cursor when nothing matches', async () => {
    const res = await search({ name: `Nobody${uniqueWord()}` });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ items: [], nextCursor: null });
  });
});
