import { randomUUID } from 'node:crypto';
import { permissionsOf, ROLE_NAMES } from '@hms/contracts';
import { SignJWT } from 'jose';
import { readEmbeddedConfig } from './config.js';
import { ensureDevKeys } from './keys.js';

/**
 * `npm run token -- <role> [<role>…]`: prints a 15-minute access token signed with the embedded
 * platform's key, for trying the API with curl until you log in through the auth service.
 */
const roles = process.argv.slice(2);
if (roles.length === 0 || roles.some((r) => !(ROLE_NAMES as string[]).includes(r))) {
  process.stderr.write(`usage: npm run token -- <role>…   roles: ${ROLE_NAMES.join(', ')}\n`);
  process.exit(64);
}
const cfg = readEmbeddedConfig();
const keys = await ensureDevKeys(cfg.HMS_DATA_DIR);
const now = Math.floor(Date.now() / 1000);
const token = await new SignJWT({ roles, scope: [...permissionsOf(roles)].join(' ') })
  .setProtectedHeader({ alg: 'ES256', kid: keys.kid })
  .setSubject(`dev:${roles.join('+')}`)
  .setIssuer(cfg.JWT_ISSUER)
  .setAudience(cfg.JWT_AUDIENCE)
  .setIssuedAt(now)
  .setJti(randomUUID())
  .setExpirationTime(now + 900)
  .sign(keys.privateKey);
process.stdout.write(`${token}\n`);
