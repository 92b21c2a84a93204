import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// Tests run against the TypeScript sources of the workspace packages, not their build output.
export default defineConfig({
  resolve: {
    alias: {
      '@hms/contracts': src('./packages/contracts/src/index.ts'),
      '@hms/platform': src('./packages/platform/src/index.ts'),
      '@hms/testkit': src('./packages/testkit/src/index.ts'),
      '@hms/auth': src('./services/auth/src/service.ts'),
      '@hms/patient': src('./services/patient/src/service.ts'),
      '@hms/gateway': src('./services/gateway/src/service.ts'),
    },
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'services/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
