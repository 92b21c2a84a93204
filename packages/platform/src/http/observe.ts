import fp from 'fastify-plugin';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { accessRecordOf, type HttpAccessRecording } from '../events/access.js';
import { endSpan } from '../tracing.js';
import type { Metrics } from './metrics.js';

export interface ObserveOptions {
  service: string;
  logger: Logger;
  metrics: Metrics;
  maxUrlLength: number;
  trusted: (req: IncomingMessage) => boolean;
  access?: HttpAccessRecording | undefined;
  /** Whether the server is draining (set by its `preClose`). */
  closing: () => boolean;
}

/**
 * What every answered request leaves behind: `Cache-Control: no-store` on `/api` answers, the one
 * access-log line (route template, status, latency, principal; never the URL with its query, so
 * it holds no patient data and skips the redaction pass other lines go through), the RED metrics,
 * the access record of routes that declare `config.access`, and the end of its span. While the
 * server drains, an answer closes its keep-alive connection, or `close()` would wait for the
 * client's idle socket (Fastify only closes the sockets idle when `close()` starts).
 */
export const observe = fp<ObserveOptions>(
  (app, opts, next) => {
    const accessLog = opts.logger.child({}, { redact: [] });
    app.addHook('onSend', (request, reply, payload, done) => {
      if (request.url.startsWith('/api/')) reply.header('cache-control', 'no-store');
      if (opts.closing()) reply.header('connection', 'close');
      done(null, payload);
    });
    app.addHook('onResponse', (request, reply, done) => {
      if (request.url.length <= opts.maxUrlLength) opts.metrics.httpInFlight.dec();
      const route = request.routeOptions.url ?? 'unmatched';
      opts.metrics.httpDuration.observe(
        { method: request.method, route, status_code: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
      accessLog.info(
        {
          reqId: request.id,
          method: request.method,
          route,
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 10) / 10,
          principal: request.principal?.sub,
          clientReqId: request.clientRequestId,
        },
        'request',
      );
      if (opts.access) {
        const record = accessRecordOf(
          request,
          reply.statusCode,
          opts.service,
          opts.access,
          opts.trusted(request.raw),
        );
        if (record) opts.access.recorder.record(record);
      }
      if (request.span)
        endSpan(request.span, reply.statusCode >= 500 ? new Error('server error') : undefined, {
          'http.response.status_code': reply.statusCode,
        });
      done();
    });
    next();
  },
  { name: 'hms-observe' },
);
