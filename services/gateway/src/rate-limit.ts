import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import { CommonErrors, type KeyValueStore } from '@hms/platform';
import type { RateBudget } from './config.js';

export interface RateLimitOptions {
  /** Redis: every gateway replica counts in the same keys. Memory: one process. */
  store: KeyValueStore;
  keyPrefix: string;
  /** Every request, per client IP (anonymous callers included). */
  ip: RateBudget;
  /** Every authenticated request, per principal (`sub`). */
  principal: RateBudget;
  /** The auth group (login, refresh, token), per client IP. */
  auth: RateBudget;
  authPaths: readonly string[];
  clientIp: (request: FastifyRequest) => string;
  logger: Logger;
}

/** Probes and scrapes are never limited. */
const UNLIMITED = new Set(['/health/live', '/health/ready', '/metrics']);

/** Memory limiters of gateways sharing one (embedded) store share their counters too. */
const shared = new WeakMap<KeyValueStore, Map<string, RateLimiterMemory>>();

function limiterFor(store: KeyValueStore, keyPrefix: string, budget: RateBudget): RateLimiterAbstract {
  const base = { keyPrefix, points: budget.points, duration: budget.durationSec };
  if (store.kind === 'redis') {
    return new RateLimiterRedis({
      ...base,
      storeClient: (store as KeyValueStore & { client: unknown }).client, // RedisStore's ioredis
      rejectIfRedisNotReady: true,
      // Redis unreachable: each replica goes on counting on its own rather than opening the gates
      insuranceLimiter: new RateLimiterMemory(base),
    });
  }
  let byKey = shared.get(store);
  if (!byKey) shared.set(store, (byKey = new Map<string, RateLimiterMemory>()));
  const key = `${keyPrefix}|${budget.points}|${budget.durationSec}`;
  let limiter = byKey.get(key);
  if (!limiter) byKey.set(key, (limiter = new RateLimiterMemory(base)));
  return limiter;
}

function headersOf(limit: number, res: RateLimiterRes): Record<string, string> {
  return {
    'ratelimit-limit': String(limit),
    'ratelimit-remaining': String(Math.max(0, res.remainingPoints)),
    'ratelimit-reset': String(Math.ceil(res.msBeforeNext / 1000)),
  };
}

/**
 * Rate limiting (DESIGN.md §4), distributed through Redis so replicas share one budget: per
 * client IP on every request (before the token is even looked at), stricter per IP on the auth
 * group, and per principal once the request is authenticated. Every response carries the
 * `RateLimit-Limit/Remaining/Reset` of the tightest budget it used; a refusal is a 429 problem
 * with `Retry-After`.
 */
export const rateLimit = fp<RateLimitOptions>(
  async (app, opts) => {
    const ip = limiterFor(opts.store, `${opts.keyPrefix}:ip`, opts.ip);
    const auth = limiterFor(opts.store, `${opts.keyPrefix}:auth`, opts.auth);
    const principal = limiterFor(opts.store, `${opts.keyPrefix}:principal`, opts.principal);
    const authPaths = new Set(opts.authPaths);

    const consume = async (limiter: RateLimiterAbstract, key: string, reply: FastifyReply) => {
      let res: RateLimiterRes;
      try {
        res = await limiter.consume(key);
      } catch (err) {
        if (!(err instanceof RateLimiterRes)) {
          opts.logger.warn({ err }, 'rate limiter unavailable; request let through');
          return;
        }
        const retryAfter = String(Math.max(1, Math.ceil(err.msBeforeNext / 1000)));
        throw CommonErrors.rate_limited('too many requests; retry later', {
          headers: { ...headersOf(limiter.points, err), 'retry-after': retryAfter },
        });
      }
      const current = Number(reply.getHeader('ratelimit-remaining') ?? Number.POSITIVE_INFINITY);
      if (res.remainingPoints < current) reply.headers(headersOf(limiter.points, res));
    };

    app.addHook('onRequest', async (request, reply) => {
      const path = request.url.split('?')[0] ?? request.url;
      if (UNLIMITED.has(path)) return;
      const client = opts.clientIp(request);
      await consume(ip, client, reply);
      if (authPaths.has(path)) await consume(auth, client, reply);
    });

    app.addHook('preHandler', async (request, reply) => {
      if (request.principal) await consume(principal, request.principal.sub, reply);
    });
  },
  { name: 'hms-gateway-rate-limit', fastify: '5.x' },
);
