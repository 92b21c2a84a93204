import type { Logger } from 'pino';
import type { KeyValueStore } from '../kv/types.js';

const PREFIX = 'revoked:';
const CHANNEL = 'revocations';

/**
 * The access-token deny-list (DESIGN.md §4). The auth service writes a revoked token id with a
 * TTL until the token's expiry and pushes it on a channel; every verifier keeps the whole list in
 * memory (loaded at start, updated by pushes, re-read periodically to cover missed pushes), so a
 * check is a local lookup, not a network call per request.
 */
export class DenyList {
  private readonly revoked = new Map<string, number>(); // jti → expiry (epoch ms)
  private unsubscribe?: () => Promise<void>;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly store: KeyValueStore,
    private readonly opts: { resyncMs?: number; logger?: Logger } = {},
  ) {}

  async start(): Promise<void> {
    this.unsubscribe = await this.store.subscribe(CHANNEL, (message) => {
      try {
        const { jti, exp } = JSON.parse(message) as { jti: string; exp: number };
        if (typeof jti === 'string' && typeof exp === 'number') this.revoked.set(jti, exp * 1000);
      } catch {
        // a malformed push is ignored; the periodic resync covers it
      }
    });
    await this.resync();
    this.timer = setInterval(() => {
      this.resync().catch((err: unknown) => this.opts.logger?.warn({ err }, 'deny-list resync failed'));
    }, this.opts.resyncMs ?? 30_000);
    this.timer.unref();
  }

  private async resync(): Promise<void> {
    const entries = await this.store.scan(PREFIX);
    const now = Date.now();
    for (const [key, value] of entries) this.revoked.set(key.slice(PREFIX.length), Number(value) * 1000);
    for (const [jti, exp] of this.revoked) if (exp <= now) this.revoked.delete(jti);
  }

  isRevoked(jti: string): boolean {
    const exp = this.revoked.get(jti);
    if (exp === undefined) return false;
    if (exp <= Date.now()) {
      this.revoked.delete(jti);
      return false; // expired tokens are refused by their `exp` anyway
    }
    return true;
  }

  /** Revokes a token id until `expSec` (its `exp` claim). */
  async revoke(jti: string, expSec: number): Promise<void> {
    const ttlMs = expSec * 1000 - Date.now();
    if (ttlMs <= 0) return;
    this.revoked.set(jti, expSec * 1000);
    await this.store.set(PREFIX + jti, String(expSec), ttlMs);
    await this.store.publish(CHANNEL, JSON.stringify({ jti, exp: expSec }));
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.unsubscribe?.();
  }
}
