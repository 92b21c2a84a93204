import type { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import {
  AnalyticsDashboard,
  AnalyticsEvent,
  AnalyticsRebuild,
  AnalyticsReport,
  AnalyticsReportTypeSchema,
  DayRangeQuery,
  Page,
  PageQuery,
  ReportFormat,
} from '@hms/contracts';
import { IdParams, ProblemResponses, callerOf, type App } from '@hms/platform';
import type { AnalyticsContext } from '../context.js';
import { getDashboard } from '../dashboard.js';
import { CONSUMED_EVENTS } from '../domain/facts.js';
import { listEvents } from '../event-log.js';
import { getRebuild, requestRebuild } from '../rebuild.js';
import { generateReport } from '../reports.js';
import type { DashboardStreams } from '../stream.js';

const errors = ProblemResponses;
const ANALYTICS = '/api/v1/analytics';
const RangeQuery = Type.Object(DayRangeQuery, { additionalProperties: false });

/**
 * HTTP edge of the Analytics service: schema + one call into the use cases per route (STYLE.md
 * §2). Nothing it answers is patient data (counts, amounts, codes and ids), so no route records
 * access.
 */
export function analyticsRoutes(
  app: App,
  ctx: AnalyticsContext,
  streams: DashboardStreams,
  startRebuild: () => void,
): void {
  const tags = ['analytics'];

  app.get(
    `${ANALYTICS}/dashboard`,
    {
      config: { permission: 'analytics:read' },
      schema: {
        tags,
        operationId: 'getAnalyticsDashboard',
        summary: 'KPIs over a range of facility days (default: today), at most 366 days',
        description:
          'Key figures over the facility days from–to, both inclusive (default: today; more than 366 days is 400): registrations, appointments by status and the no-show rate, fills, stock alerts, and amounts invoiced, paid and denied per currency. The figures come from read models fed by events, so they trail the services by a moment.',
        querystring: RangeQuery,
        response: { 200: AnalyticsDashboard, ...errors },
      },
    },
    (request) => getDashboard(ctx, callerOf(request), request.query),
  );

  app.get(
    `${ANALYTICS}/reports`,
    {
      config: { permission: 'analytics:read' },
      schema: {
        tags,
        operationId: 'getAnalyticsReport',
        summary:
          'A report over a range of facility days (default: today) as JSON or RFC 4180 CSV (cells a spreadsheet would run as a formula are prefixed with a quote); published as analytics.report-generated.v1',
        description:
          'One report of the given type over the facility days from–to; `format=csv` answers `text/csv` as an attachment, otherwise JSON. Every report generated is published as an event, so it is itself on record.',
        querystring: Type.Object(
          { type: AnalyticsReportTypeSchema, ...DayRangeQuery, format: Type.Optional(ReportFormat) },
          { additionalProperties: false },
        ),
        response: {
          200: {
            content: {
              'application/json': { schema: AnalyticsReport },
              'text/csv': { schema: Type.String() },
            },
          },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const out = await generateReport(ctx, callerOf(request), request.query);
      if (out.format === 'json') return reply.type('application/json').send(out.report);
      return reply
        .type('text/csv; charset=utf-8; header=present')
        .header('content-disposition', `attachment; filename="${out.filename}"`)
        .send(out.csv);
    },
  );

  app.get(
    `${ANALYTICS}/events`,
    {
      config: { permission: 'analytics:read' },
      schema: {
        tags,
        operationId: 'listAnalyticsEvents',
        summary: 'The events recorded, newest first: type, subject, the ids they name and their time',
        description:
          'The events the read models were built from, newest first, optionally of one type or one subject. Event data is not returned: only its type, subject, the ids it names and its time.',
        querystring: Type.Object(
          {
            type: Type.Optional(Type.Union(CONSUMED_EVENTS.map((t) => Type.Literal(t)))),
            subject: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            ...PageQuery,
          },
          { additionalProperties: false },
        ),
        response: { 200: Page(AnalyticsEvent), ...errors },
      },
    },
    (request) => listEvents(ctx, callerOf(request), request.query),
  );

  app.get(
    `${ANALYTICS}/stream`,
    {
      config: { permission: 'analytics:read' },
      schema: {
        tags,
        operationId: 'streamAnalyticsDashboard',
        summary:
          'Server-sent events (text/event-stream): `dashboard` events with the KPIs of the range (default: today) at once and on every change, a heartbeat comment every ANALYTICS_STREAM_HEARTBEAT_MS (15 s); ends when the token expires',
        description:
          'A server-sent event stream (`text/event-stream`): a `dashboard` event with the KPIs of the range at once and again on every change. The stream ends when the access token expires; reconnect with a fresh token.',
        querystring: RangeQuery,
        response: {
          200: { content: { 'text/event-stream': { schema: Type.Unsafe<Readable>({ type: 'string' }) } } },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const principal = request.principal;
      const body = streams.subscribe(callerOf(request), request.query, (principal?.exp ?? 0) * 1000);
      reply.raw.once('close', () => body.destroy());
      return reply
        .type('text/event-stream; charset=utf-8')
        .header('x-accel-buffering', 'no')
        .header('connection', 'close')
        .send(body);
    },
  );

  app.post(
    `${ANALYTICS}/rebuild`,
    {
      config: { permission: 'analytics:manage', idempotent: true },
      schema: {
        tags,
        operationId: 'rebuildAnalytics',
        summary:
          'Recompute the read models from the kept events (202: queued; GET its Location until completed)',
        description:
          'Queues a recomputation of every read model from the kept events and answers 202 with the rebuild and its `Location`; poll that until its status is completed. Accepts `Idempotency-Key`.',
        response: { 202: AnalyticsRebuild, ...errors },
      },
    },
    async (request, reply) => {
      const rebuild = await requestRebuild(ctx, callerOf(request), startRebuild);
      return reply.code(202).header('location', `${ANALYTICS}/rebuild/${rebuild.id}`).send(rebuild);
    },
  );

  app.get(
    `${ANALYTICS}/rebuild/:id`,
    {
      config: { permission: 'analytics:manage' },
      schema: {
        tags,
        operationId: 'getAnalyticsRebuild',
        summary: 'A rebuild: pending or completed, with the events it replayed',
        description:
          'The state of a rebuild started by `rebuildAnalytics`: pending, or completed with the number of events it replayed. 404 when no rebuild has that id.',
        params: IdParams,
        response: { 200: AnalyticsRebuild, ...errors },
      },
    },
    (request) => getRebuild(ctx, callerOf(request), request.params.id),
  );
}
