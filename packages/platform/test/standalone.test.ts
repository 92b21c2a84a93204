import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * A standalone service (cluster mode) makes every adapter from its configuration: started without
 * it, the process ends with EX_CONFIG (78) and one message naming every missing key, no stack.
 * Runs the built `services/patient/dist/main.js` (built here if the tree is not).
 */
const root = fileURLToPath(new URL('../../../', import.meta.url));

beforeAll(() => {
  execFileSync(
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'tsconfig.build.json'],
    {
      cwd: root,
      stdio: 'ignore',
    },
  );
}, 120_000);

describe('a standalone service without its configuration', () => {
  it('exits with 78 naming every missing key at once', () => {
    const run = spawnSync(process.execPath, [join(root, 'services/patient/dist/main.js')], {
      env: { PATH: process.env.PATH },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(78);
    for (const key of ['DATABASE_URL', 'AMQP_URL', 'REDIS_URL', 'JWKS_URL'])
      expect(run.stderr).toMatch(new RegExp(`- ${key}: is required`));
    expect(run.stderr).not.toMatch(/\bat .+:\d+:\d+/); // no stack trace
  });

  it('refuses a bad value by name, without printing a secret', () => {
    const run = spawnSync(process.execPath, [join(root, 'services/patient/dist/main.js')], {
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: 'postgres://hms:s3cret-password@127.0.0.1:1/hms_patient',
        AMQP_URL: 'amqp://127.0.0.1:1',
        REDIS_URL: 'redis://127.0.0.1:1',
        JWKS_URL: 'file:///nowhere/jwks.json',
        PORT: 'eighty',
      },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(78);
    expect(run.stderr).toMatch(/PORT: /);
    expect(run.stderr).not.toContain('s3cret-password');
  });
});
