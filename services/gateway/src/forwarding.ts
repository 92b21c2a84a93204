import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';
import type { FastifyRequest } from 'fastify';
import { SECURITY_HEADERS } from '@hms/platform';

/** Headers that describe one connection, not the message (RFC 9110 §7.6.1), and `host`. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
  'expect',
  'host',
]);
/** Set by the gateway itself, never passed on as the client sent them. */
const REPLACED = new Set([
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'forwarded',
  'x-request-id',
  'traceparent',
]);

type Headers = Record<string, string | string[] | undefined>;

function connectionTokens(value: string | string[] | undefined): Set<string> | undefined {
  // the usual values name no other header (and keep-alive and close are hop-by-hop anyway)
  if (value === undefined || value === 'keep-alive' || value === 'close') return undefined;
  const raw = Array.isArray(value) ? value.join(',') : value;
  return new Set(
    raw
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  );
}

/**
 * The end-to-end headers of a message. Node and undici hand over header names in lower case, so
 * they are compared as they are.
 */
function endToEnd(headers: Headers, drop: ReadonlySet<string>): Record<string, string | string[]> {
  const named = connectionTokens(headers.connection);
  const out: Record<string, string | string[]> = {};
  for (const key in headers) {
    const value = headers[key];
    if (value === undefined || HOP_BY_HOP.has(key) || drop.has(key) || named?.has(key)) continue;
    out[key] = value;
  }
  return out;
}

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v)?.split(',')[0]?.trim();

/**
 * Who the client is and what it asked for, as proxies tell it: `X-Forwarded-*` are believed only
 * from the proxies named in `GATEWAY_TRUSTED_PROXIES`; otherwise the socket's peer is the client.
 * The same trust decides whether a caller's `X-Request-Id` and `traceparent` are taken as the
 * request's own (`trusts`, the kit server's `trustCaller`).
 */
export class ClientAddress {
  private readonly trust: ((addr: string, i: number) => boolean) | undefined;

  constructor(trusted: string[]) {
    this.trust = trusted.length > 0 ? proxyAddr.compile(trusted) : undefined;
  }

  private peer(request: FastifyRequest): string {
    return request.raw.socket.remoteAddress ?? request.ip;
  }

  /** Whether the connection comes from a proxy named in `GATEWAY_TRUSTED_PROXIES`. */
  trusts(req: IncomingMessage): boolean {
    return this.trust !== undefined && this.trust(req.socket.remoteAddress ?? '', 0);
  }

  /**
   * The client's IP: going back from the socket's peer through `X-Forwarded-For`, the first
   * address that is not a trusted proxy (the peer itself when none is trusted).
   */
  ip(request: FastifyRequest): string {
    return this.trust ? proxyAddr(request.raw, this.trust) : this.peer(request);
  }

  /**
   * Sets `X-Forwarded-For/Proto/Host` on `headers` (those going upstream). `X-Forwarded-For` is
   * exactly one address, the client as resolved here (`ip`): the services trust the gateway alone
   * and take that address as the client's (the auth service's per-address login throttle), so a
   * chain would hand them either what the client wrote or a balancer's address for everyone.
   */
  setForwarded(request: FastifyRequest, headers: Record<string, string | string[]>): void {
    const trusted = this.trusts(request.raw);
    const h = request.headers;
    headers['x-forwarded-for'] = this.ip(request);
    headers['x-forwarded-proto'] = (trusted && first(h['x-forwarded-proto'])) || request.protocol;
    const host = (trusted && first(h['x-forwarded-host'])) || h.host;
    if (host) headers['x-forwarded-host'] = host;
  }
}

/**
 * The headers sent upstream: the client's end-to-end headers (Authorization included), the
 * gateway's request id and trace context (a client's own are taken only from a trusted proxy, by
 * the kit's server: see `ClientAddress.trusts`), and `X-Forwarded-For/Proto/Host`. One object, built
 * in place (this runs on every request).
 */
export function upstreamHeaders(
  request: FastifyRequest,
  client: ClientAddress,
  traceparent: string,
): Record<string, string | string[]> {
  const headers = endToEnd(request.headers, REPLACED);
  client.setForwarded(request, headers);
  headers['x-request-id'] = request.id;
  headers.traceparent = traceparent;
  return headers;
}

/**
 * The gateway sets these on every answer itself (the kit's server), with the same values the
 * services send: copying the service's would only write each twice.
 */
const SET_BY_GATEWAY = new Set([...Object.keys(SECURITY_HEADERS), 'x-request-id']);

/** The upstream's response headers without the hop-by-hop ones and those the gateway sets itself. */
export function clientHeaders(headers: IncomingHttpHeaders | Headers): Record<string, string | string[]> {
  return endToEnd(headers, SET_BY_GATEWAY);
}
