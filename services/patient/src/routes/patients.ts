import { Type } from '@sinclair/typebox';
import {
  DateOnly,
  Page,
  PageQuery,
  Patient,
  PatientInput,
  PatientPatch,
  PatientStatus,
  Problem,
} from '@hms/contracts';
import {
  IdParams,
  IfMatchHeader,
  ProblemResponses,
  ifMatchOptional,
  ifMatchRequired,
  reportAccess,
  withETag,
  type App,
  type Db,
} from '@hms/platform';
import * as patients from '../patients.js';

const StatusQuery = Type.Optional(
  Type.Union([PatientStatus, Type.Literal('all')], {
    default: 'active',
    description: 'which records to include',
  }),
);
const errors = ProblemResponses;

/** HTTP edge of the Patient service: schema + one call into the use cases per route (STYLE.md §2). */
export function patientRoutes(app: App, db: Db): void {
  const tags = ['patients'];

  app.get(
    '/api/v1/patients',
    {
      config: { permission: 'patients:read', access: { resource: 'patient', action: 'search' } },
      schema: {
        tags,
        operationId: 'listPatients',
        summary: 'List patients (active ones unless `status` says otherwise)',
        description:
          'Patients one page at a time, the active ones unless `status` says otherwise. Every answer is recorded as an access to the patients it lists.',
        querystring: Type.Object({ status: StatusQuery, ...PageQuery }, { additionalProperties: false }),
        response: { 200: Page(Patient), ...errors },
      },
    },
    async (request) => {
      const page = await patients.listPatients(db, request.query);
      reportAccess(request, { ids: page.items.map((p) => p.id) });
      return page;
    },
  );

  app.get(
    '/api/v1/patients/search',
    {
      config: { permission: 'patients:read', access: { resource: 'patient', action: 'search' } },
      schema: {
        tags,
        operationId: 'searchPatients',
        summary:
          'Search patients by name (prefix and fuzzy, case- and accent-insensitive), birth date, MRN, phone, email',
        description:
          'Finds patients by name (prefix and fuzzy, ignoring case and accents), birth date, MRN, phone or email, best matches first, one page at a time. 400 when no criterion is given.',
        querystring: Type.Object(
          {
            name: Type.Optional(Type.String({ minLength: 2, maxLength: 200 })),
            birthDate: Type.Optional(DateOnly),
            mrn: Type.Optional(Type.String({ pattern: '^[A-Za-z]{3}[0-9]{9,}$' })),
            phone: Type.Optional(Type.String({ pattern: '^\\+?[0-9 ()-]{6,32}$' })),
            email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
            status: StatusQuery,
            ...PageQuery,
          },
          { additionalProperties: false },
        ),
        response: { 200: Page(Patient), ...errors },
      },
    },
    async (request) => {
      const page = await patients.searchPatients(db, request.query);
      reportAccess(request, { ids: page.items.map((p) => p.id) });
      return page;
    },
  );

  app.post(
    '/api/v1/patients',
    {
      config: { permission: 'patients:write', idempotent: true, access: { resource: 'patient' } },
      schema: {
        tags,
        operationId: 'createPatient',
        summary: 'Register a patient (409 with existingId when a likely duplicate exists)',
        description:
          'Registers a patient and assigns an MRN; answers 201 with its ETag and `Location`. 409 with `existingId` when a patient with the same name and birth date exists: send `confirmDuplicate=true` to register anyway. Accepts `Idempotency-Key`.',
        querystring: Type.Object(
          { confirmDuplicate: Type.Optional(Type.Boolean({ default: false })) },
          { additionalProperties: false },
        ),
        body: PatientInput,
        response: { 201: Patient, ...errors, 409: Problem },
      },
    },
    async (request, reply) => {
      const patient = await patients.registerPatient(db, request.body, {
        confirmDuplicate: request.query.confirmDuplicate ?? false,
      });
      reportAccess(request, { ids: [patient.id] });
      return withETag(
        reply.code(201).header('location', `/api/v1/patients/${patient.id}`),
        patient.version,
      ).send(patient);
    },
  );

  app.get(
    '/api/v1/patients/:id',
    {
      config: { permission: 'patients:read', access: { resource: 'patient' } },
      schema: {
        tags,
        operationId: 'getPatient',
        summary: 'Get a patient',
        description:
          'One patient record, with the `ETag` an update needs; the read is recorded in the audit trail.',
        params: IdParams,
        response: { 200: Patient, ...errors },
      },
    },
    async (request, reply) => {
      const patient = await patients.getPatient(db, request.params.id);
      return withETag(reply, patient.version).send(patient);
    },
  );

  app.put(
    '/api/v1/patients/:id',
    {
      config: { permission: 'patients:write', access: { resource: 'patient' } },
      schema: {
        tags,
        operationId: 'replacePatient',
        summary: 'Replace a patient record (If-Match required)',
        description:
          'Replaces a patient record. `If-Match` is required (428 without it, 412 when the record changed since it was read).',
        params: IdParams,
        headers: IfMatchHeader,
        body: PatientInput,
        response: { 200: Patient, ...errors, 412: Problem, 428: Problem },
      },
    },
    async (request, reply) => {
      const patient = await patients.replacePatient(
        db,
        request.params.id,
        request.body,
        ifMatchRequired(request),
      );
      return withETag(reply, patient.version).send(patient);
    },
  );

  app.patch(
    '/api/v1/patients/:id',
    {
      config: { permission: 'patients:write', access: { resource: 'patient' } },
      schema: {
        tags,
        operationId: 'updatePatient',
        summary: 'Change some fields (JSON merge patch; If-Match optional)',
        description:
          'Changes some fields of a patient record (JSON merge patch, `application/merge-patch+json`; a null clears an optional field). `If-Match` is optional (412 when it does not match).',
        params: IdParams,
        headers: IfMatchHeader,
        body: PatientPatch,
        response: { 200: Patient, ...errors, 412: Problem },
      },
    },
    async (request, reply) => {
      const patient = await patients.patchPatient(
        db,
        request.params.id,
        request.body,
        ifMatchOptional(request),
      );
      return withETag(reply, patient.version).send(patient);
    },
  );

  app.delete(
    '/api/v1/patients/:id',
    {
      config: { permission: 'patients:write', access: { resource: 'patient' } },
      schema: {
        tags,
        operationId: 'deactivatePatient',
        summary: 'Deactivate a patient (the record is retained)',
        description:
          'Deactivates a patient (204); the record is retained and still readable. `If-Match` is optional (412 when it does not match).',
        params: IdParams,
        headers: IfMatchHeader,
        response: { 204: Type.Null(), ...errors, 412: Problem },
      },
    },
    async (request, reply) => {
      const patient = await patients.deactivatePatient(db, request.params.id, ifMatchOptional(request));
      return withETag(reply.code(204), patient.version).send(null);
    },
  );
}
