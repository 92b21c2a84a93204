import {
  Notification,
  NotificationConfig,
  NotificationConfigInput,
  NotificationConfigQuery,
  NotificationQuery,
  NotificationSummary,
  Page,
  Problem,
} from '@hms/contracts';
import {
  IdParams,
  IfMatchHeader,
  ProblemResponses,
  callerOf,
  ifMatchRequired,
  reportAccess,
  withETag,
  type App,
} from '@hms/platform';
import type { FastifyRequest } from 'fastify';
import type { NotificationContext } from '../context.js';
import { getNotification, listNotifications } from '../notifications.js';
import { getConfig, putConfig } from '../preferences.js';

const errors = ProblemResponses;
const BASE = '/api/v1/notifications';
const tags = ['notifications'];

/** A message to a patient, or a patient's preferences, is an access to that patient's data. */
function reported(request: FastifyRequest, ids: string[], recipients: { type: string; id: string }[]): void {
  reportAccess(request, {
    ids,
    patientIds: [...new Set(recipients.filter((r) => r.type === 'patient').map((r) => r.id))],
  });
}

/** HTTP edge of the Notification service: schema + one call into the use cases per route (STYLE.md §2). */
export function notificationRoutes(app: App, ctx: NotificationContext): void {
  app.get(
    BASE,
    {
      config: { permission: 'notifications:read', access: { resource: 'notification', action: 'search' } },
      schema: {
        tags,
        operationId: 'listNotifications',
        summary:
          'List messages in creation order, by recipient, status, channel and event (no address, no body)',
        description:
          'Messages in creation order, filtered by recipient, status, channel and event; the list carries no address and no body (read one message for those).',
        querystring: NotificationQuery,
        response: { 200: Page(NotificationSummary), ...errors },
      },
    },
    async (request) => {
      const page = await listNotifications(ctx, callerOf(request), request.query);
      reported(
        request,
        page.items.map((n) => n.id),
        page.items.map((n) => n.recipient),
      );
      return page;
    },
  );

  app.get(
    `${BASE}/config`,
    {
      config: { permission: 'notifications:read', access: { resource: 'notification-config' } },
      schema: {
        tags,
        operationId: 'getNotificationPreferences',
        summary: "A recipient's preferences in effect (version 0: none stored, the defaults)",
        description:
          "A recipient's notification preferences in effect; version 0 means none are stored and the defaults apply. 404 when no patient or staff member has that id; 503 when their service cannot be asked.",
        querystring: NotificationConfigQuery,
        response: { 200: NotificationConfig, ...errors, 503: Problem },
      },
    },
    async (request, reply) => {
      const recipient = { type: request.query.recipientType, id: request.query.recipientId };
      reported(request, [recipient.id], [recipient]);
      const config = await getConfig(ctx, callerOf(request), recipient);
      return withETag(reply, config.version).send(config);
    },
  );

  app.put(
    `${BASE}/config`,
    {
      config: { permission: 'notifications:manage', access: { resource: 'notification-config' } },
      schema: {
        tags,
        operationId: 'replaceNotificationPreferences',
        summary:
          'Replace a recipient\'s preferences (the recipient in the body; If-Match required: "v0" creates them)',
        description:
          'Replaces a recipient\'s preferences (the recipient is named in the body); 201 when created, 200 when replaced. `If-Match` is required: `"v0"` creates them (428 without it, 412 when they changed); 503 when the recipient\'s service cannot be asked.',
        headers: IfMatchHeader,
        body: NotificationConfigInput,
        response: {
          200: NotificationConfig,
          201: NotificationConfig,
          ...errors,
          412: Problem,
          428: Problem,
          503: Problem,
        },
      },
    },
    async (request, reply) => {
      const recipient = request.body.recipient;
      reported(request, [recipient.id], [recipient]);
      const { config, created } = await putConfig(
        ctx,
        callerOf(request),
        request.body,
        ifMatchRequired(request),
      );
      return withETag(reply.code(created ? 201 : 200), config.version).send(config);
    },
  );

  app.get(
    `${BASE}/:id`,
    {
      config: { permission: 'notifications:read', access: { resource: 'notification' } },
      schema: {
        tags,
        operationId: 'getNotification',
        summary: 'Get a message, with where it went and what it said',
        description:
          'One message: its recipient, channel, the address it was handed to, its subject and body, its status and delivery attempts.',
        params: IdParams,
        response: { 200: Notification, ...errors },
      },
    },
    async (request) => {
      const n = await getNotification(ctx, callerOf(request), request.params.id);
      reported(request, [n.id], [n.recipient]);
      return n;
    },
  );
}
