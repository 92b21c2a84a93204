/**
 * The testkit's helpers that use vitest (`expect`, `beforeAll`): `@hms/testkit/vitest`. Kept out
 * of the main entry, which the benchmarks import outside vitest.
 */
export * from './access-matrix.js';
export * from './error-catalogue.js';
export * from './expect-problem.js';
export * from './use-service.js';
