import { Type } from '@sinclair/typebox';
import { Problem } from '@hms/contracts';
import type { App } from '../http/server.js';
import type { EventBus } from './bus.js';

const ServiceParams = Type.Object({ service: Type.String({ pattern: '^[a-z][a-z0-9-]{0,62}$' }) });

/**
 * Dead-letter administration, on the management listener (never the public port): list what
 * landed in a consuming service's DLQ (type, subject, reason, attempts; never the event data,
 * which may hold patient data) and replay all or some of it. Requires `events:manage` (admins).
 * `busOf` finds the named service's bus, or throws a 404 problem.
 */
export function deadLetterRoutes(app: App, busOf: (service: string) => EventBus): void {
  app.get(
    '/admin/events/:service/dead-letters',
    {
      config: { permission: 'events:manage' },
      schema: {
        summary: "A consuming service's dead letters",
        params: ServiceParams,
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
          404: Problem,
        },
      },
    },
    async (request) => {
      const { service } = request.params;
      const items = await busOf(service).listDeadLetters(service, request.query.limit);
      return { items: items.map(({ envelope: _envelope, ...rest }) => rest) };
    },
  );
  app.post(
    '/admin/events/:service/dead-letters/replay',
    {
      config: { permission: 'events:manage' },
      schema: {
        summary: 'Put dead letters back on the queue (all, or the ids given)',
        params: ServiceParams,
        body: Type.Object(
          { ids: Type.Optional(Type.Array(Type.String({ format: 'uuid' }), { maxItems: 1000 })) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ replayed: Type.Integer() }),
          401: Problem,
          403: Problem,
          404: Problem,
        },
      },
    },
    async (request) => {
      const { service } = request.params;
      return { replayed: await busOf(service).replayDeadLetters(service, request.body.ids) };
    },
  );
}
