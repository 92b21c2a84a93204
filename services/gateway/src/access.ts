import { createHash } from 'node:crypto';
import type { Permission } from '@hms/contracts';
import {
  CommonErrors,
  bearerToken,
  requirePermission,
  type DenyList,
  type Principal,
  type TokenVerifier,
} from '@hms/platform';

/** A bounded map that forgets the least recently used entry first. */
export class Lru<K, V> {
  private readonly map = new Map<K, V>();

  constructor(private readonly max: number) {}

  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    if (this.max <= 0) return;
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as K);
  }

  delete(key: K): void {
    this.map.delete(key);
  }

  get size(): number {
    return this.map.size;
  }
}

const revoked = () =>
  CommonErrors.unauthenticated('token revoked', {
    headers: { 'www-authenticate': 'Bearer error="invalid_token", error_description="token revoked"' },
  });

/**
 * The gateway's authentication (DESIGN.md §4): access tokens are verified locally against the
 * JWKS (the kit's verifier: ES256 signature, `kid`, `iss`, `aud`, `exp`, `nbf`, deny-list). A
 * verified token is remembered under the SHA-256 of its text until its `exp`, so its signature is
 * not checked again on every request; the deny-list (an in-memory lookup) still is.
 */
export class AccessControl {
  private readonly cache: Lru<string, Principal>;

  constructor(
    private readonly verifier: TokenVerifier,
    private readonly denyList: DenyList,
    cacheSize: number,
  ) {
    this.cache = new Lru(cacheSize);
  }

  async authenticate(authorization: string | undefined): Promise<Principal> {
    const token = bearerToken(authorization);
    const key = createHash('sha256').update(token).digest('base64url');
    const cached = this.cache.get(key);
    if (cached) {
      if (cached.exp * 1000 > Date.now()) {
        if (this.denyList.isRevoked(cached.jti)) throw revoked();
        return cached;
      }
      this.cache.delete(key);
    }
    const principal = await this.verifier.verify(token);
    this.cache.set(key, principal);
    return principal;
  }

  /** 403 unless the principal holds the permission (an unknown permission is held by nobody). */
  authorize(principal: Principal, permission: string): void {
    requirePermission(principal, permission as Permission);
  }

  get cachedTokens(): number {
    return this.cache.size;
  }
}
