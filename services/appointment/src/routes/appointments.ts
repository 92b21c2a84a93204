import { Type } from '@sinclair/typebox';
import {
  Appointment,
  AppointmentInput,
  AppointmentSeries,
  AppointmentStatus,
  AppointmentType,
  AppointmentTypeCode,
  AppointmentTypeInput,
  AppointmentTypeUpdate,
  AppointmentUpdate,
  CancelInput,
  CancelResult,
  Page,
  PageQuery,
  Problem,
  RescheduleInput,
  SlotList,
  Timestamp,
  Uuid,
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
import * as appointments from '../appointments.js';
import { slots } from '../slots.js';
import * as types from '../types.js';

const errors = ProblemResponses;
const BASE = '/api/v1/appointments';
/** find-my-way prefers a static segment to a parameter: `/appointments/types` never reaches `/appointments/:id`. */
const TYPES = `${BASE}/types`;

/** An appointment names its patient: every answer about one is an access to that patient's record. */
function reported<T extends Appointment>(request: FastifyRequest, list: T[]): void {
  reportAccess(request, {
    ids: list.map((a) => a.id),
    patientIds: [...new Set(list.map((a) => a.patientId))],
  });
}

/** HTTP edge of the Appointment service: schema + one call into the use cases per route (STYLE.md §2). */
export function appointmentRoutes(
  app: App,
  ctx: appointments.AppointmentContext,
  opts: { gridMin: number },
): void {
  const tags = ['appointments'];
  const access = { resource: 'appointment' } as const;
  const update = { resource: 'appointment', action: 'update' } as const;

  app.get(
    BASE,
    {
      config: { permission: 'appointments:read', access: { resource: 'appointment', action: 'search' } },
      schema: {
        tags,
        summary: 'List appointments in start order, by patient, staff member, status, series and time range',
        querystring: Type.Object(
          {
            patientId: Type.Optional(Uuid),
            staffId: Type.Optional(Uuid),
            status: Type.Optional(AppointmentStatus),
            seriesId: Type.Optional(Uuid),
            from: Type.Optional(Timestamp),
            to: Type.Optional(Timestamp),
            ...PageQuery,
          },
          { additionalProperties: false },
        ),
        response: { 200: Page(Appointment), ...errors },
      },
    },
    async (request) => {
      const page = await appointments.listAppointments(ctx, callerOf(request), request.query);
      reported(request, page.items);
      return page;
    },
  );

  app.post(
    BASE,
    {
      config: { permission: 'appointments:write', idempotent: true, access },
      schema: {
        tags,
        summary:
          'Book an appointment, or with `recurrence` every occurrence of a series or none (Idempotency-Key accepted)',
        body: AppointmentInput,
        response: {
          201: Type.Union([Appointment, AppointmentSeries]),
          ...errors,
          409: Problem,
          503: Problem,
        },
      },
    },
    async (request, reply) => {
      // the patient is named before the outcome is known: a refused booking is an access attempt too
      reportAccess(request, { patientIds: [request.body.patientId] });
      const booked = await appointments.book(ctx, callerOf(request), request.body);
      if ('seriesId' in booked && 'appointments' in booked) {
        reportAccess(request, { ids: booked.appointments.map((a) => a.id) });
        return reply.code(201).header('location', `${BASE}?seriesId=${booked.seriesId}`).send(booked);
      }
      reportAccess(request, { ids: [booked.id] });
      return withETag(reply.code(201).header('location', `${BASE}/${booked.id}`), booked.version).send(
        booked,
      );
    },
  );

  app.get(
    `${BASE}/slots`,
    {
      config: { permission: 'appointments:read' },
      schema: {
        tags,
        summary:
          'Bookable slots of a type for a staff member, or the active staff of a specialty and/or department, in [from, to) (at most 31 days)',
        querystring: Type.Object(
          {
            type: AppointmentTypeCode,
            from: Timestamp,
            to: Timestamp,
            staffId: Type.Optional(Uuid),
            specialty: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
            department: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 2000, default: 500 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: SlotList, ...errors, 503: Problem },
      },
    },
    (request) => slots(ctx, callerOf(request), request.query, opts.gridMin),
  );

  app.get(
    `${BASE}/:id`,
    {
      config: { permission: 'appointments:read', access },
      schema: {
        tags,
        summary: 'Get an appointment with its history',
        params: IdParams,
        response: { 200: Appointment, ...errors },
      },
    },
    async (request, reply) => {
      const a = await appointments.getAppointment(ctx, callerOf(request), request.params.id);
      reported(request, [a]);
      return withETag(reply, a.version).send(a);
    },
  );

  app.put(
    `${BASE}/:id`,
    {
      config: { permission: 'appointments:write', access },
      schema: {
        tags,
        summary:
          'Replace the details (reason, location; If-Match required); the time changes through /reschedule',
        params: IdParams,
        headers: IfMatchHeader,
        body: AppointmentUpdate,
        response: { 200: Appointment, ...errors, 409: Problem, 412: Problem, 428: Problem },
      },
    },
    async (request, reply) => {
      const a = await appointments.updateDetails(
        ctx,
        callerOf(request),
        request.params.id,
        request.body,
        ifMatchRequired(request),
      );
      reported(request, [a]);
      return withETag(reply, a.version).send(a);
    },
  );

  app.delete(
    `${BASE}/:id`,
    {
      config: { permission: 'appointments:write', access },
      schema: {
        tags,
        summary: 'Cancel an appointment (this occurrence only; If-Match optional)',
        params: IdParams,
        headers: IfMatchHeader,
        response: { 204: Type.Null(), ...errors, 409: Problem, 412: Problem },
      },
    },
    async (request, reply) => {
      const [a] = await appointments.cancel(
        ctx,
        callerOf(request),
        request.params.id,
        {},
        ifMatchOptional(request),
      );
      if (a) reported(request, [a]);
      return reply.code(204).send(null);
    },
  );

  app.post(
    `${BASE}/:id/cancel`,
    {
      config: { permission: 'appointments:write', access: update },
      schema: {
        tags,
        summary: "Cancel with a reason; scope 'following' cancels the later occurrences of its series too",
        params: IdParams,
        headers: IfMatchHeader,
        body: CancelInput,
        response: { 200: CancelResult, ...errors, 409: Problem, 412: Problem },
      },
    },
    async (request) => {
      const cancelled = await appointments.cancel(
        ctx,
        callerOf(request),
        request.params.id,
        request.body,
        ifMatchOptional(request),
      );
      reported(request, cancelled);
      return { cancelled };
    },
  );

  app.post(
    `${BASE}/:id/reschedule`,
    {
      config: { permission: 'appointments:write', access: update },
      schema: {
        tags,
        summary: 'Move to a new start (and end); the id stays, the previous slot is kept in the history',
        params: IdParams,
        headers: IfMatchHeader,
        body: RescheduleInput,
        response: { 200: Appointment, ...errors, 409: Problem, 412: Problem, 503: Problem },
      },
    },
    async (request, reply) => {
      const a = await appointments.reschedule(
        ctx,
        callerOf(request),
        request.params.id,
        request.body,
        ifMatchOptional(request),
      );
      reported(request, [a]);
      return withETag(reply, a.version).send(a);
    },
  );

  for (const action of ['check-in', 'complete', 'no-show'] as const) {
    app.post(
      `${BASE}/:id/${action}`,
      {
        config: { permission: 'appointments:write', access: update },
        schema: {
          tags,
          summary: `Mark the appointment ${action === 'check-in' ? 'checked in' : action === 'complete' ? 'completed' : 'no-show'} (409 when its status does not allow it)`,
          params: IdParams,
          response: { 200: Appointment, ...errors, 409: Problem },
        },
      },
      async (request, reply) => {
        const a = await appointments.advance(ctx, callerOf(request), request.params.id, action);
        reported(request, [a]);
        return withETag(reply, a.version).send(a);
      },
    );
  }

  // ---- appointment types (data)

  const CodeParams = Type.Object({ code: AppointmentTypeCode });

  app.get(
    TYPES,
    {
      config: { permission: 'appointments:read' },
      schema: {
        tags,
        summary: 'List appointment types in code order',
        querystring: Type.Object(
          { active: Type.Optional(Type.Boolean()), ...PageQuery },
          { additionalProperties: false },
        ),
        response: { 200: Page(AppointmentType), ...errors },
      },
    },
    (request) => types.listTypes(ctx, callerOf(request), request.query),
  );

  app.post(
    TYPES,
    {
      config: { permission: 'appointments:write', idempotent: true },
      schema: {
        tags,
        summary: 'Create an appointment type (its code is stable: what billing prices)',
        body: AppointmentTypeInput,
        response: { 201: AppointmentType, ...errors, 409: Problem },
      },
    },
    async (request, reply) => {
      const t = await types.createType(ctx, callerOf(request), request.body);
      return withETag(reply.code(201).header('location', `${TYPES}/${t.code}`), t.version).send(t);
    },
  );

  app.get(
    `${TYPES}/:code`,
    {
      config: { permission: 'appointments:read' },
      schema: {
        tags,
        summary: 'Get an appointment type',
        params: CodeParams,
        response: { 200: AppointmentType, ...errors },
      },
    },
    async (request, reply) => {
      const t = await types.getType(ctx, callerOf(request), request.params.code);
      return withETag(reply, t.version).send(t);
    },
  );

  app.put(
    `${TYPES}/:code`,
    {
      config: { permission: 'appointments:write' },
      schema: {
        tags,
        summary:
          'Replace an appointment type (If-Match required); booked appointments keep their duration and buffers',
        params: CodeParams,
        headers: IfMatchHeader,
        body: AppointmentTypeUpdate,
        response: { 200: AppointmentType, ...errors, 412: Problem, 428: Problem },
      },
    },
    async (request, reply) => {
      const t = await types.replaceType(
        ctx,
        callerOf(request),
        request.params.code,
        request.body,
        ifMatchRequired(request),
      );
      return withETag(reply, t.version).send(t);
    },
  );
}
