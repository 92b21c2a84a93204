/**
 * Which signing key signs and which public keys are published (pure rules of key rotation).
 *
 * A key is published as soon as it exists, but signs only from `createdAt + activationDelay`, so
 * every verifier has fetched it before it sees a token it signed. The newest active key signs;
 * while none is active yet (a fresh directory) the oldest key does. A key stops signing when a
 * newer one activates, and stays published until every token it signed has expired.
 */
export interface KeyTimes {
  kid: string;
  /** epoch ms */
  createdAt: number;
}

const newestFirst = (a: KeyTimes, b: KeyTimes) => b.createdAt - a.createdAt || (b.kid < a.kid ? -1 : 1);

export function signingKey<K extends KeyTimes>(
  keys: readonly K[],
  now: number,
  activationDelayMs: number,
): K {
  const sorted = [...keys].sort(newestFirst);
  const active = sorted.find((k) => k.createdAt + activationDelayMs <= now);
  const key = active ?? sorted[sorted.length - 1];
  if (!key) throw new Error('no signing key');
  return key;
}

/** When a key stopped (or will stop) signing: the first activation of a newer key. */
export function retiredAt(key: KeyTimes, keys: readonly KeyTimes[], activationDelayMs: number): number {
  let at = Number.POSITIVE_INFINITY;
  for (const k of keys)
    if (newestFirst(k, key) < 0) at = Math.min(at, Math.max(k.createdAt + activationDelayMs, key.createdAt));
  return at;
}

/**
 * The keys to publish at `now`: every key but those retired longer ago than the longest token
 * lifetime plus the verifiers' clock tolerance.
 */
export function publishedKeys<K extends KeyTimes>(
  keys: readonly K[],
  now: number,
  opts: { activationDelayMs: number; maxTokenTtlMs: number; skewMs?: number },
): K[] {
  const grace = opts.maxTokenTtlMs + (opts.skewMs ?? 60_000);
  return [...keys].sort(newestFirst).filter((k) => retiredAt(k, keys, opts.activationDelayMs) + grace > now);
}
