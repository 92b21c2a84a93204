import { randomUUID } from 'node:crypto';
import { PERMISSIONS } from '@hms/contracts';
import { routesOf, type RouteAccess } from '@hms/platform';
import { expect } from 'vitest';
import { expectProblem } from './expect-problem.js';
import { createTestKeys, type TestKeys, type TokenOptions } from './keys.js';
import type { RequestOptions, RunningService } from './service.js';

export interface AccessMatrixOptions {
  /** Mints tokens the service trusts (default: `svc.keys`, the test keys it was started with). */
  keys?: Pick<TestKeys, 'mint'>;
  /**
   * Values for named path parameters (`{ id: patient.id }`), so that refused requests aim at a
   * real resource; any other parameter gets a fresh uuid, a wildcard `x`.
   */
  params?: Record<string, string>;
  /**
   * What a refused request must not change (row counts, a stored row): taken before the refusals
   * and again after them, and compared.
   */
  untouched?: () => Promise<unknown>;
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);
const SKIPPED_METHODS = new Set(['HEAD', 'OPTIONS']);
const MATRIX = 'svc:access-matrix';

/** A route's path with its parameters filled in (`:id` → a uuid, `*` → `x`). */
export function pathOf(url: string, params: Record<string, string> = {}): string {
  return url
    .replace(/:([A-Za-z0-9_]+)(\([^)]*\))?/g, (_m, name: string) => params[name] ?? randomUUID())
    .replace(/\*/g, 'x');
}

/**
 * Walks every route the service registered (`routesOf`: those hidden from its OpenAPI document
 * too; HEAD and OPTIONS aside) that is not public, and proves its guard:
 *
 * - without a token: 401 `unauthenticated` with `WWW-Authenticate: Bearer`; with a token that is
 *   not valid (malformed, unsigned, expired, not yet valid, for another audience, signed by a key
 *   the service does not trust) or not a Bearer token: 401 `invalid_token`, though it claims every
 *   permission;
 * - a route with a permission: 403 naming it for a service identity holding every other
 *   permission, and past the guard (neither 401, 403 nor 500) for one holding only it;
 * - an `authenticated` route: past the guard for a person without roles, a service without scope
 *   and a service with every permission.
 *
 * Bodies are `{}` (the guard answers before validation). Tokens are service identities
 * (`svc:access-matrix`), whose permissions are their scope. Answers the routes walked.
 */
export async function expectAccessMatrix(
  svc: RunningService,
  opts: AccessMatrixOptions = {},
): Promise<RouteAccess[]> {
  const keys = opts.keys ?? svc.keys;
  const routes = routesOf(svc.app).filter((r) => !SKIPPED_METHODS.has(r.method) && r.access !== 'public');
  expect(routes.length, 'routes that need a token').toBeGreaterThan(0);
  const send = (r: RouteAccess, authorization: string | undefined, params = opts.params) => {
    const ro: RequestOptions = BODY_METHODS.has(r.method) ? { body: {} } : {};
    if (authorization !== undefined) ro.headers = { authorization };
    return svc.request(r.method, pathOf(r.url, params), ro);
  };
  const bearer = async (claims: TokenOptions) => `Bearer ${await keys.mint(claims)}`;
  const all = { sub: MATRIX, scope: [...PERMISSIONS] };
  const invalid = await invalidTokens(keys, all);

  const before = await opts.untouched?.();
  for (const r of routes) {
    const route = `${r.method} ${r.url}`;
    const anonymous = await send(r, undefined);
    expect(expectProblem(anonymous, 401, `${route} without a token`).code, route).toBe('unauthenticated');
    expect(anonymous.headers.get('www-authenticate'), route).toBe('Bearer');
    for (const [which, authorization] of invalid) {
      const what = `${route} with ${which}`;
      const res = await send(r, authorization);
      const problem = expectProblem(res, 401, what);
      expect(problem.code, what).toBe('unauthenticated');
      if (which === 'an expired token') expect(problem.detail, what).toBe('token expired');
      expect(res.headers.get('www-authenticate'), what).toMatch(/^Bearer error="invalid_token"/);
    }
    if (typeof r.access === 'object') {
      const permission = r.access.permission;
      const what = `${route} with every permission but ${permission}`;
      const allBut = await bearer({ sub: MATRIX, scope: PERMISSIONS.filter((p) => p !== permission) });
      const refused = expectProblem(await send(r, allBut), 403, what);
      expect(refused.code, what).toBe('forbidden');
      expect(refused.detail, what).toBe(`requires the ${permission} permission`);
    }
  }
  if (opts.untouched) expect(await opts.untouched(), 'changed by a refused request').toEqual(before);

  // past the guard: on fresh ids, so that nothing the caller named is touched, with fresh tokens
  // (a route may end the session of the token it is called with: logout)
  const anyToken = async (): Promise<[string, string][]> => [
    ['a person without roles', await bearer({ roles: [] })],
    ['a service without scope', await bearer({ sub: MATRIX, scope: [] })],
    ['every permission', await bearer(all)],
  ];
  for (const r of routes) {
    const p = typeof r.access === 'object' ? r.access.permission : undefined;
    const callers: [string, string][] = p
      ? [[`only ${p}`, await bearer({ sub: MATRIX, scope: [p] })]]
      : await anyToken();
    for (const [who, authorization] of callers) {
      const res = await send(r, authorization, {});
      const what = `${r.method} ${r.url} with ${who}: ${res.status} ${JSON.stringify(res.body)}`;
      expect([401, 403, 500], what).not.toContain(res.status);
    }
  }
  return routes;
}

/** Authorization headers the guard must refuse with 401 whatever the token claims. */
async function invalidTokens(
  keys: Pick<TestKeys, 'mint'>,
  claims: TokenOptions,
): Promise<[string, string][]> {
  const untrusted = await createTestKeys();
  const b64 = (json: object) => Buffer.from(JSON.stringify(json)).toString('base64url');
  const bearer = async (k: Pick<TestKeys, 'mint'>, more: TokenOptions = {}) =>
    `Bearer ${await k.mint({ ...claims, ...more })}`;
  return [
    ['a malformed token', 'Bearer garbage'],
    ['an unsigned token', `Bearer ${b64({ alg: 'ES256', kid: 'x' })}.${b64({ sub: MATRIX })}.c2ln`],
    ['an expired token', await bearer(keys, { expiresInSec: -60 })],
    ['a token not valid yet', await bearer(keys, { notBeforeSec: 600 })],
    ['a token for another audience', await bearer(keys, { audience: 'somebody-else' })],
    ['a token of a key the service does not trust', await bearer(untrusted)],
    ['Basic credentials', 'Basic YWRhOmxvdmVsYWNl'],
  ];
}
