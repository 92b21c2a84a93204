import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { RunningService } from './service.js';

/** One problem a service documents in its OpenAPI document (`x-problems`). */
export interface DocumentedProblem {
  code: string;
  type: string;
  status: number;
  title: string;
}

/** Where a catalogue code is used in a service's source: `PatientErrors.patient_not_found(`. */
const CATALOGUE_USE = /\b([A-Z][A-Za-z0-9]*Errors)\.([a-z][a-z0-9_]*)\s*\(/g;
const DIRECT_APP_ERROR = /\bnew\s+AppError\s*\(/g;

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'dist' ? [] : tsFiles(path);
    return e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** `file:line` of every match of `pattern` in the `.ts` files below `dir`, with the match. */
function occurrences(dir: string, pattern: RegExp): { where: string; match: RegExpExecArray }[] {
  const found: { where: string; match: RegExpExecArray }[] = [];
  for (const file of tsFiles(dir)) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(pattern)) {
      const line = text.slice(0, match.index).split('\n').length;
      found.push({ where: `${relative(dir, file)}:${line}`, match });
    }
  }
  return found;
}

/**
 * Proves the service documents every problem it can answer: each `x-problems` entry of its
 * `GET /openapi.json` has an integer status 400–599, a title and the type
 * `urn:hms:problem:<code, _ as ->`; every catalogue code its source (`srcDir`, recursively) uses
 * as `SomethingErrors.some_code(` is among them; and no source file builds an error outside a
 * catalogue (`new AppError(`). Answers the documented problems and the codes the source uses.
 */
export async function expectErrorCatalogue(
  svc: RunningService,
  srcDir: string | URL,
): Promise<{ documented: DocumentedProblem[]; used: string[] }> {
  const dir = srcDir instanceof URL ? fileURLToPath(srcDir) : srcDir;
  const res = await svc.request<{ 'x-problems'?: DocumentedProblem[] }>('GET', '/openapi.json');
  expect(res.status, 'GET /openapi.json').toBe(200);
  const documented = res.body['x-problems'];
  expect(Array.isArray(documented), 'x-problems is an array').toBe(true);
  const problems = documented ?? [];
  expect(problems.length, 'x-problems').toBeGreaterThan(0);
  for (const p of problems) {
    const said = JSON.stringify(p);
    expect(p.code, said).toMatch(/^[a-z][a-z0-9_]*$/);
    expect(Number.isInteger(p.status) && p.status >= 400 && p.status <= 599, `${said}: status`).toBe(true);
    expect(typeof p.title === 'string' && p.title.trim().length > 0, `${said}: title`).toBe(true);
    expect(p.type, said).toBe(`urn:hms:problem:${p.code.replace(/_/g, '-')}`);
  }
  const codes = problems.map((p) => p.code);
  expect(
    codes.filter((c, i) => codes.indexOf(c) !== i),
    'codes documented twice',
  ).toEqual([]);

  const uses = occurrences(dir, CATALOGUE_USE);
  const undocumented = uses
    .filter(({ match }) => !codes.includes(match[2] ?? ''))
    .map(({ where, match }) => `${where} ${match[1] ?? ''}.${match[2] ?? ''}`);
  expect(undocumented, 'catalogue codes used in the source but not in x-problems').toEqual([]);
  const direct = occurrences(dir, DIRECT_APP_ERROR).map(({ where }) => where);
  expect(direct, 'errors built outside a catalogue (new AppError)').toEqual([]);
  return { documented: problems, used: [...new Set(uses.map(({ match }) => match[2] ?? ''))].sort() };
}
