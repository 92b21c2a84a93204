import type { SmsEncoding } from '../domain/sms.js';
import { SendError, type Outgoing, type Transport } from './transport.js';

/**
 * SMS through a provider's HTTP API: `POST SMS_API_URL` with a bearer token and the JSON
 * `{ to, from?, text, encoding, reference }`; a 2xx answer (`{ id }`) is acceptance. The message
 * id goes as `Idempotency-Key` too, for providers that honour it.
 */
export function smsApiTransport(opts: {
  url: string;
  token?: string | undefined;
  sender?: string | undefined;
  timeoutMs: number;
  encodingOf: (text: string) => SmsEncoding;
}): Transport {
  return {
    name: 'sms-api',
    async send(m: Outgoing) {
      let res: Response;
      try {
        res = await fetch(opts.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'idempotency-key': m.id,
            ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
          },
          body: JSON.stringify({
            to: m.to,
            ...(opts.sender ? { from: opts.sender } : {}),
            text: m.body,
            encoding: opts.encodingOf(m.body),
            reference: m.id,
          }),
          signal: AbortSignal.timeout(opts.timeoutMs),
        });
      } catch (err) {
        throw classifyFetch(err);
      }
      const answer = (await res.json().catch(() => undefined)) as { id?: unknown } | undefined;
      if (res.ok) return typeof answer?.id === 'string' ? { providerMessageId: answer.id.slice(0, 200) } : {};
      const detail = `SMS API HTTP ${res.status}`;
      if (res.status === 429 || res.status >= 500) throw new SendError('retry', detail);
      throw new SendError('rejected', detail);
    },
  };
}

/** A failed request: refused before it left (retry) or broken after (unknown). */
function classifyFetch(err: unknown): SendError {
  const cause = (err as { cause?: { code?: string; syscall?: string } } | undefined)?.cause;
  const code = cause?.code ?? (err as { name?: string } | undefined)?.name ?? 'ERROR';
  if (cause?.syscall === 'connect' || cause?.syscall === 'getaddrinfo' || code === 'ECONNREFUSED')
    return new SendError('retry', `SMS API ${code} before sending`);
  return new SendError('unknown', `SMS API ${code}: no answer to the request`);
}
