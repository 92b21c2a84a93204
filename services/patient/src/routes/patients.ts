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
        summary: 'List patients (active ones unless `status` says otherwise)',
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
        summary:
          'Search patients by name (prefix and fuzzy, case- and accent-insensitive), birth date, MRN, phone, email',
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
        summary: 'Register a patient (409 with existingId when a likely duplicate exists)',
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
      schema: { tags, summary: 'Get a patient', params: IdParams, response: { 200: Patient, ...errors } },
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
        summary: 'Replace a patient record (If-Match required)',
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
        summary: 'Change some fields (JSON merge patch; If-Match optional)',
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
        summary: 'Deactivate a patient (the record is retained)',
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
