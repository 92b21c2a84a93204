import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICE_PERMISSIONS } from '@hms/contracts';

/**
 * The client-credentials secret of every service identity, one `<service>.secret` file each
 * (mode 0600) in `dir`: generated on first start, read after. The auth service checks them, and
 * each service's runtime uses its own to get service tokens.
 */
export function ensureClientSecrets(dir: string): Map<string, string> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const secrets = new Map<string, string>();
  for (const name of Object.keys(SERVICE_PERMISSIONS)) {
    const file = join(dir, `${name}.secret`);
    try {
      writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    secrets.set(name, readFileSync(file, 'utf8').trim());
  }
  return secrets;
}
