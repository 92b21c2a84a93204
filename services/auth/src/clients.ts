import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SERVICE_PERMISSIONS } from '@hms/contracts';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
const DUMMY = digest(randomBytes(32).toString('hex'));

export const isServiceName = (name: string): name is keyof typeof SERVICE_PERMISSIONS =>
  Object.hasOwn(SERVICE_PERMISSIONS, name);

/**
 * Service identities for the client-credentials grant: one secret file per service,
 * `<SERVICE_CLIENTS_DIR>/<service>.secret`, read at each grant (so a rotated secret applies at
 * once). Secrets are compared as SHA-256 digests in constant time; an unknown client costs the
 * same comparison as a known one.
 */
export class ServiceClients {
  constructor(private readonly dir: string | undefined) {}

  private async secretOf(name: string): Promise<string | undefined> {
    if (!this.dir || !isServiceName(name)) return undefined;
    try {
      const secret = (await readFile(join(this.dir, `${name}.secret`), 'utf8')).trim();
      return secret.length > 0 ? secret : undefined;
    } catch {
      return undefined;
    }
  }

  /** The service a client id and secret prove, or undefined. */
  async authenticate(
    clientId: string,
    secret: string,
  ): Promise<keyof typeof SERVICE_PERMISSIONS | undefined> {
    const expected = await this.secretOf(clientId);
    const same = timingSafeEqual(expected === undefined ? DUMMY : digest(expected), digest(secret));
    return same && expected !== undefined && isServiceName(clientId) ? clientId : undefined;
  }
}
