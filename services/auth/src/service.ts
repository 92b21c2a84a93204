import { CommonErrors, readMigrations, type ServiceDeps, type ServiceModule } from '@hms/platform';
import { ServiceClients } from './clients.js';
import { readAuthConfig } from './config.js';
import type { AuthContext } from './context.js';
import { AuthErrors } from './errors.js';
import { SigningKeys } from './keys.js';
import { dummyHash } from './passwords.js';
import { retryRevocationPushes } from './revocation.js';
import { sessionRoutes } from './routes/sessions.js';
import { userRoutes } from './routes/users.js';
import * as store from './store.js';
import { LoginThrottle } from './throttle.js';
import { TokenIssuer } from './tokens.js';
import { bootstrapAdmin } from './users.js';

export { AuthConfig, readAuthConfig } from './config.js';
export { bootstrapAdmin, createUser, type BootstrapResult } from './users.js';

/** How long ended sessions (and their used refresh tokens, for reuse detection) are kept. */
const SESSION_RETENTION_HOURS = 24;

/** RFC 6749 and RFC 7662 bodies are form-encoded; a parameter sent twice is refused (RFC 6749 §3.2). */
function parseForm(body: string): Record<string, string> {
  const params = new Map<string, string>();
  for (const [key, value] of new URLSearchParams(body)) {
    if (params.has(key))
      throw CommonErrors.validation_failed('a parameter was sent more than once', {
        errors: [{ path: `/body/${key.slice(0, 64)}`, message: 'must not be repeated' }],
      });
    params.set(key, value);
  }
  return Object.fromEntries(params); // own properties only, even for a key named __proto__
}

/** The auth service: users, sessions, tokens and signing keys (DOMAIN.md "Auth", DESIGN.md §4). */
export const authService: ServiceModule = {
  name: 'auth',
  description: 'Users, sessions, access and refresh tokens, service identities, signing keys',
  migrations: () => readMigrations(new URL('../migrations/', import.meta.url), 'auth'),
  errors: AuthErrors,
  tags: {
    sessions: 'Logging in and out, refreshing tokens, and the calling user.',
    tokens:
      'Token introspection, the client-credentials grant for service identities, and the keys that verify access tokens.',
    users: 'Administration of user accounts: roles, status, staff link and passwords.',
    keys: 'Rotation of the keys access tokens are signed with.',
  },
  async setup(app, deps: ServiceDeps) {
    const cfg = readAuthConfig(deps.env);
    const keys = new SigningKeys({
      dir: cfg.AUTH_KEYS_DIR,
      activationDelayMs: cfg.KEY_ACTIVATION_DELAY_SEC * 1000,
      maxTokenTtlMs: Math.max(cfg.ACCESS_TOKEN_TTL_SEC, cfg.SERVICE_TOKEN_TTL_SEC) * 1000,
      jwksFile: cfg.JWKS_FILE,
      logger: deps.logger,
    });
    await keys.start();
    const ctx: AuthContext = {
      db: deps.db,
      store: deps.store,
      denyList: deps.denyList,
      logger: deps.logger,
      cfg,
      keys,
      tokens: new TokenIssuer(keys, {
        issuer: cfg.JWT_ISSUER,
        audience: cfg.JWT_AUDIENCE,
        accessTtlSec: cfg.ACCESS_TOKEN_TTL_SEC,
        serviceTtlSec: cfg.SERVICE_TOKEN_TTL_SEC,
        maxLifetimeSec: cfg.TOKEN_MAX_LIFETIME_SEC,
      }),
      throttle: new LoginThrottle(deps.store, {
        perUsername: cfg.LOGIN_MAX_FAILURES_PER_USERNAME,
        perIp: cfg.LOGIN_MAX_FAILURES_PER_IP,
        windowMs: cfg.LOGIN_FAILURE_WINDOW_SEC * 1000,
      }),
      clients: new ServiceClients(cfg.SERVICE_CLIENTS_DIR),
    };
    await dummyHash(); // made now, so the first unknown-user login costs what every other does
    const admin = await bootstrapAdmin(deps.db, deps.env);
    if (admin.created) deps.logger.info({ username: admin.username }, 'first administrator created');

    deps.scheduler.every('auth-keys-reload', cfg.KEYS_RELOAD_INTERVAL_MS, () => keys.reload(), {
      exclusive: false,
    });
    // a revocation whose deny-list push failed (Redis unreachable) is pushed until it is
    deps.scheduler.every('auth-revocations-push', cfg.REVOCATION_RETRY_INTERVAL_MS, () =>
      retryRevocationPushes(ctx),
    );
    deps.scheduler.every('auth-sessions-prune', 3_600_000, () =>
      store.pruneSessions(deps.db, SESSION_RETENTION_HOURS),
    );

    app.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 16_384 },
      (_request, body, done) => {
        try {
          done(null, parseForm(body as string));
        } catch (err) {
          done(err as Error, undefined);
        }
      },
    );
    sessionRoutes(app, ctx);
    userRoutes(app, ctx);
  },
};
