import type { NotificationChannel } from '@hms/contracts';

/** One message as a provider takes it. */
export interface Outgoing {
  /** the message's id: the email's Message-ID and the SMS provider's idempotency key */
  id: string;
  to: string;
  subject: string;
  body: string;
}

export interface Transport {
  /** smtp, sms-api, file: recorded on each message */
  readonly name: string;
  /** Resolves once the provider has accepted the message; rejects with a `SendError`. */
  send(message: Outgoing): Promise<{ providerMessageId?: string }>;
}

export type Transports = Record<NotificationChannel, Transport>;

/**
 * Why a hand-off failed, as far as it can be known:
 * - `retry`: the provider surely did not take it and may later (unreachable, 4xx SMTP reply,
 *   HTTP 429 or 5xx);
 * - `rejected`: the provider refused it for good (5xx SMTP reply, HTTP 4xx);
 * - `unknown`: it may have been taken (the connection broke or timed out after the message went
 *   out): never sent again, at most once.
 * `detail` is codes and statuses only: a provider's own message may quote the address.
 */
export class SendError extends Error {
  constructor(
    readonly kind: 'retry' | 'rejected' | 'unknown',
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'SendError';
  }
}
