import { Type } from '@sinclair/typebox';
import {
  AuditEventQuery,
  AuditJwks,
  AuditRecord,
  Checkpoint,
  Page,
  PageQuery,
  Problem,
  Timestamp,
  Uuid,
  VerificationReport,
} from '@hms/contracts';
import { IdParams, ProblemResponses, callerOf, reportAccess, type App } from '@hms/platform';
import * as checkpoints from '../checkpoints.js';
import type { AuditContext } from '../context.js';
import * as records from '../records.js';
import { verifyTrail } from '../verify.js';

const errors = ProblemResponses;
const AUDIT = '/api/v1/audit';
const tags = ['audit'];
const Seq = (description: string) => Type.Integer({ minimum: 1, description });

/** HTTP edge of the Audit service: schema + one call into the use cases per route (STYLE.md §2). */
export function auditRoutes(app: App, ctx: AuditContext): void {
  // ---- the trail: reading it names patients, so each read is itself an access record

  app.get(
    `${AUDIT}/events`,
    {
      config: { permission: 'audit:read', access: { resource: 'audit-record', action: 'search' } },
      schema: {
        tags,
        operationId: 'searchAuditRecords',
        summary: 'Search the trail, newest first: by actor, patient, resource, type, action, outcome, time',
        description:
          'Searches the audit trail, newest first, by actor, patient, resource, type, action, outcome and time. Reading the trail is itself recorded as an access to the patients it names.',
        querystring: Type.Object({ ...AuditEventQuery, ...PageQuery }, { additionalProperties: false }),
        response: { 200: Page(AuditRecord), ...errors },
      },
    },
    async (request) => {
      const page = await records.listRecords(ctx, callerOf(request), request.query);
      reportAccess(request, {
        ids: page.items.map((r) => r.id),
        patientIds: records.patientsNamed(page.items),
      });
      return page;
    },
  );

  app.get(
    `${AUDIT}/events/:id`,
    {
      config: { permission: 'audit:read', access: { resource: 'audit-record' } },
      schema: {
        tags,
        operationId: 'getAuditRecord',
        summary: 'One record of the trail',
        description: 'One record of the audit trail by id; 404 when the trail holds none with that id.',
        params: IdParams,
        response: { 200: AuditRecord, ...errors },
      },
    },
    async (request) => {
      const record = await records.getRecord(ctx, callerOf(request), request.params.id);
      reportAccess(request, { patientIds: record.patientIds });
      return record;
    },
  );

  app.get(
    `${AUDIT}/patients/:id/accesses`,
    {
      config: { permission: 'audit:read', access: { resource: 'patient', action: 'search' } },
      schema: {
        tags,
        operationId: 'listPatientAccesses',
        summary:
          "Who read or changed one patient's records, and when (the accounting of disclosures), newest first",
        description:
          "Every read or change of one patient's records, newest first, optionally within a time range: the accounting of disclosures a patient may ask for.",
        params: Type.Object({ id: Uuid }),
        querystring: Type.Object(
          { from: Type.Optional(Timestamp), to: Type.Optional(Timestamp), ...PageQuery },
          { additionalProperties: false },
        ),
        response: { 200: Page(AuditRecord), ...errors },
      },
    },
    (request) => records.patientAccesses(ctx, callerOf(request), request.params.id, request.query),
  );

  // ---- integrity

  app.get(
    `${AUDIT}/verify`,
    {
      // a walk of a million records takes ~25 s here (docs/benchmarks.md): more than a gateway's
      // default timeout, so the operation says how long it may take
      config: { permission: 'audit:read', timeoutMs: 120_000 },
      schema: {
        tags,
        operationId: 'verifyAuditTrail',
        summary:
          'Verify the chain (or a range of seqs) against a signed checkpoint (default: the newest); lists every break',
        description:
          'Recomputes the hash chain of the trail (or of a range of seqs) and checks it against a signed checkpoint, the newest by default. The report lists every break found; 404 when no exported checkpoint has the seq given. A whole large trail takes a while (about 25 s for a million records): `x-timeout-ms` gives the gateway the time, and `from`/`to` verify a stretch.',
        querystring: Type.Object(
          {
            from: Type.Optional(Seq('first seq to verify (default 1)')),
            to: Type.Optional(Seq('last seq to verify (default: the end)')),
            checkpoint: Type.Optional(Seq('the seq of the exported checkpoint to verify against')),
          },
          { additionalProperties: false },
        ),
        response: { 200: VerificationReport, ...errors },
      },
    },
    (request) => verifyTrail(ctx, callerOf(request), request.query),
  );

  app.get(
    `${AUDIT}/checkpoints`,
    {
      config: { permission: 'audit:read' },
      schema: {
        tags,
        operationId: 'listAuditCheckpoints',
        summary: 'The exported signed checkpoints, newest first',
        description:
          'The signed checkpoints exported so far, newest first; each signs the head of the chain at its seq.',
        querystring: Type.Object({ ...PageQuery }, { additionalProperties: false }),
        response: { 200: Page(Checkpoint), ...errors },
      },
    },
    (request) => checkpoints.listCheckpoints(ctx, callerOf(request), request.query),
  );

  app.post(
    `${AUDIT}/checkpoints`,
    {
      config: { permission: 'audit:manage', idempotent: true },
      schema: {
        tags,
        operationId: 'createAuditCheckpoint',
        summary:
          'Sign and export a checkpoint of the head now (200 with the newest when it already signs the head)',
        description:
          'Signs and exports a checkpoint of the head of the trail now (201), or answers the newest one (200) when it already signs the head. 409 when the trail is empty. Accepts `Idempotency-Key`.',
        response: { 200: Checkpoint, 201: Checkpoint, ...errors, 409: Problem },
      },
    },
    async (request, reply) => {
      const { checkpoint, created } = await checkpoints.takeCheckpoint(ctx, callerOf(request));
      return reply.code(created ? 201 : 200).send(checkpoint);
    },
  );

  // Public: the key proves nothing secret, and whoever holds an exported checkpoint (an outside
  // auditor, the archive that keeps the files) must be able to check it without an account here.
  app.get(
    `${AUDIT}/checkpoints/key`,
    {
      config: { public: true },
      schema: {
        tags,
        operationId: 'getAuditCheckpointKeys',
        summary: 'The public key (JWKS) that verifies every checkpoint',
        description:
          'The public keys (a JWKS) that verify the signature of every exported checkpoint. Public: an outside auditor holding a checkpoint needs no account to check it.',
        response: { 200: AuditJwks },
      },
    },
    () => checkpoints.checkpointKeys(ctx),
  );
}
