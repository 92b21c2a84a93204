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
}

export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}

/** A JWKS read from a file and re-read when its modification time changes (key rotation). */
function fileJwks(path: string): JWTVerifyGetKey {
  let loaded: { mtimeMs: number; getKey: JWTVerifyGetKey } | undefined;
  let checkedAt = 0;
  return async (header, token) => {
    const now = Date.now();
    if (!loaded || now - checkedAt > 1000) {
      checkedAt = now;
      const { mtimeMs } = await stat(path);
      if (!loaded || loaded.mtimeMs !== mtimeMs) {
        const jwks = JSON.parse(await readFile(path, 'utf8')) as JSONWebKeySet;
        loaded = { mtimeMs, getKey: createLocalJWKSet(jwks) };
      }
    }
    return loaded.getKey(header, token);
  };
}

const invalid = (detail: string) =>
  CommonErrors.unauthenticated(detail, {
    headers: { 'www-authenticate': `Bearer error="invalid_token", error_description="${detail}"` },
  });

/**
 * Verifies ES256 access tokens against the auth service's JWKS: signature, `kid`, `iss`, `aud`,
 * `exp`, `nbf`, and the deny-list. Only ES256 is accepted, so `alg: none` and HS256 tokens signed
 * with a public key are refused before any key is looked at.
 */
export function createTokenVerifier(opts: TokenVerifierOptions): TokenVerifier {
  const url = new URL(opts.jwksUrl);
  const getKey =
    url.protocol === 'file:'
      ? fileJwks(fileURLToPath(url))
      : createRemoteJWKSet(url, { cooldownDuration: 30_000, cacheMaxAge: 600_000, timeoutDuration: 5_000 });
  return {
    async verify(token: string): Promise<Principal> {
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
        ({ payload } = await jwtVerify(token, getKey, {
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
      const jti = String(payload.jti);
      if (opts.isRevoked && (await opts.isRevoked(jti))) throw invalid('token revoked');
      const roles = Array.isArray(payload.roles)
        ? payload.roles.filter((r): r is string => typeof r === 'string')
        : [];
      const scope = typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [];
      const permissions = new Set<string>([...scope, ...permissionsOf(roles)]);
      const sub = String(payload.sub);
      return {
        sub,
        roles,
        permissions,
        jti,
        exp: Number(payload.exp),
        staffId: typeof payload.staff_id === 'string' ? payload.staff_id : undefined,
        isService: sub.startsWith('svc:'),
      };
    },
  };
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
