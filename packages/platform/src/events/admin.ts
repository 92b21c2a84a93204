import { Type } from '@sinclair/typebox';
import { Problem } from '@hms/contracts';
import type { App } from '../http/server.js';
import type { EventBus } from './bus.js';

/**
 * Dead-letter administration on every consuming service: list what landed in its DLQ (type,
 * subject, reason, attempts; never the event data, which may hold patient data) and replay all
 * or some of it. Requires `events:manage` (admins).
 */
export function deadLetterRoutes(app: App, bus: EventBus, consumer: string): void {
  const tags = ['events'];
  app.get(
    '/admin/events/dead-letters',
    {
      config: { permission: 'events:manage' },
      schema: {
        tags,
        summary: `Dead letters of the ${consumer} service`,
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
        }),
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({
                id: Type.String(),
                type: Type.String(),
                subject: Type.String(),
                reason: Type.String(),
                attempts: Type.Integer(),
                deadAt: Type.String(),
              }),
            ),
          }),
          401: Problem,
          403: Problem,
        },
      },
    },
    async (request) => {
      const items = await bus.listDeadLetters(consumer, request.query.limit);
      return { items: items.map(({ envelope: _envelope, ...rest }) => rest) };
    },
  );
  app.post(
    '/admin/events/dead-letters/replay',
    {
      config: { permission: 'events:manage' },
      schema: {
        tags,
        summary: 'Put dead letters back on the queue (all, or the ids given)',
        body: Type.Object(
          { ids: Type.Optional(Type.Array(Type.String({ format: 'uuid' }), { maxItems: 1000 })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ replayed: Type.Integer() }), 401: Problem, 403: Problem },
      },
    },
    async (request) => ({ replayed: await bus.replayDeadLetters(consumer, request.body.ids) }),
  );
}
