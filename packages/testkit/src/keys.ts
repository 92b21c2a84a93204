import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { permissionsOf } from '@hms/contracts';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export const TEST_ISSUER = 'hms-auth';
export const TEST_AUDIENCE = 'hms';

export interface TokenOptions {
  sub?: string;
  roles?: string[];
  /** Defaults to the permissions of `roles`, as the auth service issues them. */
  scope?: string[];
  expiresInSec?: number;
  notBeforeSec?: number;
  issuer?: string;
  audience?: string;
  kid?: string | null;
  jti?: string;
  staffId?: string;
  extra?: Record<string, unknown>;
}

export interface TestKeys {
  jwksUrl: string;
  kid: string;
  publicJwk: JWK;
  privateKey: CryptoKey;
  mint(opts?: TokenOptions): Promise<string>;
}

/**
 * An ES256 key pair and a JWKS file, standing in for the auth service until it exists: tokens
 * minted here go through the same verifier as real ones.
 */
export async function createTestKeys(): Promise<TestKeys> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = `test-${randomUUID().slice(0, 8)}`;
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  const dir = mkdtempSync(join(tmpdir(), 'hms-keys-'));
  const file = join(dir, 'jwks.json');
  writeFileSync(file, JSON.stringify({ keys: [publicJwk] }));
  return {
    jwksUrl: pathToFileURL(file).href,
    kid,
    publicJwk,
    privateKey,
    mint: (opts = {}) => mintToken(privateKey, kid, opts),
  };
}

export async function mintToken(
  privateKey: CryptoKey,
  kid: string,
  opts: TokenOptions = {},
): Promise<string> {
  const roles = opts.roles ?? [];
  const scope = opts.scope ?? [...permissionsOf(roles)];
  const now = Math.floor(Date.now() / 1000);
  const header: { alg: string; kid?: string } = { alg: 'ES256' };
  const useKid = opts.kid === undefined ? kid : opts.kid;
  if (useKid !== null) header.kid = useKid;
  let jwt = new SignJWT({
    roles,
    scope: scope.join(' '),
    ...(opts.staffId ? { staff_id: opts.staffId } : {}),
    ...opts.extra,
  })
    .setProtectedHeader(header)
    .setSubject(opts.sub ?? randomUUID())
    .setIssuer(opts.issuer ?? TEST_ISSUER)
    .setAudience(opts.audience ?? TEST_AUDIENCE)
    .setIssuedAt(now)
    .setJti(opts.jti ?? randomUUID())
    .setExpirationTime(now + (opts.expiresInSec ?? 300));
  if (opts.notBeforeSec !== undefined) jwt = jwt.setNotBefore(now + opts.notBeforeSec);
  return jwt.sign(privateKey);
}
