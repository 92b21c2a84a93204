import type { FastifyError, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import {
  CommonErrors,
  Lru,
  addressKey,
  MemoryStore,
  type Budget,
  type BudgetTake,
  type KeyValueStore,
} from '@hms/platform';
import { routeMatcher } from './catalog.js';
import type { RateBudget } from './config.js';

export interface RateLimitOptions {
  /** Redis: every gateway replica counts in the same keys. Memory: one process. */
  store: KeyValueStore;
  keyPrefix: string;
  /** Every request, per client address (anonymous callers included). */
  ip: RateBudget;
  /** Every authenticated request, per principal (`sub`). */
  principal: RateBudget;
  /** The auth group (login, refresh, token), per client address. */
  auth: RateBudget;
  /**
   * The auth group's routes (path templates), matched as the services' router matches them: the
   * decoded, normalised path, never the raw string (`routeMatcher`).
   */
  authPaths: readonly string[];
  /**
   * Most units one replica reserves from a shared (Redis) budget at a time; 1 asks the store on
   * every request. See `SharedLimiter`.
   */
  leaseMax: number;
  /** The client's address; its budgets are counted under its `addressKey` (an IPv6 client by /64). */
  clientIp: (request: FastifyRequest) => string;
  logger: Logger;
}

/** Probes are never limited (the routes matched, not the raw path). */
const UNLIMITED = new Set(['/health/live', '/health/ready']);
/** The share of what is left of a budget that one reservation may take. */
const LEASE_SHARE = 1 / 16;
/** Keys whose reservations a replica remembers (least recently used first out). */
const LEASES_KEPT = 10_000;
/** A failing store is reported at most this often. */
const STORE_FAILURE_LOG_MS = 10_000;

interface Lease {
  /** Reserved units not yet spent by this replica. */
  left: number;
  /** What the store had left once this replica's last reservation was taken. */
  remaining: number;
  resetAt: number;
  /** The store granted nothing: once `left` is spent, refused here until the window ends. */
  spent: boolean;
  /** Spending down to this many units left starts the next reservation ahead of need (-1: never). */
  refillAt: number;
}

interface Spent {
  remaining: number;
  resetInMs: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The tightest rate-limit budget this request spent, for its `RateLimit-*` headers. */
    rateLimit?: Spent & { limit: number };
  }
}

/**
 * The one rule of a budget on this replica: a unit of the reservation is spent while any is
 * left; a reservation the store granted nothing for refuses until its window ends; otherwise only
 * the store can tell (`'ask'`). Spends the unit it grants.
 */
function spendLease(lease: Lease, now: number): Spent | 'refused' | 'ask' {
  if (lease.left > 0) {
    lease.left--;
    return { remaining: lease.remaining + lease.left, resetInMs: lease.resetAt - now };
  }
  return lease.spent ? 'refused' : 'ask';
}

class Refused extends Error {
  constructor(readonly resetInMs: number) {
    super('rate limited');
  }
}

/**
 * One fixed-window budget per key (client address or principal), counted in the shared store so every
 * gateway replica spends the same budget. With Redis, a replica reserves several units at once,
 * a sixteenth of what is left and at most `leaseMax`, and spends them locally, so a busy key
 * costs a Redis round trip every few requests rather than on each. A reservation is counted in
 * Redis before any of it is spent, so replicas together never let more through than the limit.
 *
 * A full-size reservation (the budget is far from spent) is renewed ahead of need: when half of
 * it is spent, the next one is asked for in the background, so a busy key's requests never wait
 * for Redis (before, every request that came while the renewal was in flight waited for it, up
 * to the connection count at once). What a replica holds unspent when the window ends is lost:
 * at most a reservation and a half, a sixteenth of what was left when it reserved. Near the
 * limit reservations shrink to one unit, are never renewed ahead, and the count is exact. A spent
 * budget is refused locally until its window ends. With the memory store (embedded mode, one
 * process) every request takes one unit. When the store fails, this replica counts on its own in
 * memory rather than opening the gates.
 */
class SharedLimiter {
  private readonly leases = new Lru<string, Lease>(LEASES_KEPT);
  private readonly taking = new Map<string, Promise<unknown>>();
  private readonly budget: Budget;

  constructor(
    private readonly store: KeyValueStore,
    private readonly fallback: KeyValueStore,
    private readonly prefix: string,
    rate: RateBudget,
    private readonly leaseMax: number,
    private readonly onStoreFailure: (err: unknown) => void,
  ) {
    const shared = store.kind === 'redis' && leaseMax > 1;
    this.budget = {
      limit: rate.points,
      windowMs: rate.durationSec * 1000,
      share: shared ? LEASE_SHARE : undefined,
      maxUnits: shared ? leaseMax : undefined,
    };
  }

  get limit(): number {
    return this.budget.limit;
  }

  /**
   * Spends one unit of `key`'s budget and calls back with what is left, or with `Refused` when it
   * is spent: at once when this replica's reservation decides it (most requests), else once the
   * store has granted the next reservation (one question per key in flight: a request that finds
   * one asked waits for its answer, which may cover it too).
   */
  consume(key: string, use: (err: Error | null, spent?: Spent) => void): void {
    const now = Date.now();
    const lease = this.leases.get(key);
    const verdict = lease && lease.resetAt > now ? spendLease(lease, now) : 'ask';
    if (verdict === 'refused') return use(new Refused((lease as Lease).resetAt - now));
    if (verdict !== 'ask') {
      if ((lease as Lease).left === (lease as Lease).refillAt && !this.taking.has(key)) this.refill(key);
      return use(null, verdict);
    }
    const pending = this.taking.get(key);
    if (pending) {
      const again = () => this.consume(key, use);
      void pending.then(again, again);
      return;
    }
    const take = this.take(key);
    this.taking.set(key, take);
    take.then(
      (t) => {
        if (this.taking.get(key) === take) this.taking.delete(key);
        const fresh = this.reserved(key, t);
        const at = Date.now();
        const answer = spendLease(fresh, at);
        if (answer === 'refused' || answer === 'ask') use(new Refused(fresh.resetAt - at));
        else use(null, answer);
      },
      (err: unknown) => {
        if (this.taking.get(key) === take) this.taking.delete(key);
        use(err as Error);
      },
    );
  }

  /** The next reservation, asked for while the current one still covers the key's requests. */
  private refill(key: string): void {
    const take = this.take(key).then(
      (t) => void this.reserved(key, t),
      () => undefined, // `take` falls back to memory itself; nothing is left to fail
    );
    this.taking.set(key, take);
    void take.finally(() => {
      if (this.taking.get(key) === take) this.taking.delete(key);
    });
  }

  /** Adds what the store granted to the key's lease (what is held of an ended window is dropped). */
  private reserved(key: string, t: BudgetTake): Lease {
    const at = Date.now();
    const current = this.leases.get(key);
    const held = current && current.resetAt > at ? current.left : 0;
    const lease: Lease = {
      left: held + t.granted,
      remaining: t.remaining,
      resetAt: at + t.resetInMs,
      spent: t.granted === 0,
      // renewed ahead only while reservations are full-size; near the limit each unit is asked for
      refillAt: t.granted >= this.leaseMax && this.leaseMax >= 4 ? Math.floor(t.granted / 2) : -1,
    };
    this.leases.set(key, lease);
    return lease;
  }

  private async take(key: string) {
    const storeKey = `${this.prefix}:${key}`;
    try {
      return await this.store.takeBudget(storeKey, this.budget);
    } catch (err) {
      this.onStoreFailure(err);
      return this.fallback.takeBudget(storeKey, { limit: this.budget.limit, windowMs: this.budget.windowMs });
    }
  }
}

function headersOf(limit: number, remaining: number, resetInMs: number): Record<string, string> {
  return {
    'ratelimit-limit': String(limit),
    'ratelimit-remaining': String(Math.max(0, remaining)),
    'ratelimit-reset': String(Math.max(1, Math.ceil(resetInMs / 1000))),
  };
}

/**
 * Rate limiting (DESIGN.md §4), distributed through Redis so replicas share one budget: per
 * client address on every request (before the token is even looked at), stricter per address on
 * the auth group, and per principal once the request is authenticated. A client address is
 * counted by its `addressKey`: an IPv4 address as is, an IPv6 one by its /64, which one
 * subscriber holds whole. Which budgets apply is decided from the route the request matches
 * (percent-encoding decoded, as the service will decode it), so `/api/v1/auth/logi%6E` spends
 * the auth group's budget like `/api/v1/auth/login`. Every response carries the
 * `RateLimit-Limit/Remaining/Reset` of the tightest budget it used; a refusal is a 429 problem
 * with `Retry-After`.
 */
export const rateLimit = fp<RateLimitOptions>(
  async (app, opts) => {
    let lastFailureLog = 0;
    const onStoreFailure = (err: unknown) => {
      const now = Date.now();
      if (now - lastFailureLog < STORE_FAILURE_LOG_MS) return;
      lastFailureLog = now;
      opts.logger.warn({ err }, 'rate-limit store unavailable; this replica counts on its own meanwhile');
    };
    const fallback = new MemoryStore();
    const limiter = (name: string, rate: RateBudget) =>
      new SharedLimiter(
        opts.store,
        fallback,
        `${opts.keyPrefix}:${name}`,
        rate,
        opts.leaseMax,
        onStoreFailure,
      );
    const ip = limiter('ip', opts.ip);
    const auth = limiter('auth', opts.auth);
    const principal = limiter('principal', opts.principal);
    const inAuthGroup = routeMatcher(opts.authPaths);

    const refusal = (budget: SharedLimiter, err: unknown) => {
      if (!(err instanceof Refused)) return err as FastifyError;
      const retryAfter = String(Math.max(1, Math.ceil(err.resetInMs / 1000)));
      return CommonErrors.rate_limited('too many requests; retry later', {
        headers: { ...headersOf(budget.limit, 0, err.resetInMs), 'retry-after': retryAfter },
      }) as unknown as FastifyError;
    };
    /** Keeps the tightest budget the request spent; its headers are written once, in onSend. */
    const report = (budget: SharedLimiter, spent: Spent, request: FastifyRequest) => {
      const tightest = request.rateLimit;
      if (tightest === undefined || spent.remaining < tightest.remaining)
        request.rateLimit = { limit: budget.limit, remaining: spent.remaining, resetInMs: spent.resetInMs };
    };
    /**
     * Spends a unit of each budget in turn, then calls `done` (with the 429 when one is spent).
     * Callback-style: most requests are covered by a reservation and need no promise at all.
     */
    const spend = (
      budgets: readonly (readonly [SharedLimiter, string])[],
      request: FastifyRequest,
      done: (err?: FastifyError) => void,
      from = 0,
    ): void => {
      const next = budgets[from];
      if (!next) return done();
      const [budget, key] = next;
      budget.consume(key, (err, spent) => {
        if (err) return done(refusal(budget, err));
        report(budget, spent as Spent, request);
        spend(budgets, request, done, from + 1);
      });
    };

    app.decorateRequest('rateLimit', undefined);
    app.addHook('onRequest', (request, _reply, done) => {
      if (UNLIMITED.has(request.routeOptions.url ?? '')) return done();
      const client = addressKey(opts.clientIp(request));
      spend(
        inAuthGroup(request.method, request.url)
          ? [
              [ip, client],
              [auth, client],
            ]
          : [[ip, client]],
        request,
        done,
      );
    });

    app.addHook('preHandler', (request, _reply, done) => {
      if (!request.principal) return done();
      spend([[principal, request.principal.sub]], request, done);
    });

    // a refusal carries its own headers, and so may an upstream's answer (the auth service's)
    app.addHook('onSend', (request, reply, payload, done) => {
      const spent = request.rateLimit;
      if (spent !== undefined && !reply.hasHeader('ratelimit-limit'))
        reply.headers(headersOf(spent.limit, spent.remaining, spent.resetInMs));
      done(null, payload);
    });

    app.addHook('onClose', async () => fallback.close());
  },
  { name: 'hms-gateway-rate-limit', fastify: '5.x' },
);
