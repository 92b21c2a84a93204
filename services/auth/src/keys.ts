import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
  type CryptoKey,
  type JWK,
  type JWTVerifyGetKey,
} from 'jose';
import type { Logger } from '@hms/platform';
import { publishedKeys, signingKey } from './domain/keys.js';
import type { PublicJwk } from './schemas.js';

export interface SigningKey {
  kid: string;
  /** epoch ms, from the file's `created_at` */
  createdAt: number;
  privateKey: CryptoKey;
  publicJwk: PublicJwk;
}

export interface SigningKeysOptions {
  dir: string;
  activationDelayMs: number;
  /** The longest lifetime of a token these keys sign: a retired key stays published that long. */
  maxTokenTtlMs: number;
  /** Also write the public JWKS here (for verifiers reading a file:// JWKS_URL). */
  jwksFile?: string | undefined;
  logger: Logger;
}

const FILE = /^([A-Za-z0-9._-]{1,128})\.jwk\.json$/;

function parseCreatedAt(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value < 1e12 ? value * 1000 : value;
  if (typeof value === 'string') {
    const ms = Date.parse(value);
    if (Number.isFinite(ms)) return ms;
  }
  return undefined;
}

/** Writes a file through a temporary name and a rename, so a reader never sees half of it. */
async function writeAtomically(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, data, { mode, flag: 'wx' });
  await chmod(tmp, mode);
  await rename(tmp, path);
}

/**
 * The ES256 signing keys: private JWK files in a directory (a Kubernetes/Vault secret mount or
 * the embedded data dir), re-read when they change, so rotation is dropping a new file in (or
 * `rotate()`). Rotation rules are pure (domain/keys.ts): published at once, signing after the
 * activation delay, published until every token a key signed has expired.
 */
export class SigningKeys {
  private keys: SigningKey[] = [];
  private signature = '';
  private jwksText = '';
  private keySet?: { text: string; getKey: JWTVerifyGetKey };

  constructor(private readonly opts: SigningKeysOptions) {}

  /** Loads the directory, generating a first key when it holds none. */
  async start(): Promise<void> {
    await mkdir(this.opts.dir, { recursive: true, mode: 0o700 });
    await this.reload(true);
    if (this.keys.length === 0) {
      const key = await this.generate();
      this.opts.logger.info({ kid: key.kid }, 'no signing key found: generated one');
      await this.reload(true);
    }
  }

  /** Re-reads the directory when its files changed, and republishes when the published set did. */
  async reload(force = false): Promise<void> {
    const entries = (await readdir(this.opts.dir)).filter((f) => FILE.test(f)).sort();
    const stats = await Promise.all(entries.map((f) => stat(join(this.opts.dir, f)).catch(() => undefined)));
    const signature = entries
      .map((f, i) => `${f}:${stats[i]?.mtimeMs ?? 0}:${stats[i]?.size ?? 0}`)
      .join('|');
    if (force || signature !== this.signature) {
      const loaded = await Promise.all(entries.map((f) => this.readKey(f)));
      this.keys = loaded.filter((k): k is SigningKey => k !== undefined);
      this.signature = signature;
    }
    await this.publish();
  }

  private async readKey(file: string): Promise<SigningKey | undefined> {
    const path = join(this.opts.dir, file);
    try {
      const jwk = JSON.parse(await readFile(path, 'utf8')) as JWK & { created_at?: unknown };
      const kid = jwk.kid ?? FILE.exec(file)?.[1] ?? file;
      const createdAt = parseCreatedAt(jwk.created_at) ?? (await stat(path)).mtimeMs;
      if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.d || !jwk.x || !jwk.y)
        throw new Error('not a private P-256 EC key');
      const privateKey = (await importJWK(
        { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, d: jwk.d },
        'ES256',
      )) as CryptoKey;
      const publicJwk: PublicJwk = {
        kty: 'EC',
        crv: 'P-256',
        x: jwk.x,
        y: jwk.y,
        kid,
        alg: 'ES256',
        use: 'sig',
      };
      return { kid, createdAt, privateKey, publicJwk };
    } catch (err) {
      this.opts.logger.warn(
        { file, reason: (err as Error).message },
        'ignoring an unreadable signing key file',
      );
      return undefined;
    }
  }

  private rules() {
    return { activationDelayMs: this.opts.activationDelayMs, maxTokenTtlMs: this.opts.maxTokenTtlMs };
  }

  /** The key that signs now. */
  current(now = Date.now()): SigningKey {
    return signingKey(this.keys, now, this.opts.activationDelayMs);
  }

  /** The public keys verifiers must know now: the JWKS. */
  jwks(now = Date.now()): { keys: PublicJwk[] } {
    return { keys: publishedKeys(this.keys, now, this.rules()).map((k) => k.publicJwk) };
  }

  /** Whether the key `kid` is published now (a withdrawn or retired key is not). */
  publishes(kid: string, now = Date.now()): boolean {
    return this.jwks(now).keys.some((k) => k.kid === kid);
  }

  /** A key resolver over the published keys, for verifying tokens this service issued. */
  getKey(): JWTVerifyGetKey {
    const text = JSON.stringify(this.jwks());
    if (this.keySet?.text !== text)
      this.keySet = { text, getKey: createLocalJWKSet(JSON.parse(text) as { keys: JWK[] }) };
    return this.keySet.getKey;
  }

  private async publish(): Promise<void> {
    const text = JSON.stringify(this.jwks());
    if (text === this.jwksText) return;
    this.jwksText = text;
    if (this.opts.jwksFile) {
      await mkdir(dirname(this.opts.jwksFile), { recursive: true });
      await writeAtomically(this.opts.jwksFile, text, 0o644);
    }
    await this.removeRetired();
  }

  /** Private keys nobody can verify against any more are destroyed (best effort: a mount may be read-only). */
  private async removeRetired(): Promise<void> {
    const now = Date.now();
    const published = new Set(publishedKeys(this.keys, now, this.rules()).map((k) => k.kid));
    for (const key of this.keys) {
      if (published.has(key.kid)) continue;
      const file = join(this.opts.dir, `${key.kid}.jwk.json`);
      await unlink(file).then(
        () => this.opts.logger.info({ kid: key.kid }, 'retired signing key removed'),
        () => undefined,
      );
    }
  }

  /** Generates a key into the directory; it is published at once and signs after the activation delay. */
  async rotate(): Promise<{ kid: string; createdAt: number; activatesAt: number }> {
    const key = await this.generate();
    await this.reload(true);
    return { ...key, activatesAt: key.createdAt + this.opts.activationDelayMs };
  }

  private async generate(): Promise<{ kid: string; createdAt: number }> {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const createdAt = Date.now();
    const day = new Date(createdAt).toISOString().slice(0, 10).replace(/-/g, '');
    const kid = `hms-${day}-${randomBytes(6).toString('hex')}`;
    const jwk = {
      ...(await exportJWK(privateKey)),
      kid,
      alg: 'ES256',
      use: 'sig',
      created_at: new Date(createdAt).toISOString(),
    };
    await writeAtomically(join(this.opts.dir, `${kid}.jwk.json`), JSON.stringify(jwk), 0o600);
    return { kid, createdAt };
  }
}
