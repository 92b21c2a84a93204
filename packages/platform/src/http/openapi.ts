import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { CommonErrors, problemType, type ErrorSpec } from '../errors.js';

export interface OpenApiOptions {
  service: string;
  version?: string | undefined;
  description?: string | undefined;
  /** The service's own error catalogue, published with the kit's common errors as `x-problems`. */
  errors?: Record<string, ErrorSpec> | undefined;
  /** The tags its operations are grouped under, name → description. */
  tags?: Record<string, string> | undefined;
}

/**
 * The service's OpenAPI 3.1 document, built from its routes' schemas, served at `/openapi.json`:
 * every operation with what a caller needs (`security` and `x-permission`, or
 * `x-authenticated`), and `x-problems`, every problem the service can answer with its type,
 * status and title.
 *
 * Installed at once rather than through `register()`: swagger collects routes in an `onRoute`
 * hook, which `register()` would add only at `ready()`, after the routes a service adds right
 * after the server is made (the document would list none of them).
 */
export function installOpenApi(app: FastifyInstance, opts: OpenApiOptions): void {
  swagger(
    app,
    {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: `HMS ${opts.service} service`,
          version: opts.version ?? '0.1.0',
          description: opts.description,
        },
        tags: Object.entries(opts.tags ?? {}).map(([name, description]) => ({ name, description })),
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
        'x-problems': Object.entries({ ...CommonErrors.specs, ...opts.errors }).map(([code, spec]) => ({
          code,
          type: problemType(code),
          status: spec.status,
          title: spec.title,
        })),
      } as Record<string, unknown>,
      transform: ({ schema, url, route }) => {
        const permission = route.config?.permission;
        const s = { ...(schema ?? {}) } as Record<string, unknown>;
        if (permission) {
          s.security = [{ bearer: [] }];
          s['x-permission'] = permission;
        } else if (route.config?.authenticated) {
          s.security = [{ bearer: [] }];
          s['x-authenticated'] = true;
        }
        if (route.config?.timeoutMs !== undefined) s['x-timeout-ms'] = route.config.timeoutMs;
        return { schema: s, url };
      },
    },
    (err) => {
      if (err) throw err;
    },
  );
  // …and records its name, which plugins built on it (@fastify/swagger-ui) look for
  void app.register(fp(async () => undefined, { name: '@fastify/swagger', fastify: '5.x' }));
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
}
