import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

/** Every file an entry reaches through relative imports, with the packages each imports. */
function reach(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    const text = readFileSync(file, 'utf8');
    const specifiers = [...text.matchAll(/\bfrom\s+'([^']+)'|\bimport\s*\(\s*'([^']+)'\s*\)/g)].map(
      (m) => m[1] ?? m[2] ?? '',
    );
    seen.set(
      file,
      specifiers.filter((s) => !s.startsWith('.')),
    );
    for (const s of specifiers.filter((s) => s.startsWith('.')))
      visit(join(dirname(file), s.replace(/\.js$/, '.ts')));
  };
  visit(join(SRC, entry));
  return seen;
}

describe('the entries of @hms/testkit', () => {
  it('the main entry reaches no file that imports vitest (the benchmarks load it outside vitest)', () => {
    const files = reach('index.ts');
    expect(files.size).toBeGreaterThan(5);
    const importers = [...files].filter(([, packages]) =>
      packages.some((p) => p === 'vitest' || p.startsWith('vitest/')),
    );
    expect(importers.map(([file]) => file)).toEqual([]);
  });

  it('`@hms/testkit/vitest` holds the helpers that assert', async () => {
    const kit = await import('@hms/testkit/vitest');
    for (const name of [
      'expectProblem',
      'expectValidationErrors',
      'useService',
      'readAllPages',
      'expectAccessMatrix',
      'expectErrorCatalogue',
    ])
      expect(typeof (kit as Record<string, unknown>)[name], name).toBe('function');
    const main = await import('@hms/testkit');
    expect(Object.keys(main)).not.toContain('expectProblem');
    expect(typeof main.qs).toBe('function');
    expect(typeof main.captureLogs).toBe('function');
  });
});
