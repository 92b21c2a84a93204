import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify, type JWTPayload } from 'jose';
import { tokenTimeProblem } from '@hms/platform';
import { scopeOf } from './domain/user.js';
import type { SigningKeys } from './keys.js';

export interface IssuedToken {
  token: string;
  jti: string;
  /** epoch seconds */
  exp: number;
  scope: string;
}

/** SHA-256 of a secret as hex: what is stored or used as a key instead of the secret itself. */
export const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/** An opaque refresh token: 256 random bits, base64url. */
export const newRefreshToken = () => randomBytes(32).toString('base64url');

/** Signs and verifies the ES256 access tokens of this issuer (DESIGN.md §4). */
export class TokenIssuer {
  constructor(
    private readonly keys: SigningKeys,
    private readonly cfg: {
      issuer: string;
      audience: string;
      accessTtlSec: number;
      serviceTtlSec: number;
      /** the longest lifetime (exp − iat) a token may claim: TOKEN_MAX_LIFETIME_SEC */
      maxLifetimeSec: number;
    },
  ) {}

  get accessTtlSec(): number {
    return this.cfg.accessTtlSec;
  }

  get serviceTtlSec(): number {
    return this.cfg.serviceTtlSec;
  }

  private async sign(sub: string, claims: Record<string, unknown>, ttlSec: number): Promise<IssuedToken> {
    const key = this.keys.current();
    const now = Math.floor(Date.now() / 1000);
    const jti = randomUUID();
    const exp = now + ttlSec;
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'at+jwt' })
      .setSubject(sub)
      .setIssuer(this.cfg.issuer)
      .setAudience(this.cfg.audience)
      .setIssuedAt(now)
      .setJti(jti)
      .setExpirationTime(exp)
      .sign(key.privateKey);
    return { token, jti, exp, scope: typeof claims.scope === 'string' ? claims.scope : '' };
  }

  /** A user's access token: roles, the permissions of those roles as `scope`, `staff_id` when linked. */
  issueAccess(user: { id: string; roles: string[]; staffId?: string | undefined }): Promise<IssuedToken> {
    return this.sign(
      user.id,
      { roles: user.roles, scope: scopeOf(user.roles), ...(user.staffId ? { staff_id: user.staffId } : {}) },
      this.cfg.accessTtlSec,
    );
  }

  /** A service identity's token (client-credentials grant): `svc:<name>`, no roles. */
  issueService(name: string, scope: readonly string[]): Promise<IssuedToken> {
    return this.sign(
      `svc:${name}`,
      { roles: [], scope: [...scope].join(' '), client_id: name },
      this.cfg.serviceTtlSec,
    );
  }

  /**
   * Verifies a token this issuer signed (signature by a published key, iss, aud, exp, a lifetime
   * within the maximum, not issued in the future); undefined when it is not valid.
   */
  async verify(token: string): Promise<JWTPayload | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.keys.getKey(), {
        issuer: this.cfg.issuer,
        audience: this.cfg.audience,
        algorithms: ['ES256'],
        requiredClaims: ['sub', 'exp', 'iat', 'jti'],
      });
      return tokenTimeProblem(payload, Date.now() / 1000, this.cfg.maxLifetimeSec) ? undefined : payload;
    } catch {
      return undefined;
    }
  }
}
