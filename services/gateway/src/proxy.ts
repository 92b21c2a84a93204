import type { IncomingMessage } from 'node:http';
import { Transform } from 'node:stream';
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import { CommonErrors, SpanKind, endSpan, startSpan } from '@hms/platform';
import type { AccessControl } from './access.js';
import type { RouteCatalog } from './catalog.js';
import { clientHeaders, upstreamHeaders, type ClientAddress } from './forwarding.js';
import type { Operation } from './openapi.js';
import { ROUTED } from './routes.js';
import { BodyTooLargeError, UpstreamCall, abandon, type Upstreams } from './upstream.js';

export interface ProxyOptions {
  catalog: RouteCatalog;
  upstreams: Upstreams;
  access: AccessControl;
  client: ClientAddress;
  bodyLimit: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The operation's own timeout (`x-timeout-ms` in its service's document), if it has one. */
    upstreamTimeoutMs: number | undefined;
  }
}

const METHODS: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);

/** Answers up to this size are read whole before they are sent on (one write instead of a stream). */
const BUFFERED_ANSWER_MAX = 64 * 1024;

const pathOf = (url: string) => url.split('?')[0] ?? url;

/** Passes the request body through, failing once more than `limit` bytes went by. */
function limitedBody(raw: IncomingMessage, limit: number): Transform & { tooLarge?: boolean } {
  let size = 0;
  const counter: Transform & { tooLarge?: boolean } = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (size > limit) {
        counter.tooLarge = true;
        callback(new BodyTooLargeError());
      } else callback(null, chunk);
    },
  });
  raw.on('error', (err) => counter.destroy(err));
  return raw.pipe(counter);
}

/**
 * The catch-all proxy: every path under a prefix a service owns (SERVICES in the contracts) goes
 * to that service. Before it goes, the route's permission (from the service's OpenAPI document)
 * is enforced here; the service checks again. Request bodies are streamed (this scope has no body
 * parser), and so are answers, but for small ones of known length.
 */
export const proxyRoutes: FastifyPluginAsync<ProxyOptions> = async (app, opts) => {
  app.decorateRequest('upstreamTimeoutMs', undefined);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => {
    done(null);
  });

  /**
   * The route's permission, enforced before the request goes: the operation it is for (from the
   * service's document), then, unless the route is public, the caller's principal and, where the
   * route names one, the permission. Each step calls back at once when what it needs is at hand
   * (a read document, a token verified before), so most requests make no promise here.
   */
  const authorize =
    (service: string) =>
    (request: FastifyRequest, _reply: FastifyReply, done: (err?: FastifyError) => void) => {
      opts.catalog.operation(service, request.method, pathOf(request.raw.url ?? request.url), (err, op) => {
        if (err) return done(err as FastifyError);
        const operation = op as Operation;
        if (!operation.authenticated) {
          request.upstreamTimeoutMs = operation.timeoutMs;
          return done(); // a public route (login, the JWKS)
        }
        opts.access.authenticate(request.headers.authorization, (refused, principal) => {
          if (refused) return done(refused as FastifyError);
          const caller = principal as NonNullable<typeof principal>;
          request.principal = caller;
          request.upstreamTimeoutMs = operation.timeoutMs;
          try {
            if (operation.permission !== undefined) opts.access.authorize(caller, operation.permission);
          } catch (forbidden) {
            return done(forbidden as FastifyError);
          }
          done();
        });
      });
    };

  const forward = (service: string) => async (request: FastifyRequest, reply: FastifyReply) => {
    const length = Number(request.headers['content-length'] ?? 0);
    if (length > opts.bodyLimit) throw CommonErrors.payload_too_large();
    const hasBody = length > 0 || request.headers['transfer-encoding'] !== undefined;
    // the call upstream is a child span of this request's (the kit's server span)
    const { span, traceparent } = startSpan(
      `${request.method} ${service}`,
      SpanKind.CLIENT,
      request.workContext?.traceparent,
      {
        'http.request.method': request.method,
        'server.address': service,
      },
    );
    const call = new UpstreamCall();
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) abandon(call);
      const failed = reply.statusCode >= 500 ? new Error('upstream call failed') : undefined;
      endSpan(span, failed, { 'http.response.status_code': reply.statusCode });
    });
    const res = await opts.upstreams.get(service).dispatch({
      method: request.method,
      path: request.raw.url ?? request.url,
      headers: upstreamHeaders(request, opts.client, traceparent),
      body: hasBody ? limitedBody(request.raw, opts.bodyLimit) : undefined,
      retryable: !hasBody && IDEMPOTENT.has(request.method),
      timeoutMs: request.upstreamTimeoutMs,
      call,
      // a small answer of known length (most API answers) is read whole and written at once with
      // its headers; anything else, or of unknown length, streams through as it arrives
      bufferUpTo: BUFFERED_ANSWER_MAX,
    });
    return reply.code(res.statusCode).headers(clientHeaders(res.headers)).send(res.body);
  };

  for (const { service, prefixes } of ROUTED) {
    for (const prefix of prefixes) {
      for (const url of [prefix, `${prefix}/*`]) {
        app.route({
          method: METHODS,
          url,
          // the gateway enforces each route's own permission in `authorize`
          config: { public: true },
          schema: { hide: true },
          onRequest: authorize(service),
          handler: forward(service),
        });
      }
    }
  }
};
