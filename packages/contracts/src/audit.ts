import { Type, type Static } from '@sinclair/typebox';
import { Timestamp, Uuid } from './common.js';

/**
 * Shapes of the Audit service (DOMAIN.md "Audit", issue #14): the records of the trail (a domain
 * event by its metadata and a digest of its data, or one access record), the verification
 * report, and the signed checkpoints of the chain's head. A record holds ids, names of fields and
 * digests, never a value of a patient's record.
 */

const Sha256Hex = Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256, lower-case hex' });
const Ids = (description: string) => Type.Array(Type.String({ maxLength: 128 }), { description });

export const AuditCategory = Type.Union([Type.Literal('event'), Type.Literal('access')], {
  description: 'a domain or security event, or an access record (a read or change of patient data)',
});
export type AuditCategory = Static<typeof AuditCategory>;

export const AuditOutcome = Type.Union(
  [Type.Literal('granted'), Type.Literal('refused'), Type.Literal('failed')],
  {
    description:
      'an access: 2xx/3xx granted, 401/403/429 refused, others failed; a security event: a login granted or refused',
  },
);
export type AuditOutcome = Static<typeof AuditOutcome>;

export const AuditActor = Type.Object(
  {
    kind: Type.Union([Type.Literal('user'), Type.Literal('service'), Type.Literal('anonymous')]),
    id: Type.Optional(Type.String({ maxLength: 128, description: 'a user id or svc:<name>' })),
  },
  { additionalProperties: false },
);
export type AuditActor = Static<typeof AuditActor>;

/** One record of the trail: what the chain hashes (every field but `hash`), and its hash. */
export const AuditRecord = Type.Object(
  {
    seq: Type.Integer({ minimum: 1, description: 'gap-free position in the chain' }),
    id: Uuid,
    recordedAt: Timestamp,
    category: AuditCategory,
    type: Type.String({ description: 'the event type (`access.recorded.v1` for an access record)' }),
    eventId: Uuid,
    item: Type.Integer({ minimum: 0, description: "an access record's place in its batch; 0 for an event" }),
    source: Type.String({ description: "the event's source (the producing service)" }),
    subject: Type.String(),
    at: Timestamp,
    actor: Type.Optional(AuditActor),
    action: Type.Optional(Type.String({ description: "an access's action (read, search, create, …)" })),
    outcome: Type.Optional(AuditOutcome),
    status: Type.Optional(Type.Integer({ description: "an access's HTTP status" })),
    service: Type.Optional(Type.String({ description: 'the service that answered an access' })),
    method: Type.Optional(Type.String()),
    route: Type.Optional(Type.String({ description: 'the route template (or the path of a refusal)' })),
    requestId: Type.Optional(Type.String()),
    clientIp: Type.Optional(Type.String()),
    resource: Type.Object(
      { type: Type.String(), ids: Ids('the resources touched') },
      { additionalProperties: false },
    ),
    patientIds: Ids('the patients whose data was read or changed'),
    changedFields: Type.Array(Type.String(), { description: 'names of the fields an update changed' }),
    dataDigest: Type.Optional(
      Type.String({
        pattern: '^[0-9a-f]{64}$',
        description: "SHA-256 of the event's data in canonical form (its values are not kept)",
      }),
    ),
    prevHash: Sha256Hex,
    hash: Sha256Hex,
  },
  { additionalProperties: false, $id: 'AuditRecord' },
);
export type AuditRecord = Static<typeof AuditRecord>;

/** GET /audit/events: filters (all optional, combined with AND). */
export const AuditEventQuery = {
  actor: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'a user id or svc:<name>' })),
  patient: Type.Optional(Uuid),
  resource: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'a resource id' })),
  resourceType: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  type: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'an event type' })),
  action: Type.Optional(Type.String({ minLength: 1, maxLength: 16 })),
  outcome: Type.Optional(AuditOutcome),
  from: Type.Optional(Type.String({ format: 'date-time', description: 'at or after (`at`)' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'before (`at`)' })),
};

export const ChainBreakKind = Type.Union(
  [
    Type.Literal('altered'),
    Type.Literal('missing'),
    Type.Literal('inserted'),
    Type.Literal('reordered'),
    Type.Literal('truncated'),
    Type.Literal('relinked'),
    Type.Literal('rewritten'),
  ],
  {
    description:
      'altered: a record no longer matches its hash (or its hash was recomputed); missing: sequence numbers absent; inserted: a record the chain goes around; reordered: records swapped; truncated: the trail ends before a checkpoint; relinked: records deleted and the chain recomputed across the gap; rewritten: the chain is consistent but no longer holds the checkpoint’s head',
  },
);
export type ChainBreakKind = Static<typeof ChainBreakKind>;

export const ChainBreak = Type.Object(
  {
    kind: ChainBreakKind,
    seq: Type.Integer({ description: 'first sequence number concerned' }),
    toSeq: Type.Optional(Type.Integer({ description: 'last one, for a run' })),
    detail: Type.String(),
  },
  { additionalProperties: false },
);
export type ChainBreak = Static<typeof ChainBreak>;

export const Checkpoint = Type.Object(
  {
    seq: Type.Integer({ minimum: 1, description: 'the head signed' }),
    hash: Sha256Hex,
    at: Timestamp,
    kid: Type.String({ description: 'the signing key (GET /audit/checkpoints/key)' }),
    jws: Type.String({ description: 'the checkpoint as exported: a compact JWS (ES256) of {seq, hash, at}' }),
  },
  { additionalProperties: false, $id: 'Checkpoint' },
);
export type Checkpoint = Static<typeof Checkpoint>;

export const VerificationReport = Type.Object(
  {
    intact: Type.Boolean({ description: 'no break, and the checkpoint (if any) verified and matched' }),
    from: Type.Integer(),
    to: Type.Union([Type.Integer(), Type.Null()], { description: 'the last seq walked (null: none)' }),
    checked: Type.Integer({ description: 'records read' }),
    checkpoint: Type.Union([
      Type.Object(
        {
          seq: Type.Integer(),
          hash: Sha256Hex,
          at: Timestamp,
          signatureValid: Type.Boolean(),
        },
        { additionalProperties: false },
      ),
      Type.Null(),
    ]),
    breakCount: Type.Integer({ description: 'breaks found (runs of one kind count once)' }),
    breaks: Type.Array(ChainBreak, { description: 'every break, in chain order (at most 1000 listed)' }),
  },
  { additionalProperties: false },
);
export type VerificationReport = Static<typeof VerificationReport>;

/** The audit service's public signing key, as a JWKS (RFC 7517). */
export const AuditJwks = Type.Object({
  keys: Type.Array(Type.Object({}, { additionalProperties: true })),
});
