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
        operationId: 'listAppointments',
        summary: 'List appointments in start order, by patient, staff member, status, series and time range',
        description:
          'Appointments in start order, filtered by patient, staff member, status, series and a time range, one page at a time. Every answer is recorded as an access to the patients it names.',
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
        operationId: 'bookAppointment',
        summary:
          'Book an appointment, or with `recurrence` every occurrence of a series or none (Idempotency-Key accepted)',
        description:
          'Books one appointment (201 with its ETag and `Location`), or with `recurrence` every occurrence of a series or none of them. 409 when the slot overlaps another appointment of the staff member or the patient, is outside their availability, or the patient, staff member or type is inactive; 503 with `Retry-After` when the staff service must be asked and cannot answer. Accepts `Idempotency-Key`.',
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
        operationId: 'listAppointmentSlots',
        summary:
          'Bookable slots of a type for a staff member, or the active staff of a specialty and/or department, in [from, to) (at most 31 days)',
        description:
          'Free start times for an appointment type in [from, to) (at most 31 days), for one staff member or for every active staff member of a specialty and/or department. 503 when the staff service cannot be asked.',
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
        operationId: 'getAppointment',
        summary: 'Get an appointment with its history',
        description:
          'One appointment with its history of changes; the `ETag` it answers is the `If-Match` of an update.',
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
        operationId: 'replaceAppointment',
        summary:
          'Replace the details (reason, location; If-Match required); the time changes through /reschedule',
        description:
          'Replaces the reason and location of an appointment; `If-Match` is required (428 without it, 412 when the appointment changed since it was read). The time changes only through `rescheduleAppointment`; 409 when its status no longer allows changes.',
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
        operationId: 'cancelAppointmentOccurrence',
        summary: 'Cancel an appointment (this occurrence only; If-Match optional)',
        description:
          'Cancels this appointment only (not the rest of its series), without a reason; answers 204. 409 when its status does not allow a cancellation; `If-Match` is optional (412 when it does not match).',
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
        operationId: 'cancelAppointment',
        summary: "Cancel with a reason; scope 'following' cancels the later occurrences of its series too",
        description:
          'Cancels an appointment with a reason and answers every appointment cancelled; scope `following` also cancels the later occurrences of its series. 409 when its status does not allow it; `If-Match` is optional (412 when it does not match).',
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
        operationId: 'rescheduleAppointment',
        summary: 'Move to a new start (and end); the id stays, the previous slot is kept in the history',
        description:
          'Moves an appointment to a new start (and end), keeping its id; the previous slot stays in its history. 409 when the new slot is taken or unavailable, 503 when the staff service cannot be asked; `If-Match` is optional.',
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

  const advances = {
    'check-in': {
      operationId: 'checkInAppointment',
      description:
        'Marks a scheduled appointment checked in: the patient has arrived. 409 from any status but scheduled.',
    },
    complete: {
      operationId: 'completeAppointment',
      description: 'Marks a checked-in appointment completed. 409 from any status but checked-in.',
    },
    'no-show': {
      operationId: 'markAppointmentNoShow',
      description:
        'Marks a scheduled appointment a no-show: the patient did not come. 409 from any status but scheduled.',
    },
  } as const;
  for (const action of ['check-in', 'complete', 'no-show'] as const) {
    app.post(
      `${BASE}/:id/${action}`,
      {
        config: { permission: 'appointments:write', access: update },
        schema: {
          tags,
          operationId: advances[action].operationId,
          summary: `Mark the appointment ${action === 'check-in' ? 'checked in' : action === 'complete' ? 'completed' : 'no-show'} (409 when its status does not allow it)`,
          description: advances[action].description,
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
        operationId: 'listAppointmentTypes',
        summary: 'List appointment types in code order',
        description:
          'The appointment types in code order, optionally only the active ones. A type names its duration and buffers; its code is what billing prices.',
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
        operationId: 'createAppointmentType',
        summary: 'Create an appointment type (its code is stable: what billing prices)',
        description:
          'Creates an appointment type; its code never changes once created. 409 when a type with that code exists. Accepts `Idempotency-Key`.',
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
        operationId: 'getAppointmentType',
        summary: 'Get an appointment type',
        description: 'One appointment type by its code, with the `ETag` an update needs.',
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
        operationId: 'replaceAppointmentType',
        summary:
          'Replace an appointment type (If-Match required); booked appointments keep their duration and buffers',
        description:
          'Replaces an appointment type; `If-Match` is required (428 without it, 412 when it changed since it was read). Appointments already booked keep the duration and buffers they were booked with.',
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
