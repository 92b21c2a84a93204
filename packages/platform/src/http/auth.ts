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
  /** Answers whether a token id was revoked (the auth service's deny-list, kept in memory). */
  isRevoked?: (jti: string) => boolean;
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

/** Called back with the principal a token proves, or with why it proves none (an `AppError`). */
export type Verdict = (err: Error | null, principal?: Principal) => void;

export interface TokenVerifier {
  /**
   * Decides whether a token proves a principal, and calls back with it or with the refusal. The
   * call back comes at once (no promise, no later tick) when what decides it is at hand: a token
   * verified before, the key set as last read still current, the deny-list in memory; otherwise
   * once the key set is re-read or the signature checked.
   */
  authenticate(token: string, verdict: Verdict): void;
  /** `authenticate` as a promise, for callers off the request path. */
  verify(token: string): Promise<Principal>;
}

/** Where the signing keys come from, and which key ids are published right now. */
interface KeySource {
  getKey: JWTVerifyGetKey;
  /**
   * Hands over the key ids currently published: at once while the set last read is current, else
   * after re-reading it (a failed re-read hands over the set last known).
   */
  withKids(use: (kids: ReadonlySet<string>) => void): void;
}

const kidsOf = (jwks: JSONWebKeySet | undefined) =>
  new Set((jwks?.keys ?? []).map((k) => k.kid).filter((kid): kid is string => typeof kid === 'string'));

const NO_KIDS: ReadonlySet<string> = new Set();

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
    withKids(use) {
      if (loaded && Date.now() - checkedAt <= 1000) return use(loaded.kids);
      void current().then(
        (l) => use(l.kids),
        () => use(loaded?.kids ?? NO_KIDS),
      );
    },
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
    withKids(use) {
      if (remote.fresh) return use(kids);
      // stale: wait for the refetch (one in flight, shared by every request that finds the set
      // stale; before, a request arriving while it was in flight took the stale set, so a key
      // withdrawn was still honoured by those). If the auth service cannot answer, the last set
      // known stands.
      void remote
        .reload()
        .catch(() => undefined)
        .then(() => use(refresh()));
    },
  };
}

/** A token whose signature and claims were checked, with the key that signed it. */
interface Verified {
  principal: Principal;
  kid: string;
}

/**
 * The one rule for a token whose signature and claims were checked (now or before): it stands
 * while it has not expired and the key that signed it is still published (a key withdrawn from
 * the JWKS, as after a compromise, takes its tokens with it at the next look at the key set);
 * then it is refused if its id is on the deny-list. `'recheck'`: it no longer stands as checked,
 * and only checking it again can tell.
 */
export function tokenStanding(
  verified: Verified,
  now: { ms: number; kids: ReadonlySet<string>; revoked: (jti: string) => boolean },
): Principal | 'recheck' {
  if (verified.principal.exp * 1000 <= now.ms || !now.kids.has(verified.kid)) return 'recheck';
  if (now.revoked(verified.principal.jti)) throw invalid('token revoked');
  return verified.principal;
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
  const remembered = new Lru<string, Verified>(opts.cacheSize ?? 10_000);
  const revoked = opts.isRevoked ?? (() => false);
  // what decides a checked token, gathered (at once when the key set is current), then decided
  const judge = (token: string, verified: Verified, fresh: boolean, verdict: Verdict) =>
    keys.withKids((kids) => {
      let standing: Principal | 'recheck';
      try {
        standing = tokenStanding(verified, { ms: Date.now(), kids, revoked });
      } catch (err) {
        return verdict(err as Error);
      }
      if (standing !== 'recheck') return verdict(null, standing);
      remembered.delete(token);
      if (fresh) return verdict(invalid('unknown signing key')); // withdrawn while it was checked
      check(token, verdict);
    });
  const check = (token: string, verdict: Verdict) =>
    void verifySignatureAndClaims(token).then(
      (verified) => {
        remembered.set(token, verified);
        judge(token, verified, true, verdict);
      },
      (err: unknown) => verdict(err as Error),
    );
  const authenticate = (token: string, verdict: Verdict) => {
    const known = remembered.get(token);
    if (known) judge(token, known, false, verdict);
    else check(token, verdict);
  };
  return {
    authenticate,
    verify: (token) =>
      new Promise<Principal>((resolve, reject) =>
        authenticate(token, (err, principal) => (err ? reject(err) : resolve(principal as Principal))),
      ),
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
  // the scheme's name is case-insensitive (RFC 9110 §11.1): `bearer` is `Bearer`
  const m = /^[Bb][Ee][Aa][Rr][Ee][Rr] ([A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]*)$/.exec(header);
  if (!m?.[1]) throw invalid('malformed authorization header');
  return m[1];
}

export function requirePermission(principal: Principal, permission: Permission): void {
  if (!principal.permissions.has(permission)) {
    throw CommonErrors.forbidden(`requires the ${permission} permission`);
  }
}
