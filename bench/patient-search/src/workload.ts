import type pg from 'pg';
import { mrnOf } from './seed.js';

/** Deterministic PRNG (mulberry32): the same seed draws the same queries on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type ScenarioName = 'search-prefix' | 'search-full-name' | 'search-fuzzy' | 'get-by-id';

export const SCENARIOS: readonly { name: ScenarioName; title: string }[] = [
  { name: 'search-prefix', title: 'search: family-name prefix (3-5 letters)' },
  { name: 'search-full-name', title: 'search: "given family"' },
  { name: 'search-fuzzy', title: 'search: family name with a one-letter typo' },
  { name: 'get-by-id', title: 'get by id' },
];

/** One request of a scenario: the name searched for, or the id fetched. */
export type Query = { kind: 'search'; name: string } | { kind: 'get'; id: string };

interface Sampled {
  id: string;
  given_name: string;
  family_name: string;
}

/**
 * The words the service makes of a name query (domain/patient.ts `nameTokens`, which the
 * package does not export): split on blanks and commas, LIKE wildcards removed, at most four.
 */
export function nameTokens(name: string): string[] {
  return name
    .split(/[\s,]+/)
    .map((t) => t.replace(/[%_\\]/g, ''))
    .filter((t) => t.length > 0)
    .slice(0, 4);
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** Replaces one inner letter (never the first or the last) with another letter. */
function typo(word: string, rand: () => number): string {
  const chars = Array.from(word);
  const at = 1 + Math.floor(rand() * (chars.length - 2));
  const old = (chars[at] ?? '').toLowerCase();
  let c = old;
  while (c === old) c = LETTERS[Math.floor(rand() * LETTERS.length)] ?? 'x';
  chars[at] = c;
  return chars.join('');
}

/**
 * Draws `count` queries of a scenario from the seeded patients: patients are picked by their
 * sequence number (so by MRN, through its unique index) with the seeded PRNG, then turned into
 * a query. Draws that cannot make a query of the kind (a family name too short for a 3-letter
 * prefix or a typo) are skipped and the next patient drawn.
 */
export async function drawQueries(
  client: pg.Pool,
  scenario: ScenarioName,
  count: number,
  patients: number,
  seed: number,
): Promise<Query[]> {
  const rand = prng(seed);
  const out: Query[] = [];
  while (out.length < count) {
    const need = Math.ceil((count - out.length) * 1.2) + 10;
    const mrns = Array.from({ length: need }, () => mrnOf(1 + Math.floor(rand() * patients)));
    const { rows } = await client.query<Sampled & { mrn: string }>(
      `SELECT mrn, id, given_name, family_name FROM patients WHERE mrn = ANY($1::text[])`,
      [mrns],
    );
    const byMrn = new Map(rows.map((r) => [r.mrn, r]));
    for (const mrn of mrns) {
      const p = byMrn.get(mrn);
      if (!p) throw new Error(`seeded patient ${mrn} not found: the seeding and mrnOf() disagree`);
      const q = toQuery(scenario, p, rand);
      if (q) out.push(q);
      if (out.length === count) break;
    }
  }
  return out;
}

function toQuery(scenario: ScenarioName, p: Sampled, rand: () => number): Query | undefined {
  switch (scenario) {
    case 'get-by-id':
      return { kind: 'get', id: p.id };
    case 'search-full-name':
      return { kind: 'search', name: `${p.given_name} ${p.family_name}` };
    case 'search-prefix': {
      const letters = Array.from(p.family_name);
      if (letters.length < 3) return undefined;
      const len = Math.min(letters.length, 3 + Math.floor(rand() * 3));
      return { kind: 'search', name: letters.slice(0, len).join('') };
    }
    case 'search-fuzzy': {
      // the longest word of the family name ("van der Berg" -> "Berg"), at least 4 letters
      const word = p.family_name.split(/\s+/).reduce((a, b) => (b.length > a.length ? b : a), '');
      if (Array.from(word).length < 4) return undefined;
      return { kind: 'search', name: typo(word, rand) };
    }
  }
}
