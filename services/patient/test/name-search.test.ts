import type { Patient } from '@hms/contracts';
import type { RunningService } from '@hms/testkit';
import { readAllPages } from '@hms/testkit/vitest';
import { describe, expect, it } from 'vitest';
import {
  PATIENTS,
  SEARCH,
  newPatient,
  putBodyOf,
  randomBirthDate,
  register,
  usePatientService,
  uniqueWord,
  type Tokens,
} from './helpers.js';

/**
 * Name search through the names table (migrations/002_patient_search.sql): the table follows
 * every write, and the name-only query answers exactly what the criteria query answers.
 */

let svc: RunningService;
let t: Tokens;

usePatientService((s, tokens) => {
  svc = s;
  t = tokens;
});

type Params = Record<string, string | number | undefined>;
const searchAll = async (params: Params) =>
  (await readAllPages<Patient>(svc, SEARCH, t.reader, params)).items;
const ids = (items: Patient[]) => items.map((p) => p.id);
const capitalize = (w: string) => w.charAt(0).toUpperCase() + w.slice(1);
const MERGE_PATCH = { 'content-type': 'application/merge-patch+json' };

/** The (tail, fold) rows of patient_names for a folded name. */
async function namesRows(fold: string): Promise<{ tail: string; fold: string }[]> {
  const { rows } = await svc.db.query<{ tail: string; fold: string }>(
    'SELECT tail, fold FROM patient_names WHERE fold = $1 ORDER BY tail',
    [fold],
  );
  return rows;
}

async function patch(id: string, body: Record<string, unknown>): Promise<Patient> {
  const res = await svc.request<Patient>('PATCH', `${PATIENTS}/${id}`, {
    token: t.writer,
    body,
    headers: MERGE_PATCH,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

describe('the names table', () => {
  it('holds a registered patient’s folded names, once per word start', async () => {
    const u = uniqueWord();
    await register(svc, t.writer, newPatient({ givenName: `Zoë-Ann${u}`, familyName: `de la Peña${u}` }));
    expect(await namesRows(`de la pena${u}`)).toEqual([
      { tail: `de la pena${u}`, fold: `de la pena${u}` },
      { tail: `la pena${u}`, fold: `de la pena${u}` },
      { tail: `pena${u}`, fold: `de la pena${u}` },
    ]);
    expect(await namesRows(`zoe-ann${u}`)).toEqual([
      { tail: `ann${u}`, fold: `zoe-ann${u}` },
      { tail: `zoe-ann${u}`, fold: `zoe-ann${u}` },
    ]);
  });

  it('gains the new names of a patient renamed by PATCH, and search follows the rename', async () => {
    const before = `Oldname${uniqueWord()}`;
    const after = `Newname${uniqueWord()}`;
    const p = await register(svc, t.writer, newPatient({ familyName: before }));
    await patch(p.id, { familyName: after });
    expect(await namesRows(after.toLowerCase())).toEqual([
      { tail: after.toLowerCase(), fold: after.toLowerCase() },
    ]);
    expect(ids(await searchAll({ name: after.slice(0, 12) }))).toEqual([p.id]);
    expect(ids(await searchAll({ name: before }))).toEqual([]);
  });

  it('gains the new given name of a patient renamed by PUT', async () => {
    const given = capitalize(uniqueWord(10));
    const p = await register(svc, t.writer);
    const res = await svc.request<Patient>('PUT', `${PATIENTS}/${p.id}`, {
      token: t.writer,
      body: { ...putBodyOf(p), givenName: given },
      headers: { 'if-match': '*' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(await namesRows(given.toLowerCase())).toHaveLength(1);
    expect(ids(await searchAll({ name: given.slice(0, 7) }))).toEqual([p.id]);
    expect(ids(await searchAll({ name: p.givenName }))).not.toContain(p.id);
  });

  it('keeps a patient findable by name after a change that leaves the names alone', async () => {
    const family = `Steady${uniqueWord()}`;
    const p = await register(svc, t.writer, newPatient({ familyName: family }));
    await patch(p.id, { phone: '+44 20 7946 0000' });
    expect(ids(await searchAll({ name: family }))).toEqual([p.id]);
  });
});

describe('name search', () => {
  it("prefix-matches a later word of a name ('de Vr' finds 'de Vries', 'Bh' 'Ní Bhriain')", async () => {
    const u = uniqueWord();
    const v = uniqueWord();
    const vries = await register(svc, t.writer, newPatient({ familyName: `de Vries${u}` }));
    const nib = await register(
      svc,
      t.writer,
      newPatient({ givenName: `Siobhán${v}`, familyName: 'Ní Bhriain' }),
    );
    expect(ids(await searchAll({ name: 'de Vr' }))).toContain(vries.id);
    expect(ids(await searchAll({ name: `vries${u}` }))).toEqual([vries.id]);
    expect(ids(await searchAll({ name: `de vries${u}` }))).toEqual([vries.id]);
    expect(ids(await searchAll({ name: `Bh siobhan${v}` }))).toEqual([nib.id]);
    expect(ids(await searchAll({ name: `NÍ BH siobhan${v}` }))).toEqual([nib.id]);
  });

  it("prefix-matches the part of a hyphenated name after the hyphen ('jo' finds 'Smith-Jones')", async () => {
    const u = uniqueWord();
    const p = await register(svc, t.writer, newPatient({ familyName: `Smith-Jones${u}` }));
    expect(ids(await searchAll({ name: `jones${u}` }))).toEqual([p.id]);
    expect(ids(await searchAll({ name: `smith-jo` }))).toContain(p.id);
  });

  it('is case- and accent-insensitive for a later word too', async () => {
    const u = uniqueWord();
    const p = await register(svc, t.writer, newPatient({ familyName: `van der Lôo${u}` }));
    expect(ids(await searchAll({ name: `LOO${u.toUpperCase()}` }))).toEqual([p.id]);
  });

  it('finds fuzzily, by given or family name, and ranks the prefix matches first', async () => {
    const u = capitalize(uniqueWord(6));
    const exactFamily = await register(svc, t.writer, newPatient({ familyName: `${u}kowalczyk` }));
    const exactGiven = await register(
      svc,
      t.writer,
      newPatient({ givenName: `${u}kowalczyk`, familyName: `Aaaa${uniqueWord()}` }),
    );
    const typo = await register(svc, t.writer, newPatient({ familyName: `${u}kowalcyzk` }));
    const found = ids(await searchAll({ name: `${u.toUpperCase()}KOWALCZ` }));
    expect(found).toEqual([exactGiven.id, exactFamily.id, typo.id]);
  });

  it('answers what a search with the same words and a birth date answers, in the same order', async () => {
    // the name-only query (names table) and the criteria query (birth date) are two SQL paths
    const u = uniqueWord(5);
    const birthDate = randomBirthDate();
    const names: [string, string][] = [
      ['Anna', `Marek${u}`],
      [`Marek${u}`, 'Zed'],
      ['Bob', `Marek${u}`],
      ['Anna', `Marke${u}`],
      [`Mraek${u}`, `Marek${u}`],
      ['Anna', `de Marek${u}`],
      ['Cleo', `Smith-Marek${u}`],
      [`Marek${u}`, 'Anna'],
    ];
    for (const [givenName, familyName] of names)
      await register(svc, t.writer, newPatient({ givenName, familyName, birthDate }));
    for (const name of [
      `marek${u}`,
      `anna marek${u}`,
      `mare anna`,
      `marke${u} anna`,
      `marek${u} mraek${u}`,
    ]) {
      const byName = ids(await searchAll({ name, limit: 3 }));
      const withDate = ids(await searchAll({ name, birthDate, limit: 3 }));
      expect(byName.length).toBeGreaterThan(0);
      expect(byName.filter((id) => withDate.includes(id))).toEqual(withDate);
    }
    const all = ids(await searchAll({ name: `marek${u}` }));
    expect(all).toHaveLength(names.length);
    expect(ids(await searchAll({ name: `marek${u}`, birthDate }))).toEqual(all);
  });
});

describe('name search pages', () => {
  it('page across ranks and across family- and given-name matches: every page size reads the same list', async () => {
    const u = uniqueWord(6);
    const people: [string, string][] = [
      ['Dora', `Pagina${u}`],
      ['Alma', `Pagina${u}`],
      [`Pagina${u}`, 'Young'],
      [`Pagina${u}`, 'Abbot'],
      ['Emil', `Pagnia${u}`],
      ['Cleo', `Pagina${u}`],
      [`Pagnia${u}`, 'Moss'],
      ['Bert', `van Pagina${u}`],
      ['Alma', `Pagina${u}`],
    ];
    const created = new Set<string>();
    for (const [givenName, familyName] of people)
      created.add(
        (await register(svc, t.writer, newPatient({ givenName, familyName, birthDate: randomBirthDate() })))
          .id,
      );
    const whole = await readAllPages<Patient>(svc, SEARCH, t.reader, { name: `pagina${u}`, limit: 100 });
    expect(whole.pages).toBe(1);
    expect(new Set(ids(whole.items))).toEqual(created);
    // prefix matches (rank 0) in (family, given, id) order, then the typos (rank 1)
    expect(whole.items.map((p) => `${p.givenName} ${p.familyName}`)).toEqual([
      `Pagina${u} Abbot`,
      `Alma Pagina${u}`,
      `Alma Pagina${u}`,
      `Cleo Pagina${u}`,
      `Dora Pagina${u}`,
      `Bert van Pagina${u}`,
      `Pagina${u} Young`,
      `Pagnia${u} Moss`,
      `Emil Pagnia${u}`,
    ]);
    for (const limit of [1, 2, 4]) {
      const paged = await readAllPages<Patient>(svc, SEARCH, t.reader, { name: `pagina${u}`, limit });
      expect(paged.pages).toBe(Math.ceil(people.length / limit));
      expect(ids(paged.items)).toEqual(ids(whole.items));
    }
  });

  it('filter by status: active by default, inactive, deceased or all on request, across pages', async () => {
    const family = `Status${uniqueWord()}`;
    const active = await register(svc, t.writer, newPatient({ givenName: 'Ann', familyName: family }));
    const inactive = await register(svc, t.writer, newPatient({ givenName: 'Bea', familyName: family }));
    const deceased = await register(svc, t.writer, newPatient({ givenName: 'Cy', familyName: family }));
    const active2 = await register(svc, t.writer, newPatient({ givenName: 'Dan', familyName: family }));
    expect((await svc.request('DELETE', `${PATIENTS}/${inactive.id}`, { token: t.writer })).status).toBe(204);
    await patch(deceased.id, { status: 'deceased' });
    const name = family.slice(0, 10);
    expect(ids(await searchAll({ name, limit: 1 }))).toEqual([active.id, active2.id]);
    expect(ids(await searchAll({ name, status: 'inactive', limit: 1 }))).toEqual([inactive.id]);
    expect(ids(await searchAll({ name, status: 'deceased', limit: 1 }))).toEqual([deceased.id]);
    expect(ids(await searchAll({ name, status: 'all', limit: 1 }))).toEqual([
      active.id,
      inactive.id,
      deceased.id,
      active2.id,
    ]);
  });
});
