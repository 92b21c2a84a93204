import cors from '@fastify/cors';
import type { FastifyRequest } from 'fastify';
// `schema.hide` (routes left out of the gateway's own document) is declared by @fastify/swagger
import type {} from '@fastify/swagger';
import {
  ChainedSource,
  LoadBalancer,
  StaticRegistry,
  type ServiceDeps,
  type ServiceModule,
} from '@hms/platform';
import { AccessControl } from './access.js';
import { RouteCatalog } from './catalog.js';
import { list, parseRate, readGatewayConfig } from './config.js';
import { docsRoutes } from './docs.js';
import { ClientAddress } from './forwarding.js';
import { healthRoute } from './health.js';
import { proxyRoutes } from './proxy.js';
import { ownerOf } from './routes.js';
import { rateLimit } from './rate-limit.js';
import { Upstreams } from './upstream.js';

const CORS_HEADERS = [
  'authorization',
  'content-type',
  'if-match',
  'idempotency-key',
  'x-request-id',
  'traceparent',
];
const EXPOSED_HEADERS = [
  'etag',
  'location',
  'x-request-id',
  'retry-after',
  'ratelimit-limit',
  'ratelimit-remaining',
  'ratelimit-reset',
];

const PATIENT_PATH = /^\/api\/v1\/patients\/([0-9a-fA-F-]{36})(?:[/?]|$)/;

/** What a refused request was for: the service owning its path, and the patient it names. */
function refusedAccess(request: FastifyRequest): { resource: string; patientIds: string[] } {
  const path = request.url.split('?')[0] ?? '';
  const patient = PATIENT_PATH.exec(path)?.[1];
  return { resource: ownerOf(path) ?? 'gateway', patientIds: patient ? [patient.toLowerCase()] : [] };
}

/**
 * The API gateway (DESIGN.md §3, §4): the platform's single entry point. It routes by path prefix
 * (SERVICES in the contracts) to the owning service, balanced over its instances; verifies the
 * access token locally and enforces each route's permission from the services' OpenAPI
 * documents; rate-limits per IP and per principal; guards each upstream with a timeout, a circuit
 * breaker and a bulkhead; and serves the merged OpenAPI document, the docs UI and `/health`.
 */
export const gatewayService: ServiceModule = {
  name: 'gateway',
  description: 'The HMS API gateway',
  migrations: () => [],
  http(env) {
    const client = new ClientAddress(list(readGatewayConfig(env).GATEWAY_TRUSTED_PROXIES));
    return {
      publicPrefixes: ['/docs'],
      // a client's X-Request-Id and traceparent are believed only from a trusted proxy; anyone
      // else gets the gateway's own id and a new trace (its id is logged apart, as clientReqId)
      trustCaller: (req) => client.trusts(req),
      // every request the gateway refuses (401, 403, 429) is an access record, with the client
      access: { refusals: refusedAccess, clientIp: (request) => client.ip(request) },
    };
  },
  setup(app, deps: ServiceDeps) {
    const cfg = readGatewayConfig(deps.env);
    const client = new ClientAddress(list(cfg.GATEWAY_TRUSTED_PROXIES));
    const source = new ChainedSource([deps.registry, new StaticRegistry(deps.env)]);
    const balancer = new LoadBalancer(source, { zone: cfg.ZONE, downForMs: cfg.UPSTREAM_DOWN_MS });
    const upstreams = new Upstreams(
      balancer,
      {
        timeoutMs: cfg.UPSTREAM_TIMEOUT_MS,
        maxTimeoutMs: cfg.UPSTREAM_TIMEOUT_MAX_MS,
        retries: cfg.UPSTREAM_RETRIES,
        bodyTimeoutMs: cfg.UPSTREAM_BODY_TIMEOUT_MS,
        breakerThreshold: cfg.UPSTREAM_BREAKER_THRESHOLD,
        halfOpenAfterMs: cfg.UPSTREAM_BREAKER_HALF_OPEN_MS,
        maxConcurrent: cfg.UPSTREAM_MAX_CONCURRENT,
        maxQueued: cfg.UPSTREAM_MAX_QUEUED,
        downForMs: cfg.UPSTREAM_DOWN_MS,
      },
      deps.metrics,
      deps.logger,
    );
    const catalog = new RouteCatalog(upstreams, source, {
      refreshMs: cfg.OPENAPI_REFRESH_MS,
      logger: deps.logger,
      info: {
        title: 'HMS API',
        version: '0.1.0',
        description:
          'Every HMS service behind the gateway. `x-permission` on an operation names the permission ' +
          'its caller needs (roles and permissions: packages/contracts); `x-authenticated` ones need any ' +
          'valid token; operations with neither are public.',
      },
    });
    const origins = list(cfg.CORS_ORIGINS);

    // hooks run in this order: CORS (answers preflights), rate limit per client address (and on
    // the auth group, decided from the route matched, not the raw path), the route's
    // authorization (proxy routes), rate limit per principal, then the proxy
    if (origins.length > 0)
      void app.register(cors, {
        origin: origins,
        methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
        allowedHeaders: CORS_HEADERS,
        exposedHeaders: EXPOSED_HEADERS,
        maxAge: 600,
      });
    void app.register(rateLimit, {
      store: deps.store,
      keyPrefix: cfg.RATE_LIMIT_PREFIX,
      ip: parseRate(cfg.RATE_LIMIT_IP),
      principal: parseRate(cfg.RATE_LIMIT_PRINCIPAL),
      auth: parseRate(cfg.RATE_LIMIT_AUTH),
      authPaths: list(cfg.RATE_LIMIT_AUTH_PATHS),
      leaseMax: cfg.RATE_LIMIT_LEASE_MAX,
      clientIp: (request) => client.ip(request),
      logger: deps.logger,
    });
    void app.register(proxyRoutes, {
      catalog,
      upstreams,
      access: new AccessControl(deps.verifier),
      client,
      bodyLimit: cfg.BODY_LIMIT,
    });
    healthRoute(app, { source, upstreams, catalog, readiness: deps.readiness });
    docsRoutes(app, catalog);

    // an error answered before the request body was read (413, 401, 429…) reaches the client: the
    // kit reads and drops the rest of the body, within bounds (`bodyLimitAnswered`)
    app.addHook('onReady', async () => catalog.start());
    app.addHook('onClose', async () => {
      catalog.stop();
      await upstreams.close();
    });
  },
};
