import { CommonErrors, type ServiceModule } from '@hms/platform';
import { startService, type RunningService } from '@hms/testkit';
import { expectAccessMatrix, pathOf, useService } from '@hms/testkit/vitest';
import { beforeAll, describe, expect, it } from 'vitest';

/** A module with a route of every kind, one of them hidden from its OpenAPI document. */
const toy: ServiceModule = {
  name: 'toy',
  description: 'routes of every kind',
  migrations: () => [],
  setup(app) {
    app.get('/api/v1/things/:id', { config: { permission: 'patients:read' } }, async (req) => ({
      id: (req.params as { id: string }).id,
    }));
    app.post(
      '/api/v1/things',
      { config: { permission: 'patients:write' }, schema: { hide: true } },
      async () => ({
        made: true,
      }),
    );
    app.get('/api/v1/whoami', { config: { authenticated: true } }, async (req) => ({
      sub: req.principal?.sub,
    }));
    app.get('/api/v1/open', { config: { public: true } }, async () => ({ open: true }));
  },
};

/** A route whose handler wants a permission other than the one it declares. */
const mismatched: ServiceModule = {
  ...toy,
  name: 'mismatched',
  setup(app) {
    app.get('/api/v1/things', { config: { permission: 'patients:read' } }, async (req) => {
      if (!req.principal?.permissions.has('patients:write'))
        throw CommonErrors.forbidden('wants patients:write');
      return { items: [] };
    });
  },
};

describe('expectAccessMatrix', () => {
  const started = useService(toy);
  let svc: RunningService;
  beforeAll(() => {
    svc = started();
  });

  it('walks every route that needs a token, the hidden one included, and none that is public', async () => {
    const walked = await expectAccessMatrix(svc);
    expect(walked.map((r) => `${r.method} ${r.url}`).sort()).toEqual([
      'GET /api/v1/things/:id',
      'GET /api/v1/whoami',
      'POST /api/v1/things',
    ]);
  });

  it('fills path parameters with what it is given, else a fresh uuid', () => {
    expect(pathOf('/a/:id/b/:other', { id: 'given' })).toMatch(/^\/a\/given\/b\/[0-9a-f-]{36}$/);
    expect(pathOf('/files/*')).toBe('/files/x');
    expect(pathOf('/a/:n(^\\d+$)', { n: '7' })).toBe('/a/7');
  });

  it('fails when a refused request changed what it must not', async () => {
    let calls = 0;
    await expect(expectAccessMatrix(svc, { untouched: async () => (calls += 1) })).rejects.toThrow(
      /changed by a refused request/,
    );
  });

  it('fails when a route does not let through the permission it declares', async () => {
    const other = await startService(mismatched);
    try {
      await expect(expectAccessMatrix(other)).rejects.toThrow(
        /GET \/api\/v1\/things with only patients:read: 403/,
      );
    } finally {
      await other.close();
    }
  });
});
