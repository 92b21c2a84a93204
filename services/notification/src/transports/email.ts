import nodemailer from 'nodemailer';
import { SendError, type Outgoing, type Transport } from './transport.js';

/** Failures nodemailer reports before any part of the message left: safe to try again. */
const BEFORE_SENDING = new Set(['EDNS', 'EAUTH', 'ETLS', 'EREQUIRETLS']);
/** Failures of the message itself, before sending: no retry will help. */
const NOT_SENDABLE = new Set(['EENVELOPE', 'EMESSAGE']);

interface MailError {
  code?: string;
  responseCode?: number;
  syscall?: string;
  timeoutType?: string;
}

/** Sorts a nodemailer failure into retry / rejected / unknown (see `SendError`). */
export function classifySmtp(err: unknown): SendError {
  const e = (typeof err === 'object' && err !== null ? err : {}) as MailError;
  const code = typeof e.code === 'string' ? e.code : 'ERROR';
  if (typeof e.responseCode === 'number') {
    const detail = `SMTP ${e.responseCode} (${code})`;
    return new SendError(e.responseCode >= 500 ? 'rejected' : 'retry', detail);
  }
  if (NOT_SENDABLE.has(code)) return new SendError('rejected', `SMTP ${code}`);
  const notConnected =
    e.syscall === 'connect' ||
    e.syscall === 'getaddrinfo' ||
    e.timeoutType === 'CONNECTION_TIMEOUT' ||
    e.timeoutType === 'GREETING_TIMEOUT';
  if (BEFORE_SENDING.has(code) || notConnected) return new SendError('retry', `SMTP ${code} before sending`);
  return new SendError('unknown', `SMTP ${code}: the connection ended without the server's answer`);
}

/** Email over SMTP (nodemailer); the message id is the Message-ID, so a copy can be told apart. */
export function smtpTransport(opts: {
  url: string;
  user?: string | undefined;
  password?: string | undefined;
  from: string;
  timeoutMs: number;
}): Transport {
  const mailer = nodemailer.createTransport({
    url: opts.url,
    ...(opts.user ? { auth: { user: opts.user, pass: opts.password ?? '' } } : {}),
    connectionTimeout: opts.timeoutMs,
    greetingTimeout: opts.timeoutMs,
    socketTimeout: opts.timeoutMs,
    logger: false,
    debug: false,
  });
  const host = (() => {
    try {
      return new URL(opts.url).hostname || 'hms';
    } catch {
      return 'hms';
    }
  })();
  return {
    name: 'smtp',
    async send(m: Outgoing) {
      try {
        const info = (await mailer.sendMail({
          from: opts.from,
          to: m.to,
          subject: m.subject,
          text: m.body,
          messageId: `<${m.id}@${host}>`,
        })) as { messageId?: string; rejected?: unknown[] };
        if (Array.isArray(info.rejected) && info.rejected.length > 0)
          throw new SendError('rejected', 'SMTP recipient rejected');
        return info.messageId ? { providerMessageId: info.messageId } : {};
      } catch (err) {
        throw err instanceof SendError ? err : classifySmtp(err);
      }
    },
  };
}
