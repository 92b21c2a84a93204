import type { Permission } from '@hms/contracts';
import type { FastifyInstance } from 'fastify';

/** A route as the server registered it, with what a caller needs to reach it. */
export interface RouteAccess {
  method: string;
  /** Fastify's path (`/api/v1/patients/:id`). */
  url: string;
  access: { permission: Permission } | 'authenticated' | 'public';
}

const routeTables = new WeakMap<object, RouteAccess[]>();

/**
 * Every route of a kit server, as registered (those hidden from its OpenAPI document included),
 * with the permission each needs: what the testkit's access matrix walks.
 */
export function routesOf(app: FastifyInstance): readonly RouteAccess[] {
  return routeTables.get(app) ?? [];
}

/**
 * Secure by default: a route with neither a permission, nor `authenticated`, nor `public` is a
 * programming error, refused when it is added. Installed at once (not through `register`): an
 * `onRoute` hook sees only the routes added after it, and a service adds its routes as soon as
 * the server is made. URL prefixes in `publicPrefixes` are public by nature (a third-party docs
 * UI that cannot declare `config.public`); CORS preflights (OPTIONS, HEAD) are always public.
 */
export function installRoutePolicy(app: FastifyInstance, publicPrefixes: readonly string[] = []): void {
  const table: RouteAccess[] = [];
  routeTables.set(app, table);
  app.addHook('onRoute', (route) => {
    const cfg = route.config as
      { permission?: string; public?: boolean; authenticated?: boolean } | undefined;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const preflightOnly = methods.every((m) => m === 'OPTIONS' || m === 'HEAD');
    const publicPrefix = publicPrefixes.some((p) => route.url.startsWith(p));
    if (cfg?.public && (cfg.permission || cfg.authenticated))
      throw new Error(
        `route ${String(route.method)} ${route.url} is public and also needs a token: declare one of them`,
      );
    if (!cfg?.permission && !cfg?.public && !cfg?.authenticated && !preflightOnly && !publicPrefix) {
      throw new Error(
        `route ${String(route.method)} ${route.url} declares none of permission, authenticated or public`,
      );
    }
    for (const method of methods)
      table.push({
        method,
        url: route.url,
        access: cfg?.permission
          ? { permission: cfg.permission as Permission }
          : cfg?.authenticated
            ? 'authenticated'
            : 'public',
      });
  });
}
