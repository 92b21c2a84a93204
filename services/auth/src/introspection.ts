import { decodeJwt, decodeProtectedHeader } from 'jose';
import { isUuid } from '@hms/platform';
import type { AuthContext } from './context.js';
import type { Introspection } from './schemas.js';
import * as store from './store.js';
import { sha256 } from './tokens.js';

const INACTIVE: Introspection = { active: false };

/** The cache key of a token's introspection: a hash, never the token itself. */
export const introspectionKey = (token: string) => `auth:introspect:${sha256(token)}`;

/**
 * RFC 7662 introspection of an access token this service issued. The deny-list is checked
 * first (a revoked token is inactive at once, cached or not); then the cache (key: SHA-256 of the
 * token, kept until the token expires), answered only while the token's signing key is still
 * published (a withdrawn key takes its tokens with it, cached or not); then the signature and
 * claims.
 */
export async function introspect(ctx: AuthContext, token: string): Promise<Introspection> {
  let jti: unknown;
  let kid: unknown;
  try {
    jti = decodeJwt(token).jti;
    kid = decodeProtectedHeader(token).kid;
  } catch {
    return INACTIVE;
  }
  if (typeof jti !== 'string' || ctx.denyList.isRevoked(jti)) return INACTIVE;
  const key = introspectionKey(token);
  const cached = await ctx.store.get(key);
  if (cached) {
    const answer = JSON.parse(cached) as Introspection;
    if ((answer.exp ?? 0) * 1000 > Date.now() && typeof kid === 'string' && ctx.keys.publishes(kid))
      return answer;
    await ctx.store.del(key); // verified again below: inactive now, unless only the answer expired
  }
  const claims = await ctx.tokens.verify(token);
  if (!claims) return INACTIVE;
  const sub = String(claims.sub);
  const user = isUuid(sub) ? await store.getUser(ctx.db, sub) : undefined;
  const exp = Number(claims.exp);
  const answer: Introspection = {
    active: true,
    sub,
    scope: typeof claims.scope === 'string' ? claims.scope : '',
    exp,
    iat: Number(claims.iat),
    jti,
    iss: String(claims.iss),
    aud: Array.isArray(claims.aud) ? claims.aud.join(' ') : String(claims.aud),
    roles: Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === 'string') : [],
    token_type: 'Bearer',
  };
  if (user) answer.username = user.username;
  if (typeof claims.client_id === 'string') answer.client_id = claims.client_id;
  const ttlMs = exp * 1000 - Date.now();
  if (ttlMs > 0) await ctx.store.set(key, JSON.stringify(answer), ttlMs);
  return answer;
}
