import type { Logger } from 'pino';
import { Agent, request as undiciRequest } from 'undici';
import { currentContext } from '../context.js';
import { SpanKind, endSpan, startSpan } from '../tracing.js';
import type { Metrics } from './metrics.js';
import { FAILED_STATUSES, Resilience, type CircuitStateName } from './resilience.js';

export { circuitStateName, type CircuitStateName } from './resilience.js';

export interface UpstreamOptions {
  /** Logical name, used in metrics and errors. */
  name: string;
  /** Resolves the base URL for each call (static URL now; the service registry later). */
  resolve: () => string | Promise<string>;
  /** A call's deadline, its tries included (default 3 s). */
  timeoutMs?: number;
  /** Tries after the first for an idempotent call (default 2). */
  retries?: number;
  /** Consecutive failed calls that open the breaker. */
  breakerThreshold?: number;
  halfOpenAfterMs?: number;
  /** Concurrent calls allowed, and calls allowed to wait for a slot. */
  maxConcurrent?: number;
  maxQueued?: number;
  /** Told the base URL of an instance that could not be reached (the balancer takes it out). */
  markDown?: (baseUrl: string) => void;
  /** Where a retry and a breaker's change of state are told. */
  logger?: Logger;
  /** Token for calls a service makes on its own (no user request in context). */
  serviceToken?: () => Promise<string | undefined>;
}

export interface UpstreamResponse<T> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

/** The kit's answers are read whole: nothing to let go of when one is dropped for another try. */
const READ_WHOLE = {
  status: (a: UpstreamResponse<unknown>) => a.status,
  saysWhen: (a: UpstreamResponse<unknown>) => a.headers['retry-after'] !== undefined,
  drop: () => undefined,
};

/**
 * A resilient client for one upstream service (DESIGN.md §6) on the platform's one resilient-call
 * core (`resilience.ts`, ADR 0020): a bulkhead and a circuit breaker per upstream, one deadline
 * per call covering its tries, idempotent calls sent again as the one retry rule says (connection
 * errors, 502/503/504 without Retry-After, jittered backoff). The request id, traceparent and the
 * caller's token travel with the call. When the upstream cannot answer, callers get a 503
 * AppError with Retry-After.
 */
export class UpstreamClient {
  private readonly agent: Agent;
  private readonly resilience: Resilience<UpstreamResponse<unknown>>;
  private readonly retryAfterSec: number;

  constructor(
    private readonly opts: UpstreamOptions,
    metrics?: Metrics,
  ) {
    const halfOpenAfterMs = opts.halfOpenAfterMs ?? 10_000;
    this.retryAfterSec = Math.max(1, Math.ceil(halfOpenAfterMs / 1000));
    this.agent = new Agent({ keepAliveTimeout: 10_000, connections: opts.maxConcurrent ?? 32 });
    this.resilience = new Resilience(
      opts.name,
      {
        timeoutMs: opts.timeoutMs ?? 3000,
        retries: opts.retries ?? 2,
        breakerThreshold: opts.breakerThreshold ?? 5,
        halfOpenAfterMs,
        maxConcurrent: opts.maxConcurrent ?? 32,
        maxQueued: opts.maxQueued ?? 64,
      },
      metrics,
      { answers: READ_WHOLE, logger: opts.logger, markDown: opts.markDown },
    );
  }

  get circuitState(): CircuitStateName {
    return this.resilience.circuitState;
  }

  async request<T = unknown>(
    method: string,
    path: string,
    init: {
      body?: unknown;
      headers?: Record<string, string>;
      /** Call with this service's own token even inside a user's request (a read-through). */
      asService?: boolean;
    } = {},
  ): Promise<UpstreamResponse<T>> {
    const ctx = currentContext();
    const headers: Record<string, string> = { accept: 'application/json', ...init.headers };
    if (ctx?.requestId) headers['x-request-id'] = ctx.requestId;
    const { span, traceparent } = startSpan(
      `${method} ${this.opts.name}`,
      SpanKind.CLIENT,
      ctx?.traceparent,
      {
        'http.request.method': method,
        'server.address': this.opts.name,
      },
    );
    headers.traceparent = traceparent;
    const auth = init.asService
      ? await this.serviceAuthorization()
      : (ctx?.authorization ?? (await this.serviceAuthorization()));
    if (auth && !headers.authorization) headers.authorization = auth;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    // a signal of this call's own, aborted at its deadline
    const abort = new AbortController();
    const body = init.body === undefined ? undefined : JSON.stringify(init.body);
    let res: UpstreamResponse<unknown>;
    try {
      res = await this.resilience.call(
        async (tried) => {
          const base = await this.opts.resolve();
          tried.instance = base;
          const r = await undiciRequest(new URL(path, base), {
            method: method as 'GET',
            headers,
            body,
            signal: abort.signal,
            dispatcher: this.agent,
          });
          const text = await r.body.text();
          return { status: r.statusCode, headers: r.headers, body: text ? safeJson(text) : undefined };
        },
        {
          retryable: IDEMPOTENT.has(method),
          abort: (reason) => abort.abort(reason),
          stopped: () => (abort.signal.aborted ? (abort.signal.reason as Error) : undefined),
        },
      );
    } catch (err) {
      endSpan(span, err);
      const outcome = this.resilience.outcomeOf(err);
      this.resilience.count(outcome);
      throw this.resilience.unavailable(
        outcome,
        `is unavailable (${outcome.replace('_', ' ')})`,
        this.retryAfterSec,
      );
    }
    this.resilience.count(String(res.status));
    endSpan(span, undefined, { 'http.response.status_code': res.status });
    // a failed status the retries did not get past: the upstream cannot answer
    if (FAILED_STATUSES.has(res.status))
      throw this.resilience.unavailable(
        String(res.status),
        `is unavailable (answered ${res.status})`,
        retryAfterOf(res.headers['retry-after']) ?? this.retryAfterSec,
      );
    return res as UpstreamResponse<T>;
  }

  private async serviceAuthorization(): Promise<string | undefined> {
    const token = await this.opts.serviceToken?.();
    return token ? `Bearer ${token}` : undefined;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/** An upstream's `Retry-After` in seconds, when it gave one (its word on when to come back). */
function retryAfterOf(value: string | string[] | undefined): number | undefined {
  const seconds = typeof value === 'string' ? Number(value) : Number.NaN;
  return Number.isInteger(seconds) && seconds >= 0 ? Math.max(1, seconds) : undefined;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
