import type { Permission } from '@hms/contracts';
import type { Span } from '@opentelemetry/api';
import AjvCompiler from '@fastify/ajv-compiler';
import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  LogController,
  type FastifyError,
  type FastifyBaseLogger,
  type FastifyInstance,
  type RawServerDefault,
} from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { runWithContext, type WorkContext } from '../context.js';
import type { Db } from '../db/types.js';
import { CommonErrors, problemType, type ErrorSpec } from '../errors.js';
import { uuidv7 } from '../ids.js';
import { SpanKind, endSpan, startSpan } from '../tracing.js';
import { bearerToken, requirePermission, type Principal, type TokenVerifier } from './auth.js';
import { accessRecordOf, type HttpAccessRecording } from '../events/access.js';
import { installIdempotency } from './idempotency.js';
import type { Metrics } from './metrics.js';
import { installProblemHandlers, sendProblem } from './problems.js';

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

export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
}

export interface HttpServerOptions {
  service: string;
  version?: string;
  logger: Logger;
  verifier: TokenVerifier;
  metrics: Metrics;
  db?: Db;
  readiness?: ReadinessCheck[];
  bodyLimit?: number;
  maxUrlLength?: number;
  description?: string;
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
  /**
   * The service's own error catalogue (`defineErrors(...).specs`): published with the kit's common
   * errors as `x-problems` in its OpenAPI document, every code with its problem type, status and
   * title.
   */
  errors?: Record<string, ErrorSpec>;
  /** Access records of the routes that declare `config.access` (and the gateway's refusals). */
  access?: HttpAccessRecording;
}

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
export function routesOf(app: App): readonly RouteAccess[] {
  return routeTables.get(app) ?? [];
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Security headers on every answer: the set OWASP's REST Security Cheat Sheet gives for an API
 * (no caching of `/api` answers is set per response below), plus the referrer and cross-origin
 * resource policies. Nothing may be loaded, framed or sniffed. The headers helmet adds for HTML
 * documents (`X-XSS-Protection`, `X-Download-Options`, `X-DNS-Prefetch-Control`,
 * `X-Permitted-Cross-Domain-Policies`, `Origin-Agent-Cluster`, `Cross-Origin-Opener-Policy`) do
 * nothing for JSON and are left out: every header is written and parsed on each hop. They never
 * vary, so they are set from this table in the request's first hook; a route that serves a page
 * (the gateway's docs UI) sets its own policy over them.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cross-origin-resource-policy': 'same-origin',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
});
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * A request's logger (`request.log`, with its `reqId`), made the first time something logs
 * through it. Fastify makes one per request, and pino's `child()` serialises its bindings at
 * once, a visible share of a simple request's CPU; most requests log nothing but the access line,
 * which the kit writes itself.
 */
class LazyChildLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Record<string, unknown>,
    private readonly opts: object,
  ) {}

  private get real(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings, this.opts));
  }

  get level(): string {
    return (this.made ?? this.parent).level;
  }
  set level(value: string) {
    this.real.level = value;
  }
  fatal(...args: unknown[]): void {
    this.real.fatal(...(args as [unknown]));
  }
  error(...args: unknown[]): void {
    this.real.error(...(args as [unknown]));
  }
  warn(...args: unknown[]): void {
    this.real.warn(...(args as [unknown]));
  }
  info(...args: unknown[]): void {
    this.real.info(...(args as [unknown]));
  }
  debug(...args: unknown[]): void {
    this.real.debug(...(args as [unknown]));
  }
  trace(...args: unknown[]): void {
    this.real.trace(...(args as [unknown]));
  }
  silent(): void {}
  child(bindings: Record<string, unknown>, opts?: object): FastifyBaseLogger {
    return this.real.child(bindings, opts);
  }
}

/**
 * The kit's HTTP server: problem+json for every error, request ids, security headers, the auth
 * guard, RED metrics, health and OpenAPI. A service adds its routes and calls `ready()`.
 */
export function createHttpServer(opts: HttpServerOptions): App {
  const maxUrlLength = opts.maxUrlLength ?? 8192;
  const trusted = opts.trustCaller ?? (() => true);
  const app = Fastify({
    loggerInstance: opts.logger,
    // one line per request is written by our onResponse hook (route, status, latency, principal)
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: (logger, bindings, opts) =>
      new LazyChildLogger(logger, bindings, opts) as unknown as FastifyBaseLogger,
    bodyLimit: opts.bodyLimit ?? 1_048_576,
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
    clientErrorHandler: (err: NodeJS.ErrnoException, socket: Socket) => {
      if (!socket.writable) return;
      const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
      const status = tooLarge ? 431 : 400;
      const title = tooLarge ? 'Request header fields too large' : 'Bad request';
      const body = JSON.stringify({
        type: problemType(tooLarge ? 'header_too_large' : 'bad_request'),
        title,
        status,
      });
      socket.end(
        `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    },
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;

  installProblemHandlers(app);
  const table: RouteAccess[] = [];
  routeTables.set(app, table);

  // JSON only: a text/plain body answers 415 rather than reaching validation as a string
  app.removeContentTypeParser('text/plain');
  // application/merge-patch+json (RFC 7396) is JSON for parsing purposes
  app.addContentTypeParser(
    'application/merge-patch+json',
    { parseAs: 'string' },
    app.getDefaultJsonParser('error', 'error'),
  );

  // Applied at once rather than through register(): swagger collects routes in an onRoute hook,
  // and register() would add that hook only at ready(), after the routes a service adds right
  // after this function returns (the document would list none of them).
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
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
        // every problem the service can answer: the kit's common ones and its own catalogue
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
        return { schema: s, url };
      },
    },
    (err) => {
      if (err) throw err;
    },
  );
  // …and records its name, which plugins built on it (@fastify/swagger-ui) look for
  void app.register(fp(async () => undefined, { name: '@fastify/swagger', fastify: '5.x' }));

  // Secure by default: a route with neither a permission nor `public` is a programming error.
  app.addHook('onRoute', (route) => {
    const cfg = route.config as
      { permission?: string; public?: boolean; authenticated?: boolean } | undefined;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const preflightOnly = methods.every((m) => m === 'OPTIONS' || m === 'HEAD');
    const publicPrefix = (opts.publicPrefixes ?? []).some((p) => route.url.startsWith(p));
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

  // The work context (request id, trace, caller's token) follows the request through every
  // await via AsyncLocalStorage: the logger, the HTTP client and the outbox read it from there.
  app.addHook('onRequest', (request, reply, done) => {
    const fromTrusted = trusted(request.raw);
    const tp = fromTrusted ? request.headers.traceparent : undefined;
    if (!fromTrusted) {
      const given = request.headers['x-request-id'];
      if (typeof given === 'string' && REQUEST_ID.test(given)) request.clientRequestId = given;
    }
    // this request is a span: a child of the caller's when a trusted caller sent a traceparent
    const { span, traceparent } = startSpan(
      `${request.method} ${request.routeOptions.url ?? 'unmatched'}`,
      SpanKind.SERVER,
      typeof tp === 'string' && TRACEPARENT.test(tp) ? tp : undefined,
      { 'http.request.method': request.method, 'http.route': request.routeOptions.url ?? 'unmatched' },
    );
    request.span = span;
    const ctx: WorkContext = { requestId: request.id, traceparent };
    request.workContext = ctx;
    reply.headers(SECURITY_HEADERS);
    reply.header('x-request-id', request.id);
    runWithContext(ctx, done);
  });

  // The hooks on every request are callback-style rather than async: under AsyncLocalStorage each
  // promise an async hook makes is tracked, and most of these have nothing to wait for.
  app.addHook('onRequest', (request, reply, done) => {
    if (request.url.length > maxUrlLength) {
      void sendProblem(request, reply, CommonErrors.uri_too_long()); // answered: the hooks stop here
      return;
    }
    opts.metrics.httpInFlight.inc();
    const cfg = request.routeOptions.config;
    if (cfg.public || (!cfg.permission && !cfg.authenticated)) return done(); // unmatched routes fall through to 404
    let token: string;
    try {
      token = bearerToken(request.headers.authorization);
    } catch (err) {
      return done(err as FastifyError);
    }
    const admit = (principal: Principal) => {
      request.principal = principal;
      if (request.workContext) {
        request.workContext.authorization = `Bearer ${token}`;
        request.workContext.actor = principal.sub;
      }
      try {
        if (cfg.permission) requirePermission(principal, cfg.permission);
      } catch (err) {
        return done(err as FastifyError);
      }
      done();
    };
    // a token verified before needs no promise (most requests); any other is verified in full
    let known: Principal | undefined;
    try {
      known = opts.verifier.verifyCached?.(token);
    } catch (err) {
      return done(err as FastifyError);
    }
    if (known) return admit(known);
    opts.verifier.verify(token).then(admit, (err: unknown) => done(err as FastifyError));
  });

  // The one line per request: its fields are fixed and hold no patient data (the route template,
  // never the URL with its query), so it skips the redaction pass every other line goes through,
  // which was a visible part of a request's CPU.
  const accessLog = opts.logger.child({}, { redact: [] });

  let closing = false;
  app.addHook('onSend', (request, reply, payload, done) => {
    if (request.url.startsWith('/api/')) reply.header('cache-control', 'no-store');
    // a response finished while draining closes its keep-alive connection, or close() would
    // wait for the client's idle socket (Fastify only closes sockets idle when close() starts)
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });

  app.addHook('onResponse', (request, reply, done) => {
    if (request.url.length <= maxUrlLength) opts.metrics.httpInFlight.dec();
    const route = request.routeOptions.url ?? 'unmatched';
    opts.metrics.httpDuration.observe(
      { method: request.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    accessLog.info(
      {
        reqId: request.id,
        method: request.method,
        route,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        principal: request.principal?.sub,
        clientReqId: request.clientRequestId,
      },
      'request',
    );
    if (opts.access) {
      const record = accessRecordOf(
        request,
        reply.statusCode,
        opts.service,
        opts.access,
        trusted(request.raw),
      );
      if (record) opts.access.recorder.record(record);
    }
    if (request.span)
      endSpan(request.span, reply.statusCode >= 500 ? new Error('server error') : undefined, {
        'http.response.status_code': reply.statusCode,
      });
    done();
  });

  if (opts.db) installIdempotency(app, opts.db);

  app.addHook('preClose', async () => {
    closing = true;
  });

  app.get('/health/live', { config: { public: true }, schema: { hide: true } }, async () => ({
    status: 'ok',
  }));
  app.get('/health/ready', { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
    if (closing)
      return sendProblem(
        request,
        reply,
        CommonErrors.unavailable('shutting down', { headers: { 'retry-after': '1' } }),
      );
    const results: Record<string, string> = {};
    let ok = true;
    for (const c of opts.readiness ?? []) {
      try {
        await withTimeout(c.check(), 2000);
        results[c.name] = 'ok';
      } catch {
        ok = false;
        results[c.name] = 'failing';
      }
    }
    if (!ok)
      return sendProblem(
        request,
        reply,
        CommonErrors.unavailable('a dependency is not ready', {
          headers: { 'retry-after': '5' },
          extensions: { checks: results },
        }),
      );
    return { status: 'ready', checks: results };
  });
  app.get('/metrics', { config: { public: true }, schema: { hide: true } }, async (_request, reply) => {
    reply.type(opts.metrics.registry.contentType);
    return opts.metrics.registry.metrics();
  });
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());

  return app;
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
