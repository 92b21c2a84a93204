import { addressKey, type KeyValueStore } from '@hms/platform';
import {
  isThrottled,
  retryAfterSeconds,
  startsThrottle,
  usernameKey,
  type ThrottleScope,
} from './domain/throttle.js';
import { sha256 } from './tokens.js';

export interface Throttled {
  scope: ThrottleScope;
  retryAfterSec: number;
}

export interface ThrottleLimits {
  perUsername: number;
  perIp: number;
  windowMs: number;
}

/** One login attempt: the name typed, the client's address, and the user the name resolved to. */
export interface LoginAttempt {
  username: string;
  ip: string;
  userId?: string | undefined;
}

/**
 * Failed-login counters per username, per resolved user and per client address in the shared
 * key-value store (Redis in a cluster, so every replica counts together). Usernames are counted
 * whether or not they exist, under a hash of the folded name: what someone typed is not kept in
 * the store. A name that resolved to a user also counts against that user's id, so spellings
 * that fold differently still share one limit. Addresses count by `addressKey` (an IPv6 client by
 * its /64).
 */
export class LoginThrottle {
  constructor(
    private readonly store: KeyValueStore,
    private readonly limits: ThrottleLimits,
  ) {}

  private accountCounters(a: Pick<LoginAttempt, 'username' | 'userId'>): string[] {
    const keys = [`auth:login-failures:user:${sha256(usernameKey(a.username))}`];
    if (a.userId) keys.push(`auth:login-failures:user-id:${a.userId}`);
    return keys;
  }

  private keys(a: LoginAttempt): { scope: ThrottleScope; key: string; limit: number }[] {
    return [
      ...this.accountCounters(a).map((key) => ({
        scope: 'username' as const,
        key,
        limit: this.limits.perUsername,
      })),
      { scope: 'ip', key: `auth:login-failures:ip:${addressKey(a.ip)}`, limit: this.limits.perIp },
    ];
  }

  /** Answers the throttle in force for this name, user or address, if any. */
  async check(a: LoginAttempt): Promise<Throttled | undefined> {
    for (const { scope, key, limit } of this.keys(a)) {
      const failures = Number((await this.store.get(key)) ?? 0);
      if (isThrottled(failures, limit))
        return { scope, retryAfterSec: retryAfterSeconds(await this.store.ttl(key), this.limits.windowMs) };
    }
    return undefined;
  }

  /**
   * Counts a failure; answers the throttles this failure started (each starts once per window;
   * the name's and the user's counters are one scope, answered once).
   */
  async recordFailure(a: LoginAttempt): Promise<Throttled[]> {
    const started = new Map<ThrottleScope, Throttled>();
    for (const { scope, key, limit } of this.keys(a)) {
      const failures = await this.store.incr(key, this.limits.windowMs);
      if (startsThrottle(failures, limit) && !started.has(scope))
        started.set(scope, {
          scope,
          retryAfterSec: retryAfterSeconds(await this.store.ttl(key), this.limits.windowMs),
        });
    }
    return [...started.values()];
  }

  /** A successful login clears its name's and user's failures (never the address's). */
  async recordSuccess(a: Pick<LoginAttempt, 'username' | 'userId'>): Promise<void> {
    for (const key of this.accountCounters(a)) await this.store.del(key);
  }
}
