import { readFileSync } from 'node:fs';
import { Type, type Static, type TObject, type TProperties } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/**
 * Configuration is a schema (STYLE.md §9): every key typed, documented, defaulted or required,
 * validated at start with a message that names each bad or missing key. Any key may instead be
 * read from a file named by `<KEY>_FILE` (what Vault Agent, Kubernetes and Docker secrets
 * write). Keys marked `secret: true` are never printed.
 */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export const secret = (opts?: Parameters<typeof Type.String>[0]) => Type.String({ ...opts, secret: true });

export function loadConfig<P extends TProperties>(
  schema: TObject<P>,
  env: NodeJS.ProcessEnv = process.env,
): Static<TObject<P>> {
  const raw: Record<string, unknown> = {};
  const problems: string[] = [];
  // a key whose value could not be read is reported once, not again as "is required"
  const unread = new Set<string>();
  for (const key of Object.keys(schema.properties)) {
    const fileKey = `${key}_FILE`;
    const file = env[fileKey];
    if (file !== undefined && file !== '') {
      if (env[key] !== undefined && env[key] !== '') {
        problems.push(`${key}: set both ${key} and ${fileKey}; use one`);
        unread.add(key);
        continue;
      }
      try {
        raw[key] = readFileSync(file, 'utf8').trim();
      } catch (err) {
        problems.push(`${fileKey}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
        unread.add(key);
      }
    } else if (env[key] !== undefined && env[key] !== '') {
      raw[key] = env[key];
    }
  }
  const withDefaults = Value.Default(schema, Value.Convert(schema, raw));
  for (const e of Value.Errors(schema, withDefaults)) {
    const key = e.path.replace(/^\//, '').split('/')[0] || '(root)';
    if (unread.has(key)) continue;
    const prop = schema.properties[key] as { secret?: boolean; description?: string } | undefined;
    const shown = prop?.secret || raw[key] === undefined ? '' : ` (got ${JSON.stringify(raw[key])})`;
    const what = raw[key] === undefined ? 'is required' : e.message.toLowerCase();
    problems.push(`${key}: ${what}${shown}${prop?.description ? ` — ${prop.description}` : ''}`);
  }
  if (problems.length > 0) throw new ConfigError([...new Set(problems)]);
  return withDefaults as Static<TObject<P>>;
}

/** Keys every service reads (DESIGN.md §1, "Configuration names"). */
export const ServiceConfigKeys = {
  HOST: Type.String({ default: '0.0.0.0', description: 'address to listen on' }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info', description: 'pino log level' },
  ),
  DATABASE_URL: secret({
    description: "this service's own PostgreSQL database, e.g. postgres://user@host/hms_patient",
  }),
  DB_POOL_MAX: Type.Integer({ minimum: 1, maximum: 200, default: 10, description: 'PostgreSQL pool size' }),
  JWT_ISSUER: Type.String({ default: 'hms-auth', description: 'expected `iss` of access tokens' }),
  JWT_AUDIENCE: Type.String({ default: 'hms', description: 'expected `aud` of access tokens' }),
  JWKS_URL: Type.String({
    description: 'where the auth public keys are: https://…/.well-known/jwks.json or file:///…/jwks.json',
  }),
  TOKEN_CACHE_SIZE: Type.Integer({
    minimum: 0,
    default: 10_000,
    description:
      'verified access tokens kept (LRU, each until its exp; the deny-list is still checked); 0 disables',
  }),
  TOKEN_MAX_LIFETIME_SEC: Type.Integer({
    minimum: 60,
    maximum: 86_400,
    default: 3600,
    description:
      'longest lifetime (exp − iat) an access token may claim; a longer one is refused whatever its signature',
  }),
  JWKS_MAX_AGE_SEC: Type.Integer({
    minimum: 1,
    maximum: 600,
    default: 60,
    description:
      'a JWKS fetched over HTTP is fetched again after this long, so a withdrawn key is refused within it',
  }),
  FACILITY_TIMEZONE: Type.String({
    default: 'UTC',
    description: "the facility's IANA time zone (e.g. Europe/Berlin): its days, opening hours and reports",
  }),
  FACILITY_LOCALE: Type.String({
    pattern: '^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$',
    default: 'en',
    description: "the facility's default language (BCP 47, e.g. en, de-CH) for messages and documents",
  }),
  BODY_LIMIT: Type.Integer({ minimum: 1024, default: 1_048_576, description: 'largest request body, bytes' }),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ minimum: 0, default: 10_000, description: 'drain budget on SIGTERM' }),
};

/** Whether `zone` is an IANA time zone this runtime knows (`Europe/Berlin`, `UTC`). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Redacted view of a config for a start-up log line. */
export function describeConfig<P extends TProperties>(
  schema: TObject<P>,
  cfg: Static<TObject<P>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, prop] of Object.entries(schema.properties)) {
    const value = (cfg as Record<string, unknown>)[key];
    out[key] = (prop as { secret?: boolean }).secret && value !== undefined ? '[secret]' : value;
  }
  return out;
}
