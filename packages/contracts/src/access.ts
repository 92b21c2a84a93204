import { Type, type Static } from '@sinclair/typebox';
import { Timestamp } from './common.js';

/**
 * Access records (DESIGN.md §5): who read or changed which patient's data, and with what outcome.
 * Every service's kit emits them for the routes that declare what they touch, and the gateway for
 * the requests it refuses; the audit service keeps them. A record names resources and patients by
 * id only: never a body, a query string, a name or any other field of a patient.
 */
export const AccessAction = Type.Union([
  Type.Literal('read'),
  Type.Literal('search'),
  Type.Literal('create'),
  Type.Literal('update'),
  Type.Literal('delete'),
]);
export type AccessAction = Static<typeof AccessAction>;

export const AccessRecord = Type.Object(
  {
    at: Timestamp,
    /** The service that answered (the gateway for a refusal it made itself). */
    service: Type.String({ minLength: 1, maxLength: 64 }),
    requestId: Type.String({ minLength: 1, maxLength: 128 }),
    actor: Type.Object(
      {
        kind: Type.Union([Type.Literal('user'), Type.Literal('service'), Type.Literal('anonymous')]),
        /** The user id, `svc:<name>`, or absent for a request without a valid token. */
        id: Type.Optional(Type.String({ maxLength: 128 })),
      },
      { additionalProperties: false },
    ),
    action: AccessAction,
    method: Type.String({ maxLength: 16 }),
    /** The route template (`/api/v1/patients/:id`) or, for a refusal, the path without its query. */
    route: Type.String({ maxLength: 512 }),
    resource: Type.Object(
      {
        type: Type.String({ minLength: 1, maxLength: 64 }),
        ids: Type.Array(Type.String({ maxLength: 128 }), { maxItems: 500 }),
      },
      { additionalProperties: false },
    ),
    patientIds: Type.Array(Type.String({ maxLength: 128 }), { maxItems: 500 }),
    /** The HTTP status answered: 2xx granted, 401/403/429 refused, others failed. */
    status: Type.Integer({ minimum: 100, maximum: 599 }),
    clientIp: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);
export type AccessRecord = Static<typeof AccessRecord>;

/** A batch of access records from one service instance (emitted off the request path). */
export const AccessRecordedV1 = Type.Object(
  { records: Type.Array(AccessRecord, { minItems: 1, maxItems: 1000 }) },
  { additionalProperties: false, $id: 'access.recorded.v1' },
);
