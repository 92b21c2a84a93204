import type { Db, DenyList, KeyValueStore, Logger } from '@hms/platform';
import type { ServiceClients } from './clients.js';
import type { AuthConfig } from './config.js';
import type { SigningKeys } from './keys.js';
import type { LoginThrottle } from './throttle.js';
import type { TokenIssuer } from './tokens.js';

/** The event source of every auth event. */
export const SOURCE = 'auth';

/** What the auth service's use cases work with, built once in service.ts. */
export interface AuthContext {
  db: Db;
  store: KeyValueStore;
  denyList: DenyList;
  logger: Logger;
  cfg: AuthConfig;
  keys: SigningKeys;
  tokens: TokenIssuer;
  throttle: LoginThrottle;
  clients: ServiceClients;
}

/** Who made a change, for events: a user id or `svc:<name>`. */
export type Actor = string | undefined;

export const now = () => new Date().toISOString();

/** Copies an object without its undefined members (events are checked against exact schemas). */
export function defined<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
