import { routesOf, type App, type ServiceModule } from '@hms/platform';
import { startService } from '@hms/testkit';
import { describe, expect, it } from 'vitest';

/** A module whose only route is added by `route`. */
const moduleWith = (route: (app: App) => void): ServiceModule => ({
  name: 'routeaccess',
  description: 'one route',
  migrations: () => [],
  setup: route,
});

const handler = async () => ({ open: true });

describe('a route that declares no access is refused when the service starts', () => {
  it.each<[string, (app: App) => void]>([
    ['no config at all', (app) => void app.get('/api/v1/things', handler)],
    ['an empty config', (app) => void app.get('/api/v1/things', { config: {} }, handler)],
    ['public: false', (app) => void app.get('/api/v1/things', { config: { public: false } }, handler)],
    [
      'authenticated: false',
      (app) => void app.get('/api/v1/things', { config: { authenticated: false } }, handler),
    ],
    [
      'a permission left undefined',
      (app) => void app.get('/api/v1/things', { config: { permission: undefined } }, handler),
    ],
    [
      'only other settings',
      (app) => void app.get('/api/v1/things', { config: { idempotent: true } }, handler),
    ],
    [
      'a route added inside a plugin',
      (app) => void app.register(async (scope) => void scope.get('/api/v1/things', handler)),
    ],
  ])('%s', async (_what, route) => {
    await expect(startService(moduleWith(route))).rejects.toThrow(
      /GET \/api\/v1\/things declares none of permission, authenticated or public/,
    );
  });
});

describe('a route that is public and also needs a token is refused when the service starts', () => {
  it.each<[string, (app: App) => void]>([
    [
      'public and a permission',
      (app) =>
        void app.get('/api/v1/things', { config: { public: true, permission: 'patients:read' } }, handler),
    ],
    [
      'public and authenticated',
      (app) => void app.get('/api/v1/things', { config: { public: true, authenticated: true } }, handler),
    ],
  ])('%s', async (_what, route) => {
    await expect(startService(moduleWith(route))).rejects.toThrow(
      /GET \/api\/v1\/things is public and also needs a token/,
    );
  });
});

describe('routesOf', () => {
  it('lists every route as registered with its access, hidden ones and the kit’s own included', async () => {
    const svc = await startService(
      moduleWith((app) => {
        app.get('/api/v1/things/:id', { config: { permission: 'patients:read' } }, handler);
        app.post(
          '/api/v1/things',
          { config: { permission: 'patients:write' }, schema: { hide: true } },
          handler,
        );
        app.get('/api/v1/me', { config: { authenticated: true } }, handler);
      }),
    );
    try {
      const routes = routesOf(svc.app).filter((r) => r.method !== 'HEAD');
      expect(routes).toEqual(
        expect.arrayContaining([
          { method: 'GET', url: '/api/v1/things/:id', access: { permission: 'patients:read' } },
          { method: 'POST', url: '/api/v1/things', access: { permission: 'patients:write' } },
          { method: 'GET', url: '/api/v1/me', access: 'authenticated' },
          { method: 'GET', url: '/health/live', access: 'public' },
          { method: 'GET', url: '/openapi.json', access: 'public' },
        ]),
      );
      const document = await svc.request<{ paths: Record<string, unknown> }>('GET', '/openapi.json');
      expect(Object.keys(document.body.paths)).not.toContain('/api/v1/things');
    } finally {
      await svc.close();
    }
  });
});
