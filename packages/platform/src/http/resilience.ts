import {
  BrokenCircuitError,
  BulkheadRejectedError,
  CircuitState,
  ConsecutiveBreaker,
  TaskCancelledError,
  bulkhead,
  circuitBreaker,
  handleWhen,
  type CircuitBreakerPolicy,
  type BulkheadPolicy,
} from 'cockatiel';
import type { Logger } from 'pino';
import { CommonErrors, type AppError } from '../errors.js';
import { NoInstanceError } from '../registry.js';
import type { Metrics } from './metrics.js';

/*
 * The parts every resilient HTTP client of the platform shares (DESIGN.md §6): the kit's
 * `UpstreamClient` (a service calling another) and the gateway's forwarding. One list of
 * connection errors, one circuit breaker with its one gauge, one bulkhead, one way of telling a
 * caller that an upstream cannot answer.
 */

/** Errors that mean the instance could not be reached (the request was not processed). */
export const CONNECT_FAILURES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Errors of a connection that broke: an idempotent request may be sent again, to another instance. */
export const CONNECTION_ERRORS: ReadonlySet<string> = new Set([
  ...CONNECT_FAILURES,
  'ECONNRESET',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

/** Answers of an upstream that count as its failure (the breaker) and that a retry may get past. */
export const FAILED_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

/** The code of a Node or undici error, or of its cause. */
export function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = e?.code ?? e?.cause?.code;
  return typeof code === 'string' ? code : undefined;
}

export const isConnectionError = (err: unknown): boolean => CONNECTION_ERRORS.has(errorCode(err) ?? '');
export const isConnectFailure = (err: unknown): boolean => CONNECT_FAILURES.has(errorCode(err) ?? '');

export type CircuitStateName = 'closed' | 'half-open' | 'open' | 'isolated';

export function circuitStateName(state: CircuitState): CircuitStateName {
  switch (state) {
    case CircuitState.Closed:
      return 'closed';
    case CircuitState.HalfOpen:
      return 'half-open';
    case CircuitState.Open:
      return 'open';
    case CircuitState.Isolated:
      return 'isolated';
  }
}

export interface ResilienceSettings {
  /** Consecutive failures that open the breaker. */
  breakerThreshold: number;
  halfOpenAfterMs: number;
  /** Calls in flight at once, and calls allowed to wait for a slot. */
  maxConcurrent: number;
  maxQueued: number;
}

/**
 * The breaker and the bulkhead of one upstream. The breaker counts as a failure any error but
 * the client's own refusals (`ignore`, the open circuit, a full bulkhead) and any answer
 * `failedAnswer` says failed; its state is the `circuit_breaker_state` gauge (0 closed, 1
 * half-open, 2 open) and each change is logged.
 */
export class Resilience {
  readonly breaker: CircuitBreakerPolicy;
  readonly bulkhead: BulkheadPolicy;

  constructor(
    readonly name: string,
    readonly settings: ResilienceSettings,
    private readonly metrics: Metrics | undefined,
    opts: {
      logger?: Logger | undefined;
      ignore?: (err: unknown) => boolean;
      failedAnswer?: (result: unknown) => boolean;
    } = {},
  ) {
    const counted = handleWhen(
      (err) =>
        !(err instanceof BrokenCircuitError) &&
        !(err instanceof BulkheadRejectedError) &&
        !opts.ignore?.(err),
    );
    this.breaker = circuitBreaker(opts.failedAnswer ? counted.orWhenResult(opts.failedAnswer) : counted, {
      halfOpenAfter: settings.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(settings.breakerThreshold),
    });
    const gauge = () => metrics?.breakerState.set({ upstream: name }, stateValue(this.breaker.state));
    this.breaker.onStateChange(() => {
      gauge();
      opts.logger?.warn({ upstream: name, state: this.circuitState }, 'circuit breaker changed state');
    });
    gauge();
    this.bulkhead = bulkhead(settings.maxConcurrent, settings.maxQueued);
  }

  get circuitState(): CircuitStateName {
    return circuitStateName(this.breaker.state);
  }

  /** Counts one call by its outcome (`http_client_requests_total`): a status, or what went wrong. */
  count(outcome: string): void {
    this.metrics?.upstreamRequests.inc({ upstream: this.name, outcome });
  }

  /** What went wrong with a call that did not answer, by the one naming every client uses. */
  outcomeOf(err: unknown): string {
    if (err instanceof BrokenCircuitError) return 'circuit_open';
    if (err instanceof BulkheadRejectedError) return 'bulkhead_full';
    if (err instanceof TaskCancelledError) return 'timeout';
    if (err instanceof NoInstanceError) return 'no_instance';
    return 'error';
  }

  /** The 503 a caller gets when the upstream cannot answer, with the Retry-After that fits. */
  unavailable(outcome: string, detail: string, retryAfterSec?: number): AppError {
    const after =
      retryAfterSec ??
      (outcome === 'circuit_open' ? Math.max(1, Math.ceil(this.settings.halfOpenAfterMs / 1000)) : 1);
    return CommonErrors.unavailable(`${this.name} ${detail}`, {
      headers: { 'retry-after': String(after) },
      extensions: { upstream: this.name },
    });
  }
}

function stateValue(state: CircuitState): number {
  return state === CircuitState.Closed ? 0 : state === CircuitState.HalfOpen ? 1 : 2;
}
