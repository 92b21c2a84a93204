import type { Permission } from '@hms/contracts';
import type { Span } from '@opentelemetry/api';
import AjvCompiler from '@fastify/ajv-compiler';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type RawServerDefault,
} from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { WorkContext } from '../context.js';
import type { Db } from '../db/types.js';
import type { ErrorSpec } from '../errors.js';
import { uuidv7 } from '../ids.js';
import type { HttpAccessRecording } from '../events/access.js';
import type { Principal, TokenVerifier } from './auth.js';
import { answerClientError, bodyLimitAnswered } from './body-limit.js';
import { guard } from './guard.js';
import { health, type ReadinessCheck } from './health.js';
import { installIdempotency } from './idempotency.js';
import { LazyChildLogger } from './lazy-logger.js';
import type { Metrics } from './metrics.js';
import { observe } from './observe.js';
import { installOpenApi } from './openapi.js';
import { installProblemHandlers } from './problems.js';
import { REQUEST_ID, requestContext } from './request-context.js';
import { installRoutePolicy } from './route-policy.js';

export { SECURITY_HEADERS } from './request-context.js';
export { routesOf, type RouteAccess } from './route-policy.js';
export type { ReadinessCheck } from './health.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The permission a caller needs; every route has one unless it is `public`. */
    permission?: Permission;
    /** Reachable without a token (health, metrics, OpenAPI). */
    public?: boolean;
    /** Needs a valid token but no particular permission (e.g. "who am I", logout). */
    authenticated?: boolean;
    /** Accepts `Idempotency-Key` and replays the first response. */
    idempotent?: boolean;
    /** Body fields that are secrets (passwords): never part of the stored idempotency fingerprint. */
    secretFields?: string[];
    /**
     * How long the operation may take to answer, ms, when that is longer than a caller's default
     * (a walk of the whole audit trail): documented as `x-timeout-ms`, which the gateway honours
     * up to its `UPSTREAM_TIMEOUT_MAX_MS`.
     */
    timeoutMs?: number;
  }
  interface FastifyRequest {
    principal?: Principal;
    workContext?: WorkContext;
    span?: Span;
    /** The `X-Request-Id` an untrusted caller sent, logged apart from the request's own id. */
    clientRequestId?: string;
  }
}

export type App = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** What every kit server is made with: the service's and the management listener alike. */
export interface KitServerOptions {
  service: string;
  logger: Logger;
  verifier: TokenVerifier;
  metrics: Metrics;
  bodyLimit?: number;
  maxUrlLength?: number;
  /**
   * URL prefixes whose routes are public by nature and come from third-party plugins that cannot
   * declare `config.public` (a docs UI's assets). CORS preflights (OPTIONS) are always public.
   */
  publicPrefixes?: string[];
  /**
   * Whether the caller's `X-Request-Id` and `traceparent` are taken as this request's own. A
   * service behind the gateway takes them (the gateway set them); the gateway, facing clients,
   * takes them only from the proxies it trusts, and otherwise mints its own id, starts a new
   * trace, and logs what the client sent apart (`clientReqId`). Default: every caller is trusted.
   */
  trustCaller?: (req: IncomingMessage) => boolean;
  /** Access records of the routes that declare `config.access` (and the gateway's refusals). */
  access?: HttpAccessRecording;
}

export interface HttpServerOptions extends KitServerOptions {
  version?: string;
  description?: string;
  db?: Db;
  readiness?: ReadinessCheck[];
  /**
   * The service's own error catalogue (`defineErrors(...).specs`): published with the kit's common
   * errors as `x-problems` in its OpenAPI document, every code with its problem type, status and
   * title.
   */
  errors?: Record<string, ErrorSpec>;
  /** The tags its operations are grouped under, each with a description (OpenAPI `tags`). */
  tags?: Record<string, string>;
}

/** The kit server's state its plugins share. */
const draining = new WeakMap<object, { closing: boolean }>();

/**
 * A kit server without routes: problem+json for every error, request ids, security headers, the
 * auth guard, the access log and RED metrics, secure-by-default routes, and a body over the limit
 * answered 413. Each part is a plugin of its own file; `createHttpServer` adds health, OpenAPI and
 * idempotency for a service, the management listener its operations routes.
 */
export function createKitServer(opts: KitServerOptions): App {
  const maxUrlLength = opts.maxUrlLength ?? 8192;
  const trusted = opts.trustCaller ?? (() => true);
  const bodyLimit = opts.bodyLimit ?? 1_048_576;
  const app = Fastify({
    loggerInstance: opts.logger,
    // one line per request is written by the observe plugin (route, status, latency, principal)
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: (logger, bindings, childOpts) =>
      new LazyChildLogger(logger, bindings, childOpts) as unknown as FastifyBaseLogger,
    bodyLimit,
    routerOptions: { maxParamLength: 200 },
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) && trusted(req) ? given : uuidv7();
    },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // Query strings and path parameters are text, so they are coerced to their schema types;
    // bodies are JSON and are not: {"givenName": 42} is refused, not stored as "42".
    schemaController: {
      compilersFactory: {
        buildValidator(externalSchemas) {
          const factory = AjvCompiler();
          const base = { allErrors: true, removeAdditional: false, useDefaults: true } as const;
          const coercing = factory(externalSchemas, { customOptions: { ...base, coerceTypes: 'array' } });
          const strict = factory(externalSchemas, { customOptions: { ...base, coerceTypes: false } });
          return (route) => (route.httpPart === 'body' ? strict(route) : coercing(route));
        },
      },
    },
    clientErrorHandler: answerClientError,
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;

  const state = { closing: false };
  draining.set(app, state);
  const closing = () => state.closing;
  app.addHook('preClose', (done) => {
    state.closing = true;
    done();
  });

  installProblemHandlers(app);
  bodyLimitAnswered(app, bodyLimit, closing);
  installRoutePolicy(app, opts.publicPrefixes);
  // JSON only: a text/plain body answers 415 rather than reaching validation as a string
  app.removeContentTypeParser('text/plain');
  // application/merge-patch+json (RFC 7396) is JSON for parsing purposes
  app.addContentTypeParser(
    'application/merge-patch+json',
    { parseAs: 'string' },
    app.getDefaultJsonParser('error', 'error'),
  );
  void app.register(requestContext, { trusted });
  void app.register(guard, { verifier: opts.verifier, metrics: opts.metrics, maxUrlLength });
  void app.register(observe, {
    service: opts.service,
    logger: opts.logger,
    metrics: opts.metrics,
    maxUrlLength,
    trusted,
    access: opts.access,
    closing,
  });
  return app;
}

/**
 * The kit's HTTP server for a service: the kit server, its OpenAPI document, health (readiness
 * over its dependencies) and `Idempotency-Key` replay. A service adds its routes and calls
 * `ready()`. Operations endpoints (`/metrics`, event administration) are not here: they are on the
 * management listener (`management.ts`), off the public port.
 */
export function createHttpServer(opts: HttpServerOptions): App {
  const app = createKitServer(opts);
  installOpenApi(app, opts);
  void app.register(health, {
    readiness: opts.readiness ?? [],
    closing: () => draining.get(app)?.closing ?? false,
  });
  if (opts.db) installIdempotency(app, opts.db);
  return app;
}
