import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/** Every service folder is its package `@hms/<name>`, tested from its TypeScript source. */
const serviceAliases = Object.fromEntries(
  readdirSync(src('./services'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(src(`./services/${d.name}/src/service.ts`)))
    .map((d) => [`@hms/${d.name}`, src(`./services/${d.name}/src/service.ts`)]),
);

// Tests run against the TypeScript sources of the workspace packages, not their build output.
export default defineConfig({
  resolve: {
    // exact names: a string alias would also catch every subpath (`@hms/testkit/vitest`)
    alias: Object.entries({
      '@hms/contracts': src('./packages/contracts/src/index.ts'),
      '@hms/platform': src('./packages/platform/src/index.ts'),
      '@hms/testkit': src('./packages/testkit/src/index.ts'),
      '@hms/testkit/vitest': src('./packages/testkit/src/vitest.ts'),
      '@hms/scheduling': src('./packages/scheduling/src/index.ts'),
      ...serviceAliases,
    }).map(([name, path]) => ({ find: new RegExp(`^${name}$`), replacement: path })),
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'services/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // the PHI log guard: every service logs at trace into a sink, checked when the run ends
    globalSetup: [src('./packages/testkit/src/phi-global.ts')],
    setupFiles: [src('./packages/testkit/src/phi-setup.ts')],
    // Most test files wait on PostgreSQL, RabbitMQ or a timer far more than they compute; vitest's
    // default on this 2-core machine (CPUs − 1 = one file at a time) left a core idle through
    // every wait. `VITEST_MAX_WORKERS` overrides it.
    maxWorkers: Number(process.env.VITEST_MAX_WORKERS) || 3,
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
