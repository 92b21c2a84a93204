import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';

export interface DevKeys {
  kid: string;
  privateKey: CryptoKey;
  jwksUrl: string;
}

/**
 * The embedded platform's ES256 signing key, generated into the data dir on first start and
 * reused after (private key file mode 0600). The public half is published as a JWKS file that
 * every service's guard reads.
 */
export async function ensureDevKeys(dataDir: string): Promise<DevKeys> {
  const dir = join(dataDir, 'keys');
  const privFile = join(dir, 'signing-key.jwk.json');
  const jwksFile = join(dir, 'jwks.json');
  if (!existsSync(privFile)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const kid = `hms-${randomUUID().slice(0, 8)}`;
    const priv = { ...(await exportJWK(privateKey)), kid, alg: 'ES256' };
    const pub = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
    writeFileSync(privFile, JSON.stringify(priv), { mode: 0o600 });
    chmodSync(privFile, 0o600);
    writeFileSync(jwksFile, JSON.stringify({ keys: [pub] }));
  }
  const priv = JSON.parse(readFileSync(privFile, 'utf8')) as JWK & { kid: string };
  return {
    kid: priv.kid,
    privateKey: (await importJWK(priv, 'ES256')) as CryptoKey,
    jwksUrl: pathToFileURL(jwksFile).href,
  };
}
