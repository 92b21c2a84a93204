import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { NotificationConfig } from '../config.js';
import { smsSize } from '../domain/sms.js';
import { smtpTransport } from './email.js';
import { fileTransport } from './file.js';
import { smsApiTransport } from './sms.js';
import type { Transports } from './transport.js';

/** Where messages go when a channel has no provider configured. */
export const outgoingDir = (cfg: NotificationConfig) =>
  join(resolve(cfg.HMS_DATA_DIR), 'notifications', 'outgoing');

/** Each channel's transport: its provider when configured, else the embedded folder. */
export function makeTransports(cfg: NotificationConfig, logger: Logger): Transports {
  const timeoutMs = cfg.NOTIFY_SEND_TIMEOUT_MS;
  const folder = outgoingDir(cfg);
  const email = cfg.SMTP_URL
    ? smtpTransport({
        url: cfg.SMTP_URL,
        user: cfg.SMTP_USER,
        password: cfg.SMTP_PASSWORD,
        from: cfg.NOTIFY_EMAIL_FROM,
        timeoutMs,
      })
    : fileTransport(folder, 'email');
  const sms = cfg.SMS_API_URL
    ? smsApiTransport({
        url: cfg.SMS_API_URL,
        token: cfg.SMS_API_TOKEN,
        sender: cfg.SMS_SENDER,
        timeoutMs,
        encodingOf: (text) => smsSize(text).encoding,
      })
    : fileTransport(folder, 'sms');
  for (const [channel, t] of [
    ['email', email],
    ['sms', sms],
  ] as const)
    if (t.name === 'file')
      logger.warn(
        { channel },
        'no provider configured: messages are written to HMS_DATA_DIR/notifications/outgoing',
      );
  return { email, sms };
}
