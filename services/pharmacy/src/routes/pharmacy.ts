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
        summary:
          'List the formulary in creation order; by code, name (part, any case), drug class or ingredient (any case), active',
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
        summary: 'Add a medication to the formulary (its code is unique)',
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
        summary: 'Get a medication',
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
        summary: 'Replace a medication (If-Match required); prescriptions written keep naming it',
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
        summary:
          'Withdraw a medication from the formulary (kept, `active: false`, no longer prescribable; If-Match optional)',
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
        summary: 'List prescriptions in creation order, by patient, prescriber and status',
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
        summary:
          "Prescribe: the prescriber must be an active physician; a medication matching one of the patient's allergies is 409 unless `overrideReason` is given (Idempotency-Key accepted)",
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
        summary: 'Get a prescription with its items and fills',
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
        summary: 'Cancel a prescription that can still be filled, with a reason (If-Match optional)',
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
        summary:
          'Fill a prescription: reserve, confirm and dispense each item with a fill left (201 with the completed fill and its lots; 409 with the reason when rejected, every step compensated; Idempotency-Key makes a repeated request one fill)',
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
        summary:
          'Dispense ward stock without a prescription, through the same saga (201 when completed; 409 with the reason when rejected)',
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
        summary: "A medication's dispense history, in dispense order, each with its lots",
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
