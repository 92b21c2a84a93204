import {
  BrokenCircuitError,
  BulkheadRejectedError,
  ExponentialBackoff,
  TimeoutStrategy,
  handleWhen,
  retry,
  timeout,
  wrap,
  type IPolicy,
} from 'cockatiel';
import { Agent, request as undiciRequest } from 'undici';
import { currentContext } from '../context.js';
import { SpanKind, endSpan, startSpan } from '../tracing.js';
import type { Metrics } from './metrics.js';
import { FAILED_STATUSES, Resilience, isConnectionError, type CircuitStateName } from './resilience.js';

export { circuitStateName, type CircuitStateName } from './resilience.js';

export interface UpstreamOptions {
  /** Logical name, used in metrics and errors. */
  name: string;
  /** Resolves the base URL for each call (static URL now; the service registry later). */
  resolve: () => string | Promise<string>;
  timeoutMs?: number;
  retries?: number;
  /** Consecutive failures that open the breaker. */
  breakerThreshold?: number;
  halfOpenAfterMs?: number;
  /** Concurrent calls allowed, and calls allowed to wait for a slot. */
  maxConcurrent?: number;
  maxQueued?: number;
  /** Told the base URL of an instance that refused or dropped a connection (the balancer takes it out). */
  onConnectionError?: (baseUrl: string) => void;
  /** Token for calls a service makes on its own (no user request in context). */
  serviceToken?: () => Promise<string | undefined>;
}

export interface UpstreamResponse<T> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

class RetryableStatus extends Error {
  constructor(readonly status: number) {
    super(`upstream answered ${status}`);
  }
}

/**
 * A resilient client for one upstream service (DESIGN.md §6), on the platform's one resilience
 * core (`resilience.ts`: connection errors, breaker and its gauge, bulkhead, the 503): every call
 * has a timeout; idempotent calls retry with jittered exponential backoff on network errors and
 * 502/503/504; the upstream has a circuit breaker and a bulkhead. The request id, traceparent and
 * the caller's token travel with the call. When the upstream cannot answer, callers get a 503
 * AppError with Retry-After.
 */
export class UpstreamClient {
  private readonly agent: Agent;
  private readonly resilience: Resilience;
  private readonly idempotentPolicy: IPolicy;
  private readonly unsafePolicy: IPolicy;
  private readonly retryAfterSec: number;

  constructor(
    private readonly opts: UpstreamOptions,
    metrics?: Metrics,
  ) {
    const timeoutMs = opts.timeoutMs ?? 3000;
    const halfOpenAfterMs = opts.halfOpenAfterMs ?? 10_000;
    this.retryAfterSec = Math.max(1, Math.ceil(halfOpenAfterMs / 1000));
    this.agent = new Agent({ keepAliveTimeout: 10_000, connections: opts.maxConcurrent ?? 32 });
    this.resilience = new Resilience(
      opts.name,
      {
        breakerThreshold: opts.breakerThreshold ?? 5,
        halfOpenAfterMs,
        maxConcurrent: opts.maxConcurrent ?? 32,
        maxQueued: opts.maxQueued ?? 64,
      },
      metrics,
    );
    const perTry = timeout(timeoutMs, TimeoutStrategy.Aggressive);
    const { bulkhead: bh, breaker } = this.resilience;
    const retries = retry(
      handleWhen((err) => !(err instanceof BrokenCircuitError) && !(err instanceof BulkheadRejectedError)),
      {
        maxAttempts: opts.retries ?? 2,
        backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 1000 }),
      },
    );
    this.idempotentPolicy = wrap(bh, retries, breaker, perTry);
    this.unsafePolicy = wrap(bh, breaker, perTry);
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
    const policy = IDEMPOTENT.has(method) ? this.idempotentPolicy : this.unsafePolicy;
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
    try {
      const res = await policy.execute(async ({ signal }) => {
        const base = await this.opts.resolve();
        const r = await undiciRequest(new URL(path, base), {
          method: method as 'GET',
          headers,
          body: init.body === undefined ? undefined : JSON.stringify(init.body),
          signal,
          dispatcher: this.agent,
        }).catch((err: unknown) => {
          if (isConnectionError(err)) this.opts.onConnectionError?.(base);
          throw err;
        });
        const text = await r.body.text();
        if (FAILED_STATUSES.has(r.statusCode)) throw new RetryableStatus(r.statusCode);
        return { status: r.statusCode, headers: r.headers, body: (text ? safeJson(text) : undefined) as T };
        // a signal of this call's own: without one, cockatiel hangs every call's timeout on one shared
        // never-aborted signal, and more than ten calls at once warned MaxListenersExceeded
      }, new AbortController().signal);
      this.resilience.count(String(res.status));
      endSpan(span, undefined, { 'http.response.status_code': res.status });
      return res;
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
  }

  private async serviceAuthorization(): Promise<string | undefined> {
    const token = await this.opts.serviceToken?.();
    return token ? `Bearer ${token}` : undefined;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
