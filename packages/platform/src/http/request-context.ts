import fp from 'fastify-plugin';
import type { IncomingMessage } from 'node:http';
import { runWithContext, type WorkContext } from '../context.js';
import { SpanKind, startSpan } from '../tracing.js';

export const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * Security headers on every answer: the set OWASP's REST Security Cheat Sheet gives for an API
 * (no caching of `/api` answers is set per response), plus the referrer and cross-origin
 * resource policies. Nothing may be loaded, framed or sniffed. The headers helmet adds for HTML
 * documents (`X-XSS-Protection`, `X-Download-Options`, `X-DNS-Prefetch-Control`,
 * `X-Permitted-Cross-Domain-Policies`, `Origin-Agent-Cluster`, `Cross-Origin-Opener-Policy`) do
 * nothing for JSON and are left out: every header is written and parsed on each hop. They never
 * vary, so they are set from this table in the request's first hook; a route that serves a page
 * (the gateway's docs UI) sets its own policy over them.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cross-origin-resource-policy': 'same-origin',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
});

/**
 * The request's work context (request id, trace, later the caller's token and actor), which
 * follows it through every await via AsyncLocalStorage: the logger, the HTTP client and the outbox
 * read it from there. The request is a span, a child of the caller's when a trusted caller sent a
 * `traceparent`; an untrusted caller's `X-Request-Id` is kept apart (`clientRequestId`).
 *
 * Callback-style rather than async, as every hook on the request path: under AsyncLocalStorage
 * each promise an async hook makes is tracked, and most of these have nothing to wait for.
 */
export const requestContext = fp<{ trusted: (req: IncomingMessage) => boolean }>(
  (app, opts, next) => {
    app.addHook('onRequest', (request, reply, done) => {
      const fromTrusted = opts.trusted(request.raw);
      const tp = fromTrusted ? request.headers.traceparent : undefined;
      if (!fromTrusted) {
        const given = request.headers['x-request-id'];
        if (typeof given === 'string' && REQUEST_ID.test(given)) request.clientRequestId = given;
      }
      const route = request.routeOptions.url ?? 'unmatched';
      const { span, traceparent } = startSpan(
        `${request.method} ${route}`,
        SpanKind.SERVER,
        typeof tp === 'string' && TRACEPARENT.test(tp) ? tp : undefined,
        { 'http.request.method': request.method, 'http.route': route },
      );
      request.span = span;
      const ctx: WorkContext = { requestId: request.id, traceparent };
      request.workContext = ctx;
      reply.headers(SECURITY_HEADERS);
      reply.header('x-request-id', request.id);
      runWithContext(ctx, done);
    });
    next();
  },
  { name: 'hms-request-context' },
);
