import type { ServiceModule } from '@hms/platform';
import { afterAll, beforeAll, expect } from 'vitest';
import { qs } from './http.js';
import type { Page } from './problems.js';
import { startService, type RunningService } from './service.js';

export type StartServiceOptions = NonNullable<Parameters<typeof startService>[1]>;

/**
 * Starts something for this test file in `beforeAll` and closes it in `afterAll`; the getter
 * answers it inside tests and later hooks (and throws before it is up).
 */
export function useStarted<T extends { close(): Promise<void> }>(
  start: () => Promise<T>,
  startTimeoutMs?: number,
): () => T {
  let running: T | undefined;
  beforeAll(async () => {
    running = await start();
  }, startTimeoutMs);
  afterAll(async () => {
    await running?.close();
  });
  return () => {
    if (!running) throw new Error('not started yet: read it inside a test or a later hook');
    return running;
  };
}

/**
 * Starts a service module for this test file (its own fresh database, a bus, test keys: see
 * `startService`) and closes it after the file. Returns a getter for the running service.
 */
export function useService(
  mod: ServiceModule,
  opts: StartServiceOptions & { startTimeoutMs?: number } = {},
): () => RunningService {
  const { startTimeoutMs, ...startOpts } = opts;
  return useStarted(() => startService(mod, startOpts), startTimeoutMs);
}

/** POSTs `body` with `token` and fails the test unless the service answers 201; answers the body. */
export async function postCreated<T>(
  svc: RunningService,
  path: string,
  token: string,
  body: unknown,
): Promise<T> {
  const res = await svc.request<T>('POST', path, { token, body });
  expect(res.status, `POST ${path}: ${JSON.stringify(res.body)}`).toBe(201);
  return res.body;
}

/**
 * Follows `nextCursor` from the first page to the last with `token`, and fails on a status other
 * than 200, a page larger than `limit` (default 100), a short page that is not the last, or a
 * cursor seen before (a cycle).
 */
export async function readAllPages<T = unknown>(
  svc: RunningService,
  path: string,
  token: string,
  params: Record<string, string | number | undefined> = {},
): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  const limit = Number(params.limit ?? 100);
  const seen = new Set<string>();
  let cursor: string | undefined;
  let pages = 0;
  do {
    const res = await svc.request<Page<T>>('GET', path + qs({ ...params, limit, cursor }), { token });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.items.length).toBeLessThanOrEqual(limit);
    if (res.body.nextCursor !== null) {
      expect(res.body.items).toHaveLength(limit);
      expect(seen.has(res.body.nextCursor), `cursor ${res.body.nextCursor} came back`).toBe(false);
      seen.add(res.body.nextCursor);
    }
    items.push(...res.body.items);
    cursor = res.body.nextCursor ?? undefined;
    pages += 1;
    expect(pages).toBeLessThan(1000);
  } while (cursor);
  return { items, pages };
}

/**
 * Starts a module for this test file, as `useService` does, and once it is up hands `ready` the
 * running service and what `prepare` makes for it (a token per role, seed data).
 */
export function useServiceWith<T>(
  mod: ServiceModule,
  prepare: (svc: RunningService) => Promise<T>,
  ready: (svc: RunningService, prepared: T) => void | Promise<void>,
  opts: StartServiceOptions & { startTimeoutMs?: number } = {},
): void {
  const svc = useService(mod, opts);
  beforeAll(async () => {
    await ready(svc(), await prepare(svc()));
  });
}

/**
 * A request to `svc` (the gateway of an end-to-end test) that fails the test unless it answers
 * `status`, naming the request and showing the answer; resolves to the answer's body.
 */
export function expectingStatus(svc: () => RunningService) {
  return async <T>(
    method: string,
    path: string,
    token: string | undefined,
    status: number,
    body?: unknown,
  ) => {
    const res = await svc().request<T>(method, path, {
      ...(token ? { token } : {}),
      ...(body === undefined ? {} : { body }),
    });
    expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBe(status);
    return res.body;
  };
}
