import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { calculateJwkThumbprint, exportJWK, type JWK } from 'jose';

/** The audit service's own checkpoint signing key (ES256), and its public half as published. */
export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  kid: string;
  publicJwk: JWK;
}

/**
 * The key from `AUDIT_SIGNING_KEY(_FILE)` (PEM, PKCS#8, P-256), or else the one kept at
 * `keyFile`, generated there the first time (mode 0600; created exclusively, so two instances
 * starting together keep the same one). The kid is the public key's RFC 7638 thumbprint.
 */
export async function loadSigningKey(pem: string | undefined, keyFile: string): Promise<SigningKey> {
  const privateKey = createPrivateKey(pem ?? ownKeyPem(keyFile));
  if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
    throw new Error('AUDIT_SIGNING_KEY: an ES256 key (EC P-256) is required');
  const publicKey = createPublicKey(privateKey);
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { privateKey, publicKey, kid, publicJwk: { ...jwk, kid, alg: 'ES256', use: 'sig' } };
}

function ownKeyPem(keyFile: string): string {
  try {
    return readFileSync(keyFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dirname(keyFile), { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  try {
    writeFileSync(keyFile, pem, { mode: 0o600, flag: 'wx' });
    return pem;
  } catch (err) {
    // another instance wrote it first: theirs is the key
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(keyFile, 'utf8');
    throw err;
  }
}
