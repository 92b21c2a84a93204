import FindMyWay from 'find-my-way';
import type { Logger } from 'pino';
import { AppError, CommonErrors, instancesOf, type InstanceSource } from '@hms/platform';
import {
  HTTP_METHODS,
  asOpenApiDocument,
  mergeOpenApi,
  operationsOf,
  type OpenApiDocument,
  type Operation,
} from './openapi.js';
import { ROUTED, type ServiceRoute } from './routes.js';
import { readLimited, type Upstreams } from './upstream.js';

type Router = FindMyWay.Instance<FindMyWay.HTTPVersion.V1>;

interface Loaded {
  doc: OpenApiDocument;
  router: Router;
  operations: Operation[];
  loadedAt: number;
}

const MAX_DOCUMENT_BYTES = 8 * 1024 * 1024;
const noop = () => undefined;

/** `/api/v1/patients/{id}` → `/api/v1/patients/:id` (find-my-way, the services' own router). */
function routerPath(template: string): string {
  return template.replace(/\{([^}]+)\}/g, (_m, name: string) => (name === '*' ? '*' : `:${name}`));
}

/** A router with the services' Fastify defaults, so a path matches here exactly as it will there. */
function newRouter(): Router {
  return FindMyWay({ ignoreTrailingSlash: false, ignoreDuplicateSlashes: false, maxParamLength: 200 });
}

function buildRouter(operations: Operation[], logger: Logger, service: string): Router {
  const router = newRouter();
  for (const op of operations) {
    try {
      router.on(op.method as FindMyWay.HTTPMethod, routerPath(op.path), noop, op);
    } catch (err) {
      logger.warn({ service, method: op.method, path: op.path, err }, 'operation not routable; skipped');
    }
  }
  return router;
}

export type OperationCallback = (err: Error | null, op?: Operation) => void;

function settle(found: Operation | AppError, use: OperationCallback): void {
  if (found instanceof AppError) use(found);
  else use(null, found);
}

/**
 * The one rule of which operation a request is for, over a service's routes: the route the
 * services' router matches (HEAD answered by GET); else 405 with the methods the path has, or 404.
 */
function decideOperation(router: Router, method: string, path: string): Operation | AppError {
  const op = match(router, method, path);
  if (op) return op;
  const allowed = HTTP_METHODS.map((m) => m.toUpperCase()).filter((m) => match(router, m, path));
  if (allowed.length > 0)
    return CommonErrors.method_not_allowed(`${method} is not allowed here`, {
      headers: { allow: allowed.join(', ') },
    });
  return CommonErrors.not_found(`no route for ${method} ${path}`);
}

function match(router: Router, method: string, path: string): Operation | undefined {
  const found =
    router.find(method as FindMyWay.HTTPMethod, path) ??
    (method === 'HEAD' ? router.find('GET', path) : null);
  return (found?.store as Operation | undefined) ?? undefined;
}

/**
 * Whether a request is for one of `templates` (`/api/v1/auth/login`, `{name}` for a parameter), on
 * any method: the request target (query string and all) is matched by the router the services
 * use, so it is decoded and normalised exactly as the service will before picking its handler
 * (`/api/v1/auth/logi%6E` is `/api/v1/auth/login`; `/api/v1/auth//login` is neither here nor
 * there). The raw string is never compared. No promise, no document needed: it answers the same
 * before the services' documents are read.
 */
export function routeMatcher(templates: readonly string[]): (method: string, url: string) => boolean {
  const router = newRouter();
  for (const template of templates) router.all(routerPath(template), noop);
  return (method, url) => router.find(method as FindMyWay.HTTPMethod, url) !== null;
}

export interface CatalogOptions {
  refreshMs: number;
  /** A request for a path no operation matches re-reads the document at most this often. */
  missRefreshMs?: number;
  logger: Logger;
  routes?: readonly ServiceRoute[];
  info?: Record<string, unknown>;
}

/**
 * The platform's routes and the permission each needs, read from the services' own OpenAPI
 * documents (`GET /openapi.json`, `x-permission` per operation): fetched at start, re-read
 * periodically, and fetched on demand for a service not read yet. Paths are matched with the
 * router the services use, so the gateway decides on the same route the service will.
 */
export class RouteCatalog {
  private readonly loaded = new Map<string, Loaded>();
  private readonly pending = new Map<string, Promise<Loaded>>();
  private merged: OpenApiDocument | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly routes: readonly ServiceRoute[];

  constructor(
    private readonly upstreams: Upstreams,
    private readonly source: InstanceSource,
    private readonly opts: CatalogOptions,
  ) {
    this.routes = opts.routes ?? ROUTED;
  }

  start(): void {
    void this.refreshAvailable();
    this.timer = setInterval(() => void this.refreshAvailable(), this.opts.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Re-reads the document of every service that has an instance; failures are logged. */
  async refreshAvailable(): Promise<void> {
    await Promise.all(
      this.routes.map(async ({ service }) => {
        try {
          if ((await instancesOf(this.source, service)).length === 0) return;
          await this.refresh(service);
        } catch (err) {
          this.opts.logger.warn(
            { service, reason: err instanceof AppError ? err.detail : String(err) },
            'OpenAPI document not read',
          );
        }
      }),
    );
  }

  /** Reads the documents of services that have an instance but no document yet. */
  async loadMissing(): Promise<void> {
    await Promise.all(
      this.routes
        .filter(({ service }) => !this.loaded.has(service))
        .map(async ({ service }) => {
          if ((await instancesOf(this.source, service)).length > 0) await this.refresh(service).catch(noop);
        }),
    );
  }

  refresh(service: string): Promise<Loaded> {
    let p = this.pending.get(service);
    if (!p) {
      p = this.fetch(service).finally(() => this.pending.delete(service));
      this.pending.set(service, p);
    }
    return p;
  }

  private async fetch(service: string): Promise<Loaded> {
    const res = await this.upstreams.get(service).dispatch({
      method: 'GET',
      path: '/openapi.json',
      headers: { accept: 'application/json' },
      retryable: true,
    });
    let doc: OpenApiDocument;
    try {
      if (res.statusCode !== 200) throw new Error(`answered ${res.statusCode}`);
      doc = asOpenApiDocument(JSON.parse(await readLimited(res.body, MAX_DOCUMENT_BYTES)));
    } catch (err) {
      if (!Buffer.isBuffer(res.body)) res.body.destroy();
      this.opts.logger.warn({ service, reason: String(err) }, 'OpenAPI document unreadable');
      throw CommonErrors.unavailable(`the routes of ${service} could not be read`, {
        headers: { 'retry-after': '5' },
        extensions: { upstream: service },
      });
    }
    const operations = operationsOf(doc, service);
    const entry = {
      doc,
      operations,
      router: buildRouter(operations, this.opts.logger, service),
      loadedAt: Date.now(),
    };
    this.loaded.set(service, entry);
    this.merged = undefined;
    return entry;
  }

  /**
   * Calls back with the operation a request is for, or its refusal: 404 when the service has no
   * such path, 405 (with Allow) when it has the path for other methods, 503 when its routes cannot
   * be read. At once when the service's document is read and decides it; otherwise once it is
   * read, or read again (a path it lacks re-reads it at most every `missRefreshMs`: the service
   * may have gained the route since).
   */
  operation(service: string, method: string, path: string, use: OperationCallback): void {
    const entry = this.loaded.get(service);
    if (entry) {
      const found = decideOperation(entry.router, method, path);
      const stale = Date.now() - entry.loadedAt > (this.opts.missRefreshMs ?? 5000);
      if (!(found instanceof AppError) || !stale) return settle(found, use);
    }
    this.refresh(service).then(
      (fresh) => settle(decideOperation(fresh.router, method, path), use),
      (err: unknown) => {
        // the read failed: the document held before (if any) still decides
        if (entry) settle(decideOperation(entry.router, method, path), use);
        else use(err as Error);
      },
    );
  }

  /** `operation` as a promise, for callers off the request path. */
  lookup(service: string, method: string, path: string): Promise<Operation> {
    return new Promise((resolve, reject) =>
      this.operation(service, method, path, (err, op) => (err ? reject(err) : resolve(op as Operation))),
    );
  }

  /** Services whose document has been read. */
  services(): string[] {
    return [...this.loaded.keys()];
  }

  operations(): Operation[] {
    return [...this.loaded.values()].flatMap((l) => l.operations);
  }

  /** Every service's document merged: the platform's API (`/api/v1/openapi.json`). */
  document(): OpenApiDocument {
    this.merged ??= mergeOpenApi(
      [...this.loaded.entries()].map(([service, l]) => ({ service, doc: l.doc })),
      this.opts.info ?? { title: 'HMS API', version: '0.1.0' },
    );
    return this.merged;
  }
}
