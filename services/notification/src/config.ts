import { Type, type Static } from '@sinclair/typebox';
import { ConfigError, loadConfig, secret } from '@hms/platform';
import { parseDelays } from './domain/retry.js';
import { CATALOGUE, missingTemplates } from './domain/templates.js';

/**
 * The Notification service's own keys (STYLE.md §9). Each channel goes to its provider when its
 * URL is set, else (embedded mode, a laptop) every message is written as a file under
 * HMS_DATA_DIR instead of being sent.
 */
export const NotificationConfig = Type.Object({
  SMTP_URL: Type.Optional(
    secret({
      description: 'SMTP server, smtp://host:587 (STARTTLS) or smtps://host:465; unset: email to files',
    }),
  ),
  SMTP_USER: Type.Optional(Type.String({ description: 'SMTP user name (or SMTP_USER_FILE)' })),
  SMTP_PASSWORD: Type.Optional(secret({ description: 'SMTP password (or SMTP_PASSWORD_FILE)' })),
  NOTIFY_EMAIL_FROM: Type.String({
    minLength: 3,
    default: 'HMS <no-reply@localhost>',
    description: 'the From of every email',
  }),
  SMS_API_URL: Type.Optional(
    Type.String({ description: "the SMS provider's send endpoint (HTTP POST, JSON); unset: SMS to files" }),
  ),
  SMS_API_TOKEN: Type.Optional(
    secret({ description: 'bearer token of the SMS provider (or SMS_API_TOKEN_FILE)' }),
  ),
  SMS_SENDER: Type.Optional(
    Type.String({ maxLength: 16, description: 'sender id or number shown on an SMS' }),
  ),
  HMS_DATA_DIR: Type.String({
    default: './.data',
    description:
      'embedded data; messages of a channel without a provider go to notifications/outgoing under it',
  }),
  NOTIFY_STOCK_ALERT_EMAILS: Type.String({
    default: '',
    description: 'comma-separated addresses that get inventory.stock-low alerts',
  }),
  NOTIFY_REMINDER_BEFORE_MIN: Type.Integer({
    minimum: 1,
    maximum: 20_160,
    default: 1440,
    description: 'how long before an appointment its reminder goes out, minutes',
  }),
  NOTIFY_FALLBACK_LOCALE: Type.String({
    default: 'en',
    description:
      "the locale whose templates are used when the recipient's has none (must have every template)",
  }),
  NOTIFY_DISPATCH_INTERVAL_MS: Type.Integer({
    minimum: 20,
    default: 2000,
    description: 'how often due messages are looked for and sent',
  }),
  NOTIFY_SEND_CONCURRENCY: Type.Integer({
    minimum: 1,
    maximum: 32,
    default: 4,
    description: 'messages handed to providers at once',
  }),
  NOTIFY_SEND_TIMEOUT_MS: Type.Integer({
    minimum: 100,
    default: 30_000,
    description: 'longest wait for a provider to answer one message',
  }),
  NOTIFY_SEND_LEASE_SEC: Type.Integer({
    minimum: 1,
    default: 300,
    description:
      'how long a claimed message is left to its sender; after it, one never handed off is queued again, one handed off is failed as outcome-unknown',
  }),
  NOTIFY_MAX_ATTEMPTS: Type.Integer({
    minimum: 1,
    maximum: 50,
    default: 5,
    description: 'hand-offs to a provider before a message is failed for good',
  }),
  NOTIFY_RETRY_DELAYS_SEC: Type.String({
    pattern: '^\\d+(,\\d+)*$',
    default: '60,300,1800,7200',
    description: 'wait before each retry, seconds, comma-separated; the last repeats',
  }),
});
export type NotificationConfig = Static<typeof NotificationConfig> & {
  retryDelaysSec: number[];
  stockAlertEmails: string[];
};

export function notificationConfig(env: NodeJS.ProcessEnv): NotificationConfig {
  const cfg = loadConfig(NotificationConfig, env);
  const problems: string[] = [];
  const missing = missingTemplates(CATALOGUE, cfg.NOTIFY_FALLBACK_LOCALE);
  if (missing.length > 0)
    problems.push(
      `NOTIFY_FALLBACK_LOCALE: ${cfg.NOTIFY_FALLBACK_LOCALE} lacks templates (${missing.join(', ')})`,
    );
  if (cfg.NOTIFY_SEND_LEASE_SEC * 1000 <= 2 * cfg.NOTIFY_SEND_TIMEOUT_MS)
    problems.push('NOTIFY_SEND_LEASE_SEC: must be more than twice NOTIFY_SEND_TIMEOUT_MS');
  const stockAlertEmails = cfg.NOTIFY_STOCK_ALERT_EMAILS.split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  const bad = stockAlertEmails.filter((a) => !/^[^\s@]+@[^\s@]+$/.test(a));
  if (bad.length > 0) problems.push(`NOTIFY_STOCK_ALERT_EMAILS: ${bad.length} entr(ies) are not addresses`);
  if (problems.length > 0) throw new ConfigError(problems);
  return { ...cfg, retryDelaysSec: parseDelays(cfg.NOTIFY_RETRY_DELAYS_SEC), stockAlertEmails };
}
