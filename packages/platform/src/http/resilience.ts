import {
  BrokenCircuitError,
  BulkheadRejectedError,
  CircuitState,
  ConsecutiveBreaker,
  bulkhead,
  circuitBreaker,
  handleWhen,
  wrap,
  type CircuitBreakerPolicy,
  type BulkheadPolicy,
  type IPolicy,
} from 'cockatiel';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { CommonErrors, type AppError } from '../errors.js';
import { NoInstanceError } from '../registry.js';
import type { Metrics } from './metrics.js';

/*
 * The one resilient-call core of the platform (DESIGN.md §6, ADR 0020), under both of its HTTP
 * clients: the kit's `UpstreamClient` (a service calling another) and the gateway's forwarding.
 * One bulkhead, one circuit breaker with its one gauge, one deadline per call covering all its
 * tries, one retry rule (`nextTry`) over one list of connection errors, one way of telling a
 * caller that an upstream cannot answer. The clients differ only in how one try is sent and in
 * what they make of the answer.
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

/** A call ran past its deadline (its tries included). */
export class CallTimeout extends Error {
  constructor() {
    super('upstream did not answer in time');
    this.name = 'CallTimeout';
  }
}

/** How one try of a call ended, as the retry rule reads it. */
export interface TryOutcome {
  /** This try was the n-th (1-based). */
  attempt: number;
  /** Tries allowed after the first. */
  retries: number;
  /** The request may be sent again: an idempotent method, and no body already streamed away. */
  retryable: boolean;
  /** What the try threw (it reached no answer)... */
  error?: unknown;
  /** ...or the status it was answered. */
  status?: number;
  /** The answer says when to come back (`Retry-After`): the upstream's word, passed to the caller. */
  saysWhen?: boolean;
  /** Milliseconds left before the call's deadline. */
  remainingMs: number;
}

export interface NextTry {
  /** Send the request again. */
  again: boolean;
  /** After this pause (0: at once). */
  delayMs: number;
  /** The instance could not be reached: out of rotation for a while. */
  markDown: boolean;
  /** Why it is sent again (the error code or the status), for the retry counter. */
  reason: string;
}

/**
 * The one retry rule of every outbound call (ADR 0020). The instance is taken out of rotation
 * when a connection to it could not be made (a reset or closed connection says nothing of the
 * instance: one pooled socket broke). A retryable request is sent again, within its tries, after
 * a connection error of the one list or a failed status (502/503/504) whose answer does not say
 * when to come back; never after the deadline, an error of another kind, or a 4xx. A refused
 * connection is retried at once (the next pick is another instance); any other failure after a
 * jittered backoff (the same upstream may be struggling), and only when the pause leaves time
 * before the deadline.
 */
export function nextTry(t: TryOutcome, random: () => number = Math.random): NextTry {
  const code = t.error === undefined ? undefined : errorCode(t.error);
  const markDown = code !== undefined && CONNECT_FAILURES.has(code);
  const failedStatus =
    t.error === undefined && t.status !== undefined && FAILED_STATUSES.has(t.status) && !t.saysWhen;
  const failed = failedStatus || (code !== undefined && CONNECTION_ERRORS.has(code));
  const delayMs = !failed || markDown ? 0 : backoffMs(t.attempt, random);
  const again = failed && t.retryable && t.attempt <= t.retries && delayMs < t.remainingMs;
  return {
    again,
    delayMs: again ? delayMs : 0,
    markDown,
    reason: code ?? String(t.status ?? 'error'),
  };
}

/** The pause before try n+1: exponential from 50 ms, capped at 1 s, the upper half jittered. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const cap = Math.min(1000, 50 * 2 ** (attempt - 1));
  return Math.round(cap / 2 + (random() * cap) / 2);
}

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
  /** A call's deadline, its tries and the pauses between them included. */
  timeoutMs: number;
  /** Tries allowed after the first, for a retryable request. */
  retries: number;
  /** Consecutive failed calls that open the breaker. */
  breakerThreshold: number;
  halfOpenAfterMs: number;
  /** Calls in flight at once, and calls allowed to wait for a slot. */
  maxConcurrent: number;
  maxQueued: number;
}

/** How a client reads its answers, for the breaker and the retry rule. */
export interface AnswerReading<A> {
  status(answer: A): number;
  /** The answer carries `Retry-After`. */
  saysWhen(answer: A): boolean;
  /** Lets go of an answer dropped for another try (its body). */
  drop(answer: A): void;
}

/** One call, as the core runs it. */
export interface CallPlan {
  /** The request may be sent again (an idempotent method, and no body streamed away). */
  retryable: boolean;
  /** This call's deadline, when not the upstream's default (`settings.timeoutMs`). */
  timeoutMs?: number | undefined;
  /** Ends the try in flight, and the call, with this reason (the deadline). */
  abort(reason: Error): void;
  /** Why the call was ended, if it was: the deadline, or the caller's own reason. */
  stopped(): Error | undefined;
}

/** One try: picks an instance, names it in `tried`, and sends the request to it. */
export type SendTry<A> = (tried: { instance?: string }) => Promise<A>;

/**
 * The resilience of one upstream: a bulkhead, then a circuit breaker, around each call; within
 * them the call's deadline and its tries as `nextTry` rules. The breaker counts a call (its tries
 * together) as failed when it throws anything but the client's own refusals (`ignore`, the open
 * circuit, a full bulkhead) or ends on a failed status; its state is the `circuit_breaker_state`
 * gauge (0 closed, 1 half-open, 2 open) and each change is logged. Each retry is counted in
 * `http_client_retries_total` by its reason.
 */
export class Resilience<A> {
  readonly breaker: CircuitBreakerPolicy;
  readonly bulkhead: BulkheadPolicy;
  private readonly policy: IPolicy;

  constructor(
    readonly name: string,
    readonly settings: ResilienceSettings,
    private readonly metrics: Metrics | undefined,
    private readonly opts: {
      answers: AnswerReading<A>;
      logger?: Logger | undefined;
      ignore?: (err: unknown) => boolean;
      /** Takes an instance that could not be reached out of rotation (the load balancer). */
      markDown?: ((instance: string) => void) | undefined;
    },
  ) {
    const counted = handleWhen(
      (err) =>
        !(err instanceof BrokenCircuitError) &&
        !(err instanceof BulkheadRejectedError) &&
        !opts.ignore?.(err),
    ).orWhenResult((answer) => FAILED_STATUSES.has(opts.answers.status(answer as A)));
    this.breaker = circuitBreaker(counted, {
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
    this.policy = wrap(this.bulkhead, this.breaker);
  }

  get circuitState(): CircuitStateName {
    return circuitStateName(this.breaker.state);
  }

  /**
   * Runs one call: through the bulkhead and the breaker, then tries until one is answered (or
   * fails) in a way the retry rule does not send again. The deadline starts once the bulkhead lets
   * the call through (its queue has its own bound) and aborts the try in flight through `plan`.
   */
  async call(send: SendTry<A>, plan: CallPlan): Promise<A> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeoutMs = plan.timeoutMs ?? this.settings.timeoutMs;
      return await this.policy.execute(() => {
        const deadline = Date.now() + timeoutMs;
        timer = setTimeout(() => plan.abort(new CallTimeout()), timeoutMs);
        return this.tries(send, plan, deadline);
      });
    } finally {
      clearTimeout(timer);
    }
  }

  private async tries(send: SendTry<A>, plan: CallPlan, deadline: number): Promise<A> {
    let lastError: unknown;
    for (let attempt = 1; ; attempt++) {
      const tried: { instance?: string } = {};
      let answer: A;
      try {
        answer = await send(tried);
      } catch (err) {
        const stopped = plan.stopped();
        if (stopped) throw stopped;
        // no instance could be picked: every one failed in this call, whose own error says more
        if (tried.instance === undefined) throw lastError ?? err;
        const next = this.next({ attempt, retryable: plan.retryable, error: err }, deadline, tried.instance);
        if (!next.again) throw err;
        lastError = err;
        await this.pause(next.delayMs, plan);
        continue;
      }
      const { answers } = this.opts;
      const status = answers.status(answer);
      if (!FAILED_STATUSES.has(status)) return answer; // the rule's first test, without its work
      const next = this.next(
        { attempt, retryable: plan.retryable, status, saysWhen: answers.saysWhen(answer) },
        deadline,
        tried.instance,
      );
      if (!next.again) return answer;
      answers.drop(answer);
      await this.pause(next.delayMs, plan);
    }
  }

  private next(
    t: Omit<TryOutcome, 'retries' | 'remainingMs'>,
    deadline: number,
    instance: string | undefined,
  ): NextTry {
    const next = nextTry({ ...t, retries: this.settings.retries, remainingMs: deadline - Date.now() });
    if (next.markDown && instance !== undefined) this.opts.markDown?.(instance);
    if (next.again) {
      this.metrics?.upstreamRetries.inc({ upstream: this.name, reason: next.reason });
      this.opts.logger?.info(
        { upstream: this.name, reason: next.reason, attempt: t.attempt },
        'sending the request again',
      );
    }
    return next;
  }

  private async pause(delayMs: number, plan: CallPlan): Promise<void> {
    if (delayMs > 0) await sleep(delayMs);
    const stopped = plan.stopped();
    if (stopped) throw stopped;
  }

  /** Counts one call by its outcome (`http_client_requests_total`): a status, or what went wrong. */
  count(outcome: string): void {
    this.metrics?.upstreamRequests.inc({ upstream: this.name, outcome });
  }

  /** What went wrong with a call that did not answer, by the one naming every client uses. */
  outcomeOf(err: unknown): string {
    if (err instanceof BrokenCircuitError) return 'circuit_open';
    if (err instanceof BulkheadRejectedError) return 'bulkhead_full';
    if (err instanceof CallTimeout) return 'timeout';
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
