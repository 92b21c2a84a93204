import { Type } from '@sinclair/typebox';
import { DEFAULT_PREFETCH, DEFAULT_RETRY, type RetryPolicy } from './bus.js';

/* The configuration of a service's events: retries, dead-lettering, prefetch, the outbox poll. */

export function parseRetryPolicy(maxAttempts: number, delays: string): RetryPolicy {
  const delaysMs = delays
    .split(',')
    .map((d) => Number(d.trim()))
    .filter((d) => Number.isInteger(d) && d > 0);
  return { maxAttempts, delaysMs: delaysMs.length > 0 ? delaysMs : DEFAULT_RETRY.delaysMs };
}

export const EventConfigKeys = {
  EVENT_MAX_ATTEMPTS: Type.Integer({
    minimum: 1,
    maximum: 50,
    default: 5,
    description: 'deliveries before dead-lettering',
  }),
  EVENT_RETRY_DELAYS_MS: Type.String({
    pattern: '^\\d+(,\\d+)*$',
    default: '1000,5000,30000,120000',
    description: 'delay before each retry, ms, comma-separated; the last repeats',
  }),
  EVENT_PREFETCH: Type.Integer({
    minimum: 1,
    maximum: 1000,
    default: DEFAULT_PREFETCH,
    description: 'unacked deliveries per consumer (also how many the inbox may group into one commit)',
  }),
  OUTBOX_RELAY_INTERVAL_MS: Type.Integer({
    minimum: 10,
    default: 1000,
    description: 'outbox poll fallback, ms',
  }),
};
