import { Type, type Static } from '@sinclair/typebox';
import { ConfigError, ServiceConfigKeys, loadConfig } from '@hms/platform';

const Rate = (def: string, description: string) =>
  Type.String({ pattern: '^[1-9][0-9]*/[1-9][0-9]*$', default: def, description });

/**
 * The gateway's own configuration keys (STYLE.md §9), read from the environment it is given
 * (`deps.env`): every key typed, documented and defaulted, validated at start. The keys every
 * service reads (`JWKS_URL`, `REDIS_URL`, …) are the runner's.
 */
export const GatewayConfig = Type.Object({
  BODY_LIMIT: ServiceConfigKeys.BODY_LIMIT,
  ZONE: Type.String({
    default: '',
    description: 'availability zone; upstream instances in it are preferred',
  }),
  UPSTREAM_TIMEOUT_MS: Type.Integer({
    minimum: 1,
    default: 5000,
    description: 'per request: until an upstream answers with its headers (retries included), ms',
  }),
  UPSTREAM_TIMEOUT_MAX_MS: Type.Integer({
    minimum: 1,
    default: 120_000,
    description:
      'the longest an operation may ask the gateway to wait for its answer (x-timeout-ms in its OpenAPI document), ms',
  }),
  UPSTREAM_RETRIES: Type.Integer({
    minimum: 0,
    maximum: 5,
    default: 2,
    description:
      'tries after the first for an idempotent bodiless request, on a connection error or a 502/503/504 without Retry-After (ADR 0020)',
  }),
  UPSTREAM_BODY_TIMEOUT_MS: Type.Integer({
    minimum: 1,
    default: 30_000,
    description: 'longest pause between two chunks of an upstream response body, ms',
  }),
  UPSTREAM_BREAKER_THRESHOLD: Type.Integer({
    minimum: 1,
    default: 5,
    description: 'consecutive failures of an upstream that open its circuit breaker',
  }),
  UPSTREAM_BREAKER_HALF_OPEN_MS: Type.Integer({
    minimum: 100,
    default: 10_000,
    description: 'how long an open breaker fails fast before letting one request probe, ms',
  }),
  UPSTREAM_MAX_CONCURRENT: Type.Integer({
    minimum: 1,
    default: 256,
    description: 'bulkhead: requests awaiting one upstream at once',
  }),
  UPSTREAM_MAX_QUEUED: Type.Integer({
    minimum: 0,
    default: 512,
    description: 'bulkhead: requests allowed to wait for a slot; more answer 503',
  }),
  UPSTREAM_DOWN_MS: Type.Integer({
    minimum: 100,
    default: 5000,
    description: 'how long an instance that refused a connection is skipped, ms',
  }),
  OPENAPI_REFRESH_MS: Type.Integer({
    minimum: 100,
    default: 30_000,
    description: "how often the services' OpenAPI documents (the route permissions) are re-read, ms",
  }),
  RATE_LIMIT_IP: Rate(
    '600/60',
    'requests per client address per window: "points/seconds" (an IPv6 client is counted by its /64)',
  ),
  RATE_LIMIT_PRINCIPAL: Rate('300/60', 'requests per authenticated principal per window: "points/seconds"'),
  RATE_LIMIT_AUTH: Rate(
    '10/60',
    'requests per client address (an IPv6 client by its /64) to the auth group (login, refresh, token)',
  ),
  RATE_LIMIT_AUTH_PATHS: Type.String({
    default: '/api/v1/auth/login,/api/v1/auth/refresh,/api/v1/auth/token',
    description:
      'the routes of the auth group, comma-separated path templates (`{name}` for a parameter), matched on the decoded path as the services route it (`/api/v1/auth/logi%6E` is login), on any method',
  }),
  RATE_LIMIT_PREFIX: Type.String({
    pattern: '^[A-Za-z0-9:_-]{1,64}$',
    default: 'ratelimit',
    description:
      "key prefix of the rate-limit counters in the store (in Redis, under the store's own prefix; shared by every gateway replica)",
  }),
  RATE_LIMIT_LEASE_MAX: Type.Integer({
    minimum: 1,
    maximum: 1000,
    default: 32,
    description:
      'most units of a shared (Redis) budget one replica reserves at once, a sixteenth of what is left at most, spent without asking Redis again; 1 asks Redis on every request',
  }),
  CORS_ORIGINS: Type.String({
    default: '',
    description: 'origins allowed to call the API from a browser, comma-separated (empty: none)',
  }),
  GATEWAY_TRUSTED_PROXIES: Type.String({
    default: '',
    description:
      "addresses/CIDRs of proxies in front of the gateway, comma-separated: only from them are X-Forwarded-* believed (the client address is the first one back that is not such a proxy, and it alone is passed on as X-Forwarded-For) and X-Request-Id and traceparent taken as the request's own; from anyone else the gateway mints its own request id (logging the client's as clientReqId) and starts a new trace",
  }),
});

export type GatewayConfig = Static<typeof GatewayConfig>;

export function readGatewayConfig(env: NodeJS.ProcessEnv): GatewayConfig {
  const cfg = loadConfig(GatewayConfig, env);
  // an operation that asks for more time must never get less than one that asks for none
  if (cfg.UPSTREAM_TIMEOUT_MAX_MS < cfg.UPSTREAM_TIMEOUT_MS)
    throw new ConfigError([
      `UPSTREAM_TIMEOUT_MAX_MS: must be at least UPSTREAM_TIMEOUT_MS (${cfg.UPSTREAM_TIMEOUT_MS}), got ${cfg.UPSTREAM_TIMEOUT_MAX_MS}`,
    ]);
  return cfg;
}

export interface RateBudget {
  points: number;
  durationSec: number;
}

/** `"10/60"` → 10 points per 60 s. */
export function parseRate(value: string): RateBudget {
  const [points, durationSec] = value.split('/').map(Number);
  return { points: points ?? 1, durationSec: durationSec ?? 1 };
}

export function list(value: string): string[] {
  return value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
}
