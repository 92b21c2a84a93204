import swaggerUi from '@fastify/swagger-ui';
import type { App } from '@hms/platform';
import type { RouteCatalog } from './catalog.js';

/** Swagger UI's own policy, minus what would reach off the machine or upgrade plain-HTTP assets. */
const docsPolicy = (header: string) =>
  header
    .replace(/\s*upgrade-insecure-requests;?/, '')
    .replace(/ validator\.swagger\.io/g, '')
    .replace(/ https:/g, '')
    .replace("frame-ancestors 'self'", "frame-ancestors 'none'");

/**
 * The platform's API description: the services' OpenAPI documents merged (paths, components,
 * `x-permission` per operation) at `/api/v1/openapi.json`, and Swagger UI on it at `/docs`, its
 * assets served from the package (no CDN).
 */
export function docsRoutes(app: App, catalog: RouteCatalog): void {
  app.get('/api/v1/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => {
    await catalog.loadMissing();
    return catalog.document();
  });

  // the docs UI's routes are public through the kit server's `publicPrefixes: ['/docs']`
  void app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    transformStaticCSP: docsPolicy,
    transformSpecificationClone: false,
    transformSpecification: () => catalog.document(),
    // the operationId is the method name of a generated client (packages/api-client)
    uiConfig: { deepLinking: true, displayOperationId: true, tryItOutEnabled: false },
  });
}
