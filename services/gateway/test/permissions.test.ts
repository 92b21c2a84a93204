import { ROLE_NAMES, ROLES, type Role } from '@hms/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STARTUP_MS, startStack, type Stack } from './helpers.js';

let s: Stack;
interface Operation {
  method: string;
  path: string;
  /** What the document says the caller needs: a permission, any valid token, or nothing. */
  needs: { permission: string } | 'token' | 'nothing';
}
type DocOperation = { 'x-permission'?: string; 'x-authenticated'?: boolean; security?: unknown[] };
let operations: Operation[];

beforeAll(async () => {
  s = await startStack();
  const doc = await s.gateway.request<{ paths: Record<string, Record<string, DocOperation>> }>(
    'GET',
    '/api/v1/openapi.json',
  );
  expect(doc.status).toBe(200);
  operations = Object.entries(doc.body.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => ['get', 'put', 'post', 'delete', 'patch'].includes(method))
      .map(([method, op]) => ({
        method: method.toUpperCase(),
        path,
        needs: op['x-permission']
          ? { permission: op['x-permission'] }
          : op['x-authenticated'] || (op.security?.length ?? 0) > 0
            ? 'token'
            : 'nothing',
      })),
  );
}, STARTUP_MS);
afterAll(async () => {
  await s.close();
});

/** A concrete path for a template: every parameter gets a well-formed id that matches nothing. */
const concrete = (template: string) => template.replace(/\{[^}]+\}/g, '01900000-0000-7000-8000-00000000abcd');

const allowed = (role: Role, needs: Operation['needs']) =>
  typeof needs === 'string' || (ROLES[role] as readonly string[]).includes(needs.permission);

const describeNeeds = (needs: Operation['needs']) => (typeof needs === 'string' ? needs : needs.permission);

describe('every role × every operation in the merged OpenAPI document', () => {
  it('covers the platform’s operations (it grows as services are added)', () => {
    const names = operations.map((o) => `${o.method} ${o.path}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'GET /api/v1/patients',
        'POST /api/v1/patients',
        'GET /api/v1/patients/{id}',
        'PUT /api/v1/patients/{id}',
        'PATCH /api/v1/patients/{id}',
        'DELETE /api/v1/patients/{id}',
        'GET /api/v1/patients/search',
        'POST /api/v1/auth/login',
        'GET /api/v1/auth/me',
      ]),
    );
    // all three kinds of requirement are exercised
    expect(operations.some((o) => o.needs === 'nothing')).toBe(true);
    expect(operations.some((o) => o.needs === 'token')).toBe(true);
    expect(operations.some((o) => typeof o.needs === 'object')).toBe(true);
  });

  it('answers as the role table says: allowed → past the gateway, denied → 403', async () => {
    const outcomes: string[] = [];
    const mismatches: string[] = [];
    for (const role of ROLE_NAMES) {
      const token = await s.keys.mint({ roles: [role] });
      for (const op of operations) {
        const sendsBody = ['POST', 'PUT', 'PATCH'].includes(op.method);
        const res = await s.gateway.request(op.method, concrete(op.path), {
          token,
          ...(sendsBody ? { body: {} } : {}),
        });
        const expectAllowed = allowed(role, op.needs);
        const ok = expectAllowed ? res.status !== 401 && res.status !== 403 : res.status === 403;
        const line = `${role} ${op.method} ${op.path} (${describeNeeds(op.needs)}) → ${res.status}`;
        outcomes.push(line);
        if (!ok) mismatches.push(`${line}, expected ${expectAllowed ? 'allowed' : '403'}`);
      }
    }
    expect(outcomes.length).toBe(ROLE_NAMES.length * operations.length);
    expect(mismatches).toEqual([]);
  });

  it('answers 401 without a token wherever a token is needed, and lets public operations through', async () => {
    const mismatches: string[] = [];
    for (const op of operations) {
      const sendsBody = ['POST', 'PUT', 'PATCH'].includes(op.method);
      const res = await s.gateway.request(op.method, concrete(op.path), sendsBody ? { body: {} } : {});
      const expected = op.needs === 'nothing' ? res.status !== 401 && res.status !== 403 : res.status === 401;
      if (!expected) mismatches.push(`${op.method} ${op.path} (${describeNeeds(op.needs)}) → ${res.status}`);
    }
    expect(mismatches).toEqual([]);
  });
});
