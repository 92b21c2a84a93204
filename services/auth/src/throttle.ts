import type { KeyValueStore } from '@hms/platform';
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

/**
 * Failed-login counters per username and per client address in the shared key-value store
 * (Redis in a cluster, so every replica counts together). Usernames are counted whether or not
 * they exist, under a hash of the folded name: what someone typed is not kept in the store.
 */
export class LoginThrottle {
  constructor(
    private readonly store: KeyValueStore,
    private readonly limits: ThrottleLimits,
  ) {}

  private usernameCounter(username: string): string {
    return `auth:login-failures:user:${sha256(usernameKey(username))}`;
  }

  private keys(username: string, ip: string): { scope: ThrottleScope; key: string; limit: number }[] {
    return [
      { scope: 'username', key: this.usernameCounter(username), limit: this.limits.perUsername },
      { scope: 'ip', key: `auth:login-failures:ip:${ip}`, limit: this.limits.perIp },
    ];
  }

  /** Answers the throttle in force for this username or address, if any. */
  async check(username: string, ip: string): Promise<Throttled | undefined> {
    for (const { scope, key, limit } of this.keys(username, ip)) {
      const failures = Number((await this.store.get(key)) ?? 0);
      if (isThrottled(failures, limit))
        return { scope, retryAfterSec: retryAfterSeconds(await this.store.ttl(key), this.limits.windowMs) };
    }
    return undefined;
  }

  /** Counts a failure; answers the throttles this failure started (each starts once per window). */
  async recordFailure(username: string, ip: string): Promise<Throttled[]> {
    const started: Throttled[] = [];
    for (const { scope, key, limit } of this.keys(username, ip)) {
      const failures = await this.store.incr(key, this.limits.windowMs);
      if (startsThrottle(failures, limit))
        started.push({
          scope,
          retryAfterSec: retryAfterSeconds(await this.store.ttl(key), this.limits.windowMs),
        });
    }
    return started;
  }

  /** A successful login clears its username's failures (never the address's). */
  async recordSuccess(username: string): Promise<void> {
    await this.store.del(this.usernameCounter(username));
  }
}
