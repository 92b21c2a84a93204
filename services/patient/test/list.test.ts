import type { Patient } from '@hms/contracts';
import { type Page, type RunningService, qs } from '@hms/testkit';
import { readAllPages } from '@hms/testkit/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import { PATIENTS, newPatient, register, usePatientService, type Tokens } from './helpers.js';

let svc: RunningService;
let t: Tokens;

usePatientService((s, tokens) => {
  svc = s;
  t = tokens;
});

const list = (params: Record<string, string | number | undefined> = {}) =>
  svc.request<Page<Patient>>('GET', PATIENTS + qs(params), { token: t.reader });

const ids = (items: Patient[]) => items.map((p) => p.id);

describe('GET /api/v1/patients', () => {
  it('lists patients in registration order as {items, nextCursor}', async () => {
    const a = await register(svc, t.writer);
    const b = await register(svc, t.writer);
    const res = await list({ limit: 100 });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.body.nextCursor).toBeNull();
    const order = ids(res.body.items);
    expect(order.indexOf(a.id)).toBeGreaterThanOrEqual(0);
    expect(order.indexOf(b.id)).toBeGreaterThan(order.indexOf(a.id));
    expect(res.body.items.find((p) => p.id === a.id)).toEqual(a);
  });

  it('pages through every patient with limit and cursor: no item repeated or missed', async () => {
    const created: string[] = [];
    for (let i = 0; i < 7; i++) created.push((await register(svc, t.writer)).id);
    const all = await list({ limit: 100 });
    expect(all.body.nextCursor).toBeNull();
    const expected = ids(all.body.items);
    expect(expected.length).toBeGreaterThanOrEqual(7);

    const paged = await readAllPages<Patient>(svc, PATIENTS, t.reader, { limit: 3 });
    expect(paged.pages).toBe(Math.ceil(expected.length / 3));
    expect(ids(paged.items)).toEqual(expected);
    expect(new Set(ids(paged.items)).size).toBe(paged.items.length);
    for (const id of created) expect(ids(paged.items)).toContain(id);
  });

  it('hands out a cursor only while more items remain', async () => {
    await register(svc, t.writer);
    await register(svc, t.writer);
    const first = await list({ limit: 1 });
    expect(first.body.items).toHaveLength(1);
    expect(typeof first.body.nextCursor).toBe('string');
    const total = (await list({ limit: 100 })).body.items.length;
    const exact = await list({ limit: total });
    expect(exact.body.items).toHaveLength(total);
    expect(exact.body.nextCursor).toBeNull();
  });

  it('keeps a cursor valid while patients are registered: the newcomer shows up, nothing repeats', async () => {
    const first = await list({ limit: 1 });
    const cursor = first.body.nextCursor;
    expect(cursor).not.toBeNull();
    const late = await register(svc, t.writer);
    const seen = [...ids(first.body.items)];
    let next: string | null = cursor;
    while (next !== null) {
      const page = await list({ limit: 2, cursor: next });
      expect(page.status).toBe(200);
      seen.push(...ids(page.body.items));
      next = page.body.nextCursor;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.at(-1)).toBe(late.id);
    expect(seen).toEqual(ids((await list({ limit: 100 })).body.items));
  });

  it('answers 20 items when no limit is given', async () => {
    const { items } = await readAllPages<Patient>(svc, PATIENTS, t.reader);
    for (let i = items.length; i < 21; i++) await register(svc, t.writer);
    const res = await list();
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(20);
    expect(res.body.nextCursor).not.toBeNull();
  });

  describe('status filter', () => {
    let active: Patient;
    let inactive: Patient;
    let deceased: Patient;

    beforeAll(async () => {
      active = await register(svc, t.writer);
      inactive = await register(svc, t.writer);
      deceased = await register(svc, t.writer, newPatient({ status: 'deceased' }));
      expect((await svc.request('DELETE', `${PATIENTS}/${inactive.id}`, { token: t.writer })).status).toBe(
        204,
      );
    });

    it('hides inactive (and deceased) patients by default', async () => {
      const { items } = await readAllPages<Patient>(svc, PATIENTS, t.reader);
      expect(ids(items)).toContain(active.id);
      expect(ids(items)).not.toContain(inactive.id);
      expect(ids(items)).not.toContain(deceased.id);
      expect(items.every((p) => p.status === 'active')).toBe(true);
    });

    it('?status=inactive lists only inactive patients', async () => {
      const { items } = await readAllPages<Patient>(svc, PATIENTS, t.reader, { status: 'inactive' });
      expect(ids(items)).toContain(inactive.id);
      expect(ids(items)).not.toContain(active.id);
      expect(items.every((p) => p.status === 'inactive')).toBe(true);
    });

    it('?status=deceased lists only deceased patients', async () => {
      const { items } = await readAllPages<Patient>(svc, PATIENTS, t.reader, { status: 'deceased' });
      expect(ids(items)).toEqual(expect.arrayContaining([deceased.id]));
      expect(items.every((p) => p.status === 'deceased')).toBe(true);
    });

    it('?status=all lists every patient whatever its status, paging across all of them', async () => {
      const { items } = await readAllPages<Patient>(svc, PATIENTS, t.reader, { status: 'all', limit: 4 });
      expect(ids(items)).toEqual(expect.arrayContaining([active.id, inactive.id, deceased.id]));
      expect(new Set(ids(items)).size).toBe(items.length);
      const { rows } = await svc.db.query<{ n: number }>('SELECT count(*)::int AS n FROM patients');
      expect(items).toHaveLength(rows[0]?.n ?? -1);
    });
  });
});
