import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IMPLEMENTED_SERVICES, SERVICES } from '@hms/contracts';
import { describe, expect, it } from 'vitest';
import { loadModules } from '../src/platform.js';

/**
 * One line registers a service (issue #10): its name in IMPLEMENTED_SERVICES. Everything else that
 * must name it is checked against that list here, so CI fails when a service folder is missing
 * from it, when it names a folder that does not exist, or when a file that must follow it lags.
 */
const root = fileURLToPath(new URL('../../../', import.meta.url));
const readJson = <T>(path: string) => JSON.parse(readFileSync(join(root, path), 'utf8')) as T;
const listed = [...IMPLEMENTED_SERVICES].sort();
const folders = readdirSync(join(root, 'services'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, 'services', d.name, 'package.json')))
  .map((d) => d.name)
  .sort();
const references = (tsconfig: string) =>
  readJson<{ references: { path: string }[] }>(tsconfig).references.map((r) =>
    r.path.replace(/^(\.\.\/)+/, ''),
  );

describe('IMPLEMENTED_SERVICES is the one list of the services that exist', () => {
  it('names exactly the service folders', () => {
    expect(listed).toEqual(folders);
  });

  it('names services the gateway routes (SERVICES) with their own package, @hms/<name>', () => {
    for (const name of listed) {
      expect(Object.keys(SERVICES)).toContain(name);
      expect(readJson<{ name: string }>(`services/${name}/package.json`).name).toBe(`@hms/${name}`);
      expect(existsSync(join(root, 'services', name, 'src', 'main.ts')), `services/${name}/src/main.ts`).toBe(
        true,
      );
    }
  });

  it('is what the TypeScript build and the embedded launcher are built from', () => {
    const built = references('tsconfig.build.json');
    const launcher = references('apps/embedded/tsconfig.json');
    const deps = Object.keys(
      readJson<{ dependencies: Record<string, string> }>('apps/embedded/package.json').dependencies,
    );
    for (const name of listed) {
      expect(built, 'tsconfig.build.json references').toContain(`services/${name}`);
      expect(launcher, 'apps/embedded/tsconfig.json references').toContain(`services/${name}`);
      expect(deps, 'apps/embedded/package.json dependencies').toContain(`@hms/${name}`);
    }
    // and nothing more: a reference to a service that no longer exists fails the build anyway
    expect(built.filter((p) => p.startsWith('services/')).sort()).toEqual(listed.map((n) => `services/${n}`));
    // the application comes after every service it starts
    expect(built.indexOf('apps/embedded')).toBeGreaterThan(
      Math.max(...listed.map((n) => built.indexOf(`services/${n}`))),
    );
  });

  it('is what the embedded launcher starts: each package exports its module as <name>Service', async () => {
    const modules = await loadModules();
    expect(modules.map((m) => m.name)).toEqual([...IMPLEMENTED_SERVICES]);
    for (const m of modules) {
      expect(typeof m.setup).toBe('function');
      expect(m.description.length).toBeGreaterThan(0);
    }
    await expect(loadModules(['contracts'])).rejects.toThrow(
      /does not export its module as contractsService/,
    );
  });
});
