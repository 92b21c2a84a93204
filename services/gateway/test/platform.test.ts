import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '@hms/testkit/vitest';
import { PATIENTS, STARTUP_MS, startStack, type Stack } from './helpers.js';

const ORIGIN = 'https://console.hospital.example';
let s: Stack;

beforeAll(async () => {
  s = await startStack({ CORS_ORIGINS: `${ORIGIN},https://other.hospital.example` });
}, STARTUP_MS);
afterAll(async () => {
  await s.close();
});

interface OpenApi {
  openapi: string;
  info: { title: string };
  paths: Record<string, Record<string, { 'x-permission'?: string; responses?: unknown; security?: unknown }>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
}

describe('the merged OpenAPI document at /api/v1/openapi.json', () => {
  it('holds every service’s paths with their x-permission', async () => {
    const res = await s.gateway.request<OpenApi>('GET', '/api/v1/openapi.json');
    expect(res.status).toBe(200);
    const doc = res.body;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBe('HMS API');
    expect(doc.paths[PATIENTS]?.get?.['x-permission']).toBe('patients:read');
    expect(doc.paths[PATIENTS]?.post?.['x-permission']).toBe('patients:write');
    expect(doc.paths[`${PATIENTS}/{id}`]?.delete?.['x-permission']).toBe('patients:write');
    expect(doc.paths['/api/v1/auth/sessions']?.get?.['x-permission']).toBe('users:manage');
    // public routes carry no permission
    expect(doc.paths['/api/v1/auth/login']?.post).toBeDefined();
    expect(doc.paths['/api/v1/auth/login']?.post?.['x-permission']).toBeUndefined();
    expect(doc.components.securitySchemes.bearer).toEqual({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
    });
  });

  it('matches each service’s own document, path for path', async () => {
    const merged = (await s.gateway.request<OpenApi>('GET', '/api/v1/openapi.json')).body;
    const own = (await s.patient.request<OpenApi>('GET', '/openapi.json')).body;
    const patientPaths = Object.keys(own.paths).filter((p) => p.startsWith(PATIENTS));
    expect(patientPaths.length).toBeGreaterThan(0);
    for (const p of patientPaths)
      for (const [method, op] of Object.entries(own.paths[p] ?? {}))
        expect(merged.paths[p]?.[method]?.['x-permission'], `${method} ${p}`).toBe(op['x-permission']);
  });

  it('names a component after its title when no other has it, and every $ref resolves', async () => {
    const doc = (await s.gateway.request<OpenApi>('GET', '/api/v1/openapi.json')).body;
    const names = Object.keys(doc.components.schemas);
    // the Patient service's one schema component (the auth stand-in here declares none)
    expect(names).toEqual(['Patient']);
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map(
      (m) => m[1],
    );
    for (const r of refs) expect(names, r).toContain(r);
  });

  it('leaves out routes the gateway does not route (a service’s own /admin routes, /health)', async () => {
    const doc = (await s.gateway.request<OpenApi>('GET', '/api/v1/openapi.json')).body;
    for (const p of Object.keys(doc.paths)) expect(p).toMatch(/^(\/api\/v1\/|\/\.well-known\/)/);
  });
});

describe('the docs UI at /docs', () => {
  it('serves Swagger UI with its assets from the gateway itself', async () => {
    const page = await fetch(`${s.gateway.url}/docs/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string);
    expect(assets.length).toBeGreaterThan(2);
    for (const asset of assets) {
      expect(asset, 'no asset from another host').not.toMatch(/^(https?:)?\/\//);
      const res = await fetch(new URL(asset, `${s.gateway.url}/docs/`));
      expect(res.status, asset).toBe(200);
      expect((await res.arrayBuffer()).byteLength, asset).toBeGreaterThan(0);
    }
    // the page's policy allows its own scripts and nothing from elsewhere
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/script-src 'self'/);
    expect(csp).not.toMatch(/https:|upgrade-insecure-requests/);
  });

  it('shows the merged document', async () => {
    const res = await s.gateway.request<OpenApi>('GET', '/docs/json');
    expect(res.status).toBe(200);
    expect(res.body.paths[PATIENTS]?.get?.['x-permission']).toBe('patients:read');
  });
});

describe('CORS', () => {
  it('answers a preflight from an allowed origin', async () => {
    const res = await fetch(`${s.gateway.url}${PATIENTS}`, {
      method: 'OPTIONS',
      headers: {
        origin: ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    expect(res.status).toBe(204);
    await res.arrayBuffer();
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(res.headers.get('access-control-allow-methods')).toMatch(/POST/);
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toMatch(/authorization/);
    expect(res.headers.get('vary')?.toLowerCase()).toMatch(/origin/);
  });

  it('gives an allowed origin the headers it may read on the actual call', async () => {
    const token = await s.keys.mint({ roles: ['nurse'] });
    const res = await s.gateway.request('GET', PATIENTS, { token, headers: { origin: ORIGIN } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(res.headers.get('access-control-expose-headers')?.toLowerCase()).toMatch(/x-request-id/);
  });

  it('does not allow another origin', async () => {
    const res = await fetch(`${s.gateway.url}${PATIENTS}`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    });
    await res.arrayBuffer();
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});

// last: it stops a service
describe('/health', () => {
  it('answers 200 when every known service is ready', async () => {
    const res = await s.gateway.request<{ status: string; services: Record<string, { status: string }> }>(
      'GET',
      '/health',
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.status).toBe('ready');
    expect(res.body.services).toEqual({
      gateway: { status: 'ready', instances: 1, ready: 1 },
      auth: { status: 'ready', instances: 1, ready: 1 },
      patient: { status: 'ready', instances: 1, ready: 1 },
    });
  });

  it('answers a 503 problem naming the services that are not ready', async () => {
    await s.auth.close();
    const res = await s.gateway.request('GET', '/health');
    const problem = expectProblem(res, 503);
    expect(problem.notReady).toEqual(['auth']);
    expect(problem.services).toMatchObject({
      auth: { status: 'not ready', ready: 0 },
      patient: { status: 'ready' },
    });
    expect(res.headers.get('retry-after')).toBeTruthy();
    // no instance address leaks out
    expect(JSON.stringify(problem)).not.toMatch(/127\.0\.0\.1/);
  });
});
