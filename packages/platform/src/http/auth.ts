import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { permissionsOf, type Permission } from '@hms/contracts';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors as joseErrors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
} from 'jose';
import { CommonErrors } from '../errors.js';
import { Lru } from '../lru.js';

/** Who is calling, as proven by a verified access token. */
export interface Principal {
  sub: string;
  roles: string[];
  permissions: ReadonlySet<string>;
  jti: string;
  exp: number;
  staffId?: string | undefined;
  /** A service identity (`svc:<name>`) rather than a person. */
  isService: boolean;
}

export interface TokenVerifierOptions {
  /** https://…/.well-known/jwks.json, or file:///…/jwks.json (re-read when the file changes). */
  jwksUrl: string;
  issuer: string;
  audience: string;
  /** Answers whether a token id was revoked (the auth service's deny-list). */
  isRevoked?: (jti: string) => Promise<boolean> | boolean;
  clockToleranceSec?: number;
  /**
   * The longest lifetime (`exp` − `iat`) a token may claim, seconds; a longer one is refused even
   * with a valid signature (a token minted with a stolen key cannot be made to outlive its
   * discovery by much). Default 3600.
   */
  maxLifetimeSec?: number;
  /**
   * How long a JWKS fetched over HTTP is used before it is fetched again, ms (the `max-age` the
   * auth service sends, 60 s): a key withdrawn from the JWKS is refused by every verifier within
   * this long. Default 60,000.
   */
  jwksMaxAgeMs?: number;
  /**
   * Verified tokens remembered (least recently used first out), each until its `exp`, so a
   * signature is checked once per token rather than once per request; the deny-list is still
   * asked on every request. 0 turns the cache off. Default 10,000.
   */
  cacheSize?: number;
}

export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
  /**
   * The same check without a promise when it needs no I/O: the token was verified before, has not
   * expired, its key is published as last read (and that read is still current) and the deny-list
   * answers at once. Throws as `verify` does when it is revoked or expired; undefined when only
   * `verify` can tell.
   */
  verifyCached?(token: string): Principal | undefined;
}

/** Where the signing keys come from, and which key ids are published right now. */
interface KeySource {
  getKey: JWTVerifyGetKey;
  /** The key ids currently published (re-read as the source's own cache rules say). */
  publishedKids(): Promise<ReadonlySet<string>>;
  /** The same set when answering it needs no re-read now; undefined otherwise. */
  currentKids(): ReadonlySet<string> | undefined;
}

const kidsOf = (jwks: JSONWebKeySet | undefined) =>
  new Set((jwks?.keys ?? []).map((k) => k.kid).filter((kid): kid is string => typeof kid === 'string'));

/** A JWKS read from a file and re-read when its modification time changes (key rotation). */
function fileJwks(path: string): KeySource {
  let loaded: { mtimeMs: number; getKey: JWTVerifyGetKey; kids: ReadonlySet<string> } | undefined;
  let checkedAt = 0;
  const current = async () => {
    const now = Date.now();
    if (!loaded || now - checkedAt > 1000) {
      checkedAt = now;
      const { mtimeMs } = await stat(path);
      if (!loaded || loaded.mtimeMs !== mtimeMs) {
        const jwks = JSON.parse(await readFile(path, 'utf8')) as JSONWebKeySet;
        loaded = { mtimeMs, getKey: createLocalJWKSet(jwks), kids: kidsOf(jwks) };
      }
    }
    return loaded;
  };
  return {
    getKey: async (header, token) => (await current()).getKey(header, token),
    publishedKids: async () => (await current()).kids,
    currentKids: () => (loaded && Date.now() - checkedAt <= 1000 ? loaded.kids : undefined),
  };
}

/** The auth service's JWKS over HTTP, cached by jose (refetched when stale or on an unknown kid). */
function remoteJwks(url: URL, maxAgeMs: number): KeySource {
  const remote = createRemoteJWKSet(url, {
    cooldownDuration: Math.min(30_000, maxAgeMs),
    cacheMaxAge: maxAgeMs,
    timeoutDuration: 5_000,
  });
  let kids: ReadonlySet<string> = new Set();
  const refresh = () => (kids = kidsOf(remote.jwks()));
  return {
    getKey: async (header, token) => {
      const key = await remote(header, token);
      if (header.kid && !kids.has(header.kid)) refresh(); // jose fetched a new set
      return key;
    },
    publishedKids: async () => {
      if (!remote.fresh && !remote.reloading) {
        // stale: refetch; if the auth service cannot answer, the last set known stands
        await remote.reload().catch(() => undefined);
        refresh();
      }
      return kids;
    },
    currentKids: () => (remote.fresh || remote.reloading ? kids : undefined),
  };
}

/** See `TokenVerifierOptions.maxLifetimeSec` and `jwksMaxAgeMs`. */
export const DEFAULT_MAX_TOKEN_LIFETIME_SEC = 3600;
export const DEFAULT_JWKS_MAX_AGE_MS = 60_000;

/**
 * What a verified token may do. A person's permissions are those of their roles in the shared
 * role table (packages/contracts), read at every verification, so a permission taken from a role
 * is taken from every live token of it at once; the `scope` claim a user token carries only
 * describes them. A service identity (`svc:<name>`) has no roles: its `scope` is what it may do.
 */
export function permissionsOfClaims(sub: string, roles: readonly string[], scope: readonly string[]) {
  return sub.startsWith('svc:') ? new Set<string>(scope) : new Set<string>(permissionsOf(roles));
}

/**
 * What is wrong with a token's times, if anything (the one rule for every verifier, the auth
 * service's introspection included): its lifetime (`exp` − `iat`) must be positive and at most
 * `maxLifetimeSec`, and its `iat` not in the future beyond the clock tolerance. A token minted
 * with a stolen key cannot be made to outlive the key's discovery by much.
 */
export function tokenTimeProblem(
  claims: { iat?: unknown; exp?: unknown },
  nowSec: number,
  maxLifetimeSec: number,
  clockToleranceSec = 5,
): string | undefined {
  const iat = Number(claims.iat);
  const lifetime = Number(claims.exp) - iat;
  if (!Number.isFinite(lifetime) || !(lifetime > 0 && lifetime <= maxLifetimeSec))
    return 'token lifetime exceeds the maximum';
  if (iat > nowSec + clockToleranceSec) return 'token issued in the future';
  return undefined;
}

const invalid = (detail: string) =>
  CommonErrors.unauthenticated(detail, {
    headers: { 'www-authenticate': `Bearer error="invalid_token", error_description="${detail}"` },
  });

/**
 * Verifies ES256 access tokens against the auth service's JWKS: signature, `kid`, `iss`, `aud`,
 * `exp`, `nbf`, and the deny-list. Only ES256 is accepted, so `alg: none` and HS256 tokens signed
 * with a public key are refused before any key is looked at.
 *
 * A token that verified is remembered, keyed by its exact text, until its `exp` (DESIGN.md §4):
 * an ES256 verification costs about 0.4 ms of CPU, more than the rest of a simple read. On every
 * request the deny-list (an in-memory lookup) is still asked, and the token's key id must still be
 * published in the JWKS (as the key source last read it), so withdrawing a key refuses its tokens.
 */
export function createTokenVerifier(opts: TokenVerifierOptions): TokenVerifier {
  const url = new URL(opts.jwksUrl);
  const keys =
    url.protocol === 'file:'
      ? fileJwks(fileURLToPath(url))
      : remoteJwks(url, opts.jwksMaxAgeMs ?? DEFAULT_JWKS_MAX_AGE_MS);
  const maxLifetimeSec = opts.maxLifetimeSec ?? DEFAULT_MAX_TOKEN_LIFETIME_SEC;
  const verified = new Lru<string, { principal: Principal; kid: string }>(opts.cacheSize ?? 10_000);
  const notRevoked = async (principal: Principal) => {
    if (opts.isRevoked && (await opts.isRevoked(principal.jti))) throw invalid('token revoked');
    return principal;
  };
  return {
    async verify(token: string): Promise<Principal> {
      const cached = verified.get(token);
      if (cached) {
        // still valid, and its signing key still published (a key withdrawn from the JWKS, as
        // after a compromise, takes its tokens with it at the next look at the key set)
        if (cached.principal.exp * 1000 > Date.now() && (await keys.publishedKids()).has(cached.kid))
          return notRevoked(cached.principal);
        verified.delete(token);
      }
      const { principal, kid } = await verifySignatureAndClaims(token);
      verified.set(token, { principal, kid });
      return notRevoked(principal);
    },

    verifyCached(token: string): Principal | undefined {
      const cached = verified.get(token);
      if (!cached || cached.principal.exp * 1000 <= Date.now()) return undefined;
      if (!keys.currentKids()?.has(cached.kid)) return undefined;
      const revoked = opts.isRevoked?.(cached.principal.jti) ?? false;
      if (revoked === true) throw invalid('token revoked');
      return revoked === false ? cached.principal : undefined;
    },
  };

  async function verifySignatureAndClaims(token: string): Promise<{ principal: Principal; kid: string }> {
    let kid: string | undefined;
    try {
      const header = decodeProtectedHeader(token);
      kid = header.kid;
      if (header.alg !== 'ES256') throw invalid('unsupported token algorithm');
    } catch (err) {
      if (err instanceof Error && err.name === 'AppError') throw err;
      throw invalid('malformed token');
    }
    if (!kid) throw invalid('token has no key id');
    let payload;
    try {
      ({ payload } = await jwtVerify(token, keys.getKey, {
        issuer: opts.issuer,
        audience: opts.audience,
        algorithms: ['ES256'],
        requiredClaims: ['sub', 'exp', 'iat', 'jti'],
        clockTolerance: opts.clockToleranceSec ?? 5,
      }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw invalid('token expired');
      if (err instanceof joseErrors.JWKSNoMatchingKey) throw invalid('unknown signing key');
      if (err instanceof joseErrors.JWTClaimValidationFailed)
        throw invalid(`token ${err.claim} claim rejected`);
      if (err instanceof joseErrors.JWKSTimeout || !(err instanceof joseErrors.JOSEError))
        throw CommonErrors.unavailable('token keys could not be loaded', {
          headers: { 'retry-after': '5' },
        });
      throw invalid('token signature or claims are not valid');
    }
    const timing = tokenTimeProblem(payload, Date.now() / 1000, maxLifetimeSec, opts.clockToleranceSec);
    if (timing) throw invalid(timing);
    const jti = String(payload.jti);
    const roles = Array.isArray(payload.roles)
      ? payload.roles.filter((r): r is string => typeof r === 'string')
      : [];
    const scope = typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [];
    const sub = String(payload.sub);
    const permissions = permissionsOfClaims(sub, roles, scope);
    const principal: Principal = {
      sub,
      roles,
      permissions,
      jti,
      exp: Number(payload.exp),
      staffId: typeof payload.staff_id === 'string' ? payload.staff_id : undefined,
      isService: sub.startsWith('svc:'),
    };
    return { principal, kid };
  }
}

export function bearerToken(header: string | undefined): string {
  if (!header)
    throw CommonErrors.unauthenticated('missing bearer token', { headers: { 'www-authenticate': 'Bearer' } });
  const m = /^Bearer ([A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]*)$/.exec(header);
  if (!m?.[1]) throw invalid('malformed authorization header');
  return m[1];
}

export function requirePermission(principal: Principal, permission: Permission): void {
  if (!principal.permissions.has(permission)) {
    throw CommonErrors.forbidden(`requires the ${permission} permission`);
  }
}
