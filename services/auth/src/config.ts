import { Type, type Static } from '@sinclair/typebox';
import { ConfigError, ServiceConfigKeys, loadConfig, secret } from '@hms/platform';
import { USERNAME_PATTERN } from './schemas.js';

/** The auth service's configuration (STYLE.md §9): read from `deps.env`, validated at build. */
export const AuthConfig = Type.Object({
  JWT_ISSUER: ServiceConfigKeys.JWT_ISSUER,
  JWT_AUDIENCE: ServiceConfigKeys.JWT_AUDIENCE,
  ACCESS_TOKEN_TTL_SEC: Type.Integer({
    minimum: 60,
    maximum: 86_400,
    default: 900,
    description: 'lifetime of a user access token, seconds (at most TOKEN_MAX_LIFETIME_SEC)',
  }),
  REFRESH_TOKEN_TTL_SEC: Type.Integer({
    minimum: 300,
    maximum: 90 * 86_400,
    default: 7 * 86_400,
    description: 'lifetime of a refresh token (each rotation issues a new one), seconds',
  }),
  SERVICE_TOKEN_TTL_SEC: Type.Integer({
    minimum: 30,
    maximum: 3600,
    default: 300,
    description: 'lifetime of a client-credentials (service) token, seconds (at most TOKEN_MAX_LIFETIME_SEC)',
  }),
  TOKEN_MAX_LIFETIME_SEC: ServiceConfigKeys.TOKEN_MAX_LIFETIME_SEC,
  AUTH_KEYS_DIR: Type.String({
    minLength: 1,
    description:
      'directory of private signing keys, one `<kid>.jwk.json` each (mode 0600); a key is generated when empty',
  }),
  KEY_ACTIVATION_DELAY_SEC: Type.Integer({
    minimum: 0,
    maximum: 86_400,
    default: 60,
    description: 'a new key is published this long before it signs, so every verifier has fetched it',
  }),
  KEYS_RELOAD_INTERVAL_MS: Type.Integer({
    minimum: 100,
    default: 5000,
    description: 'how often the key directory is re-read (new keys dropped in, retirements)',
  }),
  JWKS_FILE: Type.Optional(
    Type.String({ minLength: 1, description: 'also write the public JWKS to this file (file:// JWKS_URL)' }),
  ),
  SERVICE_CLIENTS_DIR: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'directory of client-credentials secrets, one `<service>.secret` each; unset: no service clients',
    }),
  ),
  LOGIN_MAX_FAILURES_PER_USERNAME: Type.Integer({
    minimum: 1,
    default: 5,
    description: 'failed logins for one username within the window before logins for it answer 429',
  }),
  LOGIN_MAX_FAILURES_PER_IP: Type.Integer({
    minimum: 1,
    default: 20,
    description: 'failed logins from one address within the window before its logins answer 429',
  }),
  LOGIN_FAILURE_WINDOW_SEC: Type.Integer({
    minimum: 1,
    default: 900,
    description: 'the throttling window, seconds, counted from the first failure',
  }),
  REVOCATION_RETRY_INTERVAL_MS: Type.Integer({
    minimum: 100,
    default: 5000,
    description: 'how often revocations not yet pushed to the deny-list (Redis was unreachable) are retried',
  }),
  TRUSTED_PROXIES: Type.String({
    default: '',
    description: 'comma-separated addresses or CIDRs whose X-Forwarded-For is believed (the gateway)',
  }),
  HMS_ADMIN_USERNAME: Type.Optional(
    Type.String({
      minLength: 3,
      maxLength: 64,
      pattern: USERNAME_PATTERN,
      description: 'first administrator, created once (a username: letters, digits, `._@-`)',
    }),
  ),
  HMS_ADMIN_PASSWORD: Type.Optional(secret({ description: "the first administrator's password" })),
});
export type AuthConfig = Static<typeof AuthConfig>;

/** Reads and validates the configuration; no token lifetime may exceed what every verifier accepts. */
export function readAuthConfig(env: NodeJS.ProcessEnv): AuthConfig {
  const cfg = loadConfig(AuthConfig, env);
  const problems = (['ACCESS_TOKEN_TTL_SEC', 'SERVICE_TOKEN_TTL_SEC'] as const)
    .filter((key) => cfg[key] > cfg.TOKEN_MAX_LIFETIME_SEC)
    .map(
      (key) =>
        `${key}: must be at most TOKEN_MAX_LIFETIME_SEC (${cfg.TOKEN_MAX_LIFETIME_SEC}) (got ${cfg[key]}), or every verifier refuses the tokens`,
    );
  if (problems.length > 0) throw new ConfigError(problems);
  return cfg;
}
