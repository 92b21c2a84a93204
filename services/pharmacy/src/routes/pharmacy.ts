import { Type } from '@sinclair/typebox';
import {
  DispenseInput,
  DispenseRecord,
  Medication,
  MedicationInput,
  Page,
  PageQuery,
  Prescription,
  PrescriptionCancelInput,
  PrescriptionFill,
  PrescriptionInput,
  PrescriptionStatus,
  Problem,
  Uuid,
  WardDispense,
} from '@hms/contracts';
import {
  IdParams,
  IfMatchHeader,
  ProblemResponses,
  callerOf,
  ifMatchOptional,
  ifMatchRequired,
  reportAccess,
  withETag,
  type App,
} from '@hms/platform';
import type { FastifyRequest } from 'fastify';
import * as fills from '../fills.js';
import * as medications from '../medications.js';
import * as prescriptions from '../prescriptions.js';

const errors = ProblemResponses;
const MEDICATIONS = '/api/v1/medications';
const PRESCRIPTIONS = '/api/v1/prescriptions';

/** A prescription names its patient: every answer about one is an access to that patient's record. */
function reported(request: FastifyRequest, list: Prescription[]): void {
  reportAccess(request, {
    ids: list.map((p) => p.id),
    patientIds: [...new Set(list.map((p) => p.patientId))],
  });
}

/** HTTP edge of the Pharmacy service: schema + one call into the use cases per route (STYLE.md §2). */
export function pharmacyRoutes(app: App, ctx: medications.PharmacyContext): void {
  // ---- formulary (not patient data: no access records)
  const medTags = ['medications'];

  app.get(
    MEDICATIONS,
    {
      config: { permission: 'medications:read' },
      schema: {
        tags: medTags,
        operationId: 'listMedications',
        summary:
          'List the formulary in creation order; by code, name (part, any case), drug class or ingredient (any case), active',
        description:
          'The formulary in creation order, filtered by code, name (any part, any case), drug class, ingredient and whether active.',
        querystring: Type.Object(
          {
            code: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            drugClass: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            ingredient: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            active: Type.Optional(Type.Boolean()),
            ...PageQuery,
          },
          { additionalProperties: false },
        ),
        response: { 200: Page(Medication), ...errors },
      },
    },
    (request) => medications.listMedications(ctx, callerOf(request), request.query),
  );

  app.post(
    MEDICATIONS,
    {
      config: { permission: 'medications:write', idempotent: true },
      schema: {
        tags: medTags,
        operationId: 'createMedication',
        summary: 'Add a medication to the formulary (its code is unique)',
        description:
          'Adds a medication to the formulary. 409 when a medication with that code exists. Accepts `Idempotency-Key`.',
        body: MedicationInput,
        response: { 201: Medication, ...errors, 409: Problem },
      },
    },
    async (request, reply) => {
      const m = await medications.createMedication(ctx, callerOf(request), request.body);
      return withETag(reply.code(201).header('location', `${MEDICATIONS}/${m.id}`), m.version).send(m);
    },
  );

  app.get(
    `${MEDICATIONS}/:id`,
    {
      config: { permission: 'medications:read' },
      schema: {
        tags: medTags,
        operationId: 'getMedication',
        summary: 'Get a medication',
        description: 'One medication of the formulary, with the `ETag` an update needs.',
        params: IdParams,
        response: { 200: Medication, ...errors },
      },
    },
    async (request, reply) => {
      const m = await medications.getMedication(ctx, callerOf(request), request.params.id);
      return withETag(reply, m.version).send(m);
    },
  );

  app.put(
    `${MEDICATIONS}/:id`,
    {
      config: { permission: 'medications:write' },
      schema: {
        tags: medTags,
        operationId: 'replaceMedication',
        summary: 'Replace a medication (If-Match required); prescriptions written keep naming it',
        description:
          'Replaces a medication; prescriptions already written keep naming it. `If-Match` is required (428 without it, 412 when it changed); 409 when the new code is taken.',
        params: IdParams,
        headers: IfMatchHeader,
        body: MedicationInput,
        response: { 200: Medication, ...errors, 409: Problem, 412: Problem, 428: Problem },
      },
    },
    async (request, reply) => {
      const m = await medications.replaceMedication(
        ctx,
        callerOf(request),
        request.params.id,
        request.body,
        ifMatchRequired(request),
      );
      return withETag(reply, m.version).send(m);
    },
  );

  app.delete(
    `${MEDICATIONS}/:id`,
    {
      config: { permission: 'medications:write' },
      schema: {
        tags: medTags,
        operationId: 'withdrawMedication',
        summary:
          'Withdraw a medication from the formulary (kept, `active: false`, no longer prescribable; If-Match optional)',
        description:
          'Withdraws a medication from the formulary (204): it is kept with `active: false` and can no longer be prescribed. `If-Match` is optional (412 when it does not match).',
        params: IdParams,
        headers: IfMatchHeader,
        response: { 204: Type.Null(), ...errors, 412: Problem },
      },
    },
    async (request, reply) => {
      await medications.withdrawMedication(
        ctx,
        callerOf(request),
        request.params.id,
        ifMatchOptional(request),
      );
      return reply.code(204).send(null);
    },
  );

  // ---- prescriptions (patient data: every answer is recorded with its patient)
  const tags = ['prescriptions'];
  const access = { resource: 'prescription' } as const;

  app.get(
    PRESCRIPTIONS,
    {
      config: { permission: 'prescriptions:read', access: { resource: 'prescription', action: 'search' } },
      schema: {
        tags,
        operationId: 'listPrescriptions',
        summary: 'List prescriptions in creation order, by patient, prescriber and status',
        description:
          'Prescriptions in creation order, filtered by patient, prescriber and status. Every answer is recorded as an access to the patients it names.',
        querystring: Type.Object(
          {
            patientId: Type.Optional(Uuid),
            prescriberId: Type.Optional(Uuid),
            status: Type.Optional(PrescriptionStatus),
            ...PageQuery,
          },
          { additionalProperties: false },
        ),
        response: { 200: Page(Prescription), ...errors },
      },
    },
    async (request) => {
      const page = await prescriptions.listPrescriptions(ctx, callerOf(request), request.query);
      reported(request, page.items);
      return page;
    },
  );

  app.post(
    PRESCRIPTIONS,
    {
      config: { permission: 'prescriptions:write', idempotent: true, access },
      schema: {
        tags,
        operationId: 'createPrescription',
        summary:
          "Prescribe: the prescriber must be an active physician; a medication matching one of the patient's allergies is 409 unless `overrideReason` is given (Idempotency-Key accepted)",
        description:
          "Writes a prescription; the prescriber must be an active physician (409 otherwise). A medication matching one of the patient's allergies is 409 unless `overrideReason` is given; 503 when the patient's allergies cannot be read, so no prescription skips the check. Accepts `Idempotency-Key`.",
        body: PrescriptionInput,
        response: { 201: Prescription, ...errors, 409: Problem, 503: Problem },
      },
    },
    async (request, reply) => {
      // the patient is named before the outcome is known: a refused prescription is an access attempt too
      reportAccess(request, { patientIds: [request.body.patientId] });
      const p = await prescriptions.createPrescription(ctx, callerOf(request), request.body);
      reportAccess(request, { ids: [p.id] });
      return withETag(reply.code(201).header('location', `${PRESCRIPTIONS}/${p.id}`), p.version).send(p);
    },
  );

  app.get(
    `${PRESCRIPTIONS}/:id`,
    {
      config: { permission: 'prescriptions:read', access },
      schema: {
        tags,
        operationId: 'getPrescription',
        summary: 'Get a prescription with its items and fills',
        description: 'One prescription with its items and its fills so far.',
        params: IdParams,
        response: { 200: Prescription, ...errors },
      },
    },
    async (request, reply) => {
      const p = await prescriptions.getPrescription(ctx, callerOf(request), request.params.id);
      reported(request, [p]);
      return withETag(reply, p.version).send(p);
    },
  );

  app.post(
    `${PRESCRIPTIONS}/:id/cancel`,
    {
      config: { permission: 'prescriptions:write', access: { resource: 'prescription', action: 'update' } },
      schema: {
        tags,
        operationId: 'cancelPrescription',
        summary: 'Cancel a prescription that can still be filled, with a reason (If-Match optional)',
        description:
          'Cancels a prescription that can still be filled, with a reason. 409 when its status does not allow it; `If-Match` is optional (412 when it does not match).',
        params: IdParams,
        headers: IfMatchHeader,
        body: PrescriptionCancelInput,
        response: { 200: Prescription, ...errors, 409: Problem, 412: Problem },
      },
    },
    async (request, reply) => {
      const p = await prescriptions.cancelPrescription(
        ctx,
        callerOf(request),
        request.params.id,
        request.body,
        ifMatchOptional(request),
      );
      reported(request, [p]);
      return withETag(reply, p.version).send(p);
    },
  );

  // ---- dispensing (the saga with Inventory)

  app.post(
    `${PRESCRIPTIONS}/:id/fill`,
    {
      config: {
        permission: 'prescriptions:fill',
        idempotent: true,
        access: { resource: 'prescription', action: 'update' },
      },
      schema: {
        tags,
        operationId: 'fillPrescription',
        summary:
          'Fill a prescription: reserve, confirm and dispense each item with a fill left (201 with the completed fill and its lots; 409 with the reason when rejected, every step compensated; Idempotency-Key makes a repeated request one fill)',
        description:
          'Fills a prescription: reserves, confirms and dispenses each item with a fill left, as a saga with Inventory (201 with the fill and the lots it used). 409 with the reason when it cannot be filled or is rejected, every step compensated; 503 when Inventory cannot be asked. Send `Idempotency-Key` so that a retried request is one fill.',
        params: IdParams,
        response: { 201: PrescriptionFill, ...errors, 409: Problem, 503: Problem },
      },
    },
    async (request, reply) => {
      const { fill, patientId } = await fills.fillPrescription(ctx, callerOf(request), request.params.id);
      reportAccess(request, { ids: [request.params.id], patientIds: [patientId] });
      return reply.code(201).header('location', `${PRESCRIPTIONS}/${request.params.id}`).send(fill);
    },
  );

  app.post(
    `${MEDICATIONS}/:id/dispense`,
    {
      config: {
        permission: 'medications:dispense',
        idempotent: true,
        access: { resource: 'dispense', action: 'create' },
      },
      schema: {
        tags: medTags,
        operationId: 'dispenseMedication',
        summary:
          'Dispense ward stock without a prescription, through the same saga (201 when completed; 409 with the reason when rejected)',
        description:
          'Dispenses ward stock of a medication without a prescription, through the same saga as a fill (201 when completed). 409 with the reason when rejected or when the medication names no inventory item; 503 when Inventory cannot be asked. Accepts `Idempotency-Key`.',
        params: IdParams,
        body: DispenseInput,
        response: { 201: WardDispense, ...errors, 409: Problem, 503: Problem },
      },
    },
    async (request, reply) => {
      if (request.body.patientId) reportAccess(request, { patientIds: [request.body.patientId] });
      const d = await fills.dispenseMedication(ctx, callerOf(request), request.params.id, request.body);
      reportAccess(request, { ids: [d.id] });
      return reply.code(201).send(d);
    },
  );

  app.get(
    `${MEDICATIONS}/:id/dispenses`,
    {
      config: { permission: 'medications:read', access: { resource: 'dispense', action: 'search' } },
      schema: {
        tags: medTags,
        operationId: 'listMedicationDispenses',
        summary: "A medication's dispense history, in dispense order, each with its lots",
        description:
          "A medication's dispenses in dispense order (fills and ward dispenses), each with the lots it used.",
        params: IdParams,
        querystring: Type.Object({ ...PageQuery }, { additionalProperties: false }),
        response: { 200: Page(DispenseRecord), ...errors },
      },
    },
    async (request) => {
      const page = await fills.listDispenses(ctx, callerOf(request), request.params.id, request.query);
      reportAccess(request, {
        ids: page.items.map((d) => d.dispenseId),
        patientIds: [...new Set(page.items.flatMap((d) => (d.patientId ? [d.patientId] : [])))],
      });
      return page;
    },
  );
}
