import type { Readable } from 'node:stream';
import { BrokenCircuitError, BulkheadRejectedError } from 'cockatiel';
import { Agent } from 'undici';
import type { Logger } from 'pino';
import {
  CallTimeout,
  CommonErrors,
  NoInstanceError,
  Resilience,
  errorCode,
  type AnswerReading,
  type AppError,
  type CircuitStateName,
  type LoadBalancer,
  type Metrics,
} from '@hms/platform';
import { AnswerHandler, UpstreamCall, type UpstreamResponse } from './answer.js';

export interface UpstreamSettings {
  /** Until the upstream's response headers arrive, retries included. */
  timeoutMs: number;
  /** The longest an operation may ask for (`x-timeout-ms`). */
  maxTimeoutMs: number;
  /** Tries after the first for a retryable request (ADR 0020's rule). */
  retries: number;
  /** Longest pause between two chunks of a response body. */
  bodyTimeoutMs: number;
  breakerThreshold: number;
  halfOpenAfterMs: number;
  maxConcurrent: number;
  maxQueued: number;
  /** How long the balancer leaves out an instance that refused a connection. */
  downForMs: number;
}

export interface UpstreamRequest {
  method: string;
  /** Path and query exactly as the client sent them (no normalisation: the service routes them). */
  path: string;
  headers: Record<string, string | string[]>;
  body?: Readable | undefined;
  /** Whether the request may be sent again to another instance (idempotent and bodiless). */
  retryable: boolean;
  /** The operation's own timeout (`x-timeout-ms`), up to `maxTimeoutMs`; else `timeoutMs`. */
  timeoutMs?: number | undefined;
  /**
   * Aborts the call: the proxy hands over the call it abandons (with `abandon`) when the client
   * goes away, and the timeout aborts the same one.
   */
  call?: UpstreamCall | undefined;
  /**
   * Answers of known length up to this many bytes are read whole before `dispatch` answers (one
   * write to the client instead of a stream); larger ones, or of unknown length, stream. Default 0.
   */
  bufferUpTo?: number | undefined;
}

export { UpstreamCall, type UpstreamResponse } from './answer.js';

/** The request body went over the limit while it was streamed upstream. */
export class BodyTooLargeError extends Error {
  constructor() {
    super('request body too large');
    this.name = 'BodyTooLargeError';
  }
}

/** How the core reads a forwarded answer; one dropped for another try lets its stream go. */
const FORWARDED: AnswerReading<UpstreamResponse> = {
  status: (a) => a.statusCode,
  saysWhen: (a) => a.headers['retry-after'] !== undefined,
  drop: (a) => {
    if (!Buffer.isBuffer(a.body)) a.body.destroy();
  },
};

/**
 * One upstream service as the gateway calls it (DESIGN.md §6): instances from the load balancer
 * (registry, then `<SERVICE>_URL`), an undici Agent keeping connections to them, and the kit's
 * resilient-call core around each request (`Resilience`, ADR 0020: bulkhead, circuit breaker and
 * its gauge, one deadline until the response headers, retries included, and the one retry rule:
 * an instance that refuses a connection leaves rotation and an idempotent bodiless request goes to
 * another). Request bodies stream; answers too, but for small ones of known length.
 */
export class Upstream {
  readonly agent: Agent;
  private readonly resilience: Resilience<UpstreamResponse>;
  private readonly targets = new Map<string, { origin: string; path: string }>();

  constructor(
    readonly name: string,
    private readonly balancer: LoadBalancer,
    private readonly settings: UpstreamSettings,
    metrics: Metrics,
    private readonly logger: Logger,
  ) {
    this.agent = new Agent({
      connections: settings.maxConcurrent,
      keepAliveTimeout: 10_000,
      headersTimeout: settings.timeoutMs,
      bodyTimeout: settings.bodyTimeoutMs,
      connect: { timeout: Math.min(settings.timeoutMs, 10_000) },
    });
    this.resilience = new Resilience(name, settings, metrics, {
      answers: FORWARDED,
      logger,
      // the client's doing, not the upstream's: never counted against it
      ignore: (err) => err instanceof BodyTooLargeError || err instanceof ClientGone,
      markDown: (instance) => balancer.markDown(instance),
    });
  }

  get circuitState(): CircuitStateName {
    return this.resilience.circuitState;
  }

  /**
   * Sends a request and answers the upstream's response (small answers read whole, as
   * `bufferUpTo` says; others with the body still streaming). When the upstream cannot answer,
   * throws a 503 AppError with Retry-After (413 when the body overflowed).
   */
  async dispatch(req: UpstreamRequest): Promise<UpstreamResponse> {
    // One call per request is aborted at the deadline or when the client goes away; its reason
    // tells which (a client hanging up is not the upstream failing). A streamed body goes on after
    // the headers: only the wait for them (and for a small answer's body) is bounded.
    const call = req.call ?? new UpstreamCall();
    try {
      const timeoutMs =
        req.timeoutMs === undefined ? undefined : Math.min(req.timeoutMs, this.settings.maxTimeoutMs);
      const res = await this.resilience.call((tried) => this.attempt(req, call, tried, timeoutMs), {
        retryable: req.retryable,
        timeoutMs,
        abort: (reason) => call.abort(reason),
        stopped: () => call.reason,
      });
      this.resilience.count(String(res.statusCode));
      return res;
    } catch (err) {
      const failure = this.toAppError(err, req, call);
      this.resilience.count(failure.outcome);
      if (failure.outcome === 'error')
        this.logger.warn(
          { upstream: this.name, code: errorCode(err) ?? String(err) },
          'upstream call failed',
        );
      throw failure.error;
    }
  }

  /**
   * One try: the instance the balancer picks (at once when it holds the list), then the request
   * to it; `tried.instance` says which instance, unset when none could be picked.
   */
  private attempt(
    req: UpstreamRequest,
    call: UpstreamCall,
    tried: { instance?: string },
    timeoutMs: number | undefined,
  ): Promise<UpstreamResponse> {
    return new Promise<UpstreamResponse>((resolve, reject) => {
      this.balancer.pickThen(this.name, (err, base) => {
        if (err || base === undefined) return reject(err ?? new NoInstanceError(this.name));
        const stopped = call.reason; // CallTimeout or ClientGone: no further try
        if (stopped) return reject(stopped);
        tried.instance = base;
        const target = this.target(base);
        this.agent.dispatch(
          {
            origin: target.origin,
            path: target.path + req.path,
            method: req.method,
            headers: req.headers,
            body: req.body ?? null,
            // the agent's own headers timeout is the default's; an operation's own replaces it
            ...(timeoutMs === undefined ? {} : { headersTimeout: timeoutMs }),
          },
          new AnswerHandler(call, req.bufferUpTo ?? 0, resolve, reject),
        );
      });
    });
  }

  /** An instance's URL split once into origin and path prefix (instances are few and long-lived). */
  private target(base: string): { origin: string; path: string } {
    let t = this.targets.get(base);
    if (!t) {
      const url = new URL(base);
      t = { origin: url.origin, path: url.pathname.replace(/\/$/, '') };
      if (this.targets.size >= 1000) this.targets.clear();
      this.targets.set(base, t);
    }
    return t;
  }

  private toAppError(
    err: unknown,
    req: UpstreamRequest,
    call: UpstreamCall,
  ): { error: AppError; outcome: string } {
    const unavailable = (outcome: string, detail: string, retryAfterSec?: number) => ({
      outcome,
      error: this.resilience.unavailable(outcome, detail, retryAfterSec),
    });
    if (err instanceof BodyTooLargeError || (req.body as { tooLarge?: boolean } | undefined)?.tooLarge)
      return { outcome: 'payload_too_large', error: CommonErrors.payload_too_large() };
    if (err instanceof BrokenCircuitError)
      return unavailable('circuit_open', 'is unavailable (circuit open)');
    if (err instanceof BulkheadRejectedError)
      return unavailable('bulkhead_full', 'is busy (too many requests in flight)', 1);
    if (err instanceof ClientGone || call.reason instanceof ClientGone)
      return unavailable('client_gone', 'call abandoned by the client', 1);
    if (err instanceof CallTimeout) return unavailable('timeout', 'did not answer in time', 1);
    if (err instanceof NoInstanceError)
      return unavailable(
        'no_instance',
        'has no available instance',
        Math.max(1, Math.ceil(this.settings.downForMs / 1000)),
      );
    return unavailable('error', 'could not be reached', 1);
  }

  /** `GET path` on one instance, bypassing the breaker (readiness of every instance). */
  async probe(base: string, path: string, timeoutMs: number): Promise<number> {
    const url = new URL(base);
    const res = await this.agent.request({
      origin: url.origin,
      path: url.pathname.replace(/\/$/, '') + path,
      method: 'GET',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body.dump();
    return res.statusCode;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/** The client closed its connection before the upstream answered. */
class ClientGone extends Error {
  constructor() {
    super('client closed the connection');
    this.name = 'ClientGone';
  }
}

/** Aborts a request's upstream call because its client went away (not counted as a failure). */
export function abandon(call: UpstreamCall): void {
  call.abort(new ClientGone());
}

/** Reads a response body up to `maxBytes` (documents the gateway reads itself, never a proxied one). */
export async function readLimited(body: Buffer | Readable, maxBytes: number): Promise<string> {
  if (Buffer.isBuffer(body)) {
    if (body.length > maxBytes) throw new Error(`body larger than ${maxBytes} bytes`);
    return body.toString('utf8');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    size += buf.length;
    if (size > maxBytes) {
      body.destroy();
      throw new Error(`body larger than ${maxBytes} bytes`);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** One `Upstream` per service, made on first use. */
export class Upstreams {
  private readonly byName = new Map<string, Upstream>();

  constructor(
    readonly balancer: LoadBalancer,
    private readonly settings: UpstreamSettings,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {}

  get(name: string): Upstream {
    let u = this.byName.get(name);
    if (!u) {
      u = new Upstream(name, this.balancer, this.settings, this.metrics, this.logger);
      this.byName.set(name, u);
    }
    return u;
  }

  async close(): Promise<void> {
    await Promise.all([...this.byName.values()].map((u) => u.close()));
  }
}
