import { Type } from '@sinclair/typebox';
import {
  AppointmentStatus,
  Assignment,
  Closure,
  ClosureInput,
  DateOnly,
  Page,
  PageQuery,
  Problem,
  Staff,
  StaffAvailability,
  StaffInput,
  StaffPatch,
  StaffRole,
  TimeOff,
  TimeOffInput,
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
import { listAssignments } from '../assignments.js';
import { staffAvailability } from '../availability.js';
import * as staff from '../staff.js';

const errors = ProblemResponses;
const STAFF = '/api/v1/staff';
/** find-my-way prefers a static segment to a parameter: `/staff/closures` never reaches `/staff/:id`. */
const CLOSURES = `${STAFF}/closures`;

/** HTTP edge of the Staff service: schema + one call into the use cases per route (STYLE.md §2). */
export function staffRoutes(app: App, ctx: staff.StaffContext): void {
  const tags = ['staff'];

  app.get(
    STAFF,
    {
      config: { permission: 'staff:read' },
      schema: {
        tags,
        operationId: 'listStaffMembers',
        summary: 'List staff members, filtered by role, department, specialty and whether active',
        description:
          'Staff members one page at a time, filtered by role, department, specialty and whether active.',
        querystring: Type.Object(
          {
            role: Type.Optional(StaffRole),
            department: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
            specialty: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
            active: Type.Optional(Type.Boolean()),
            ...PageQuery,
          },
          { additionalProperties: false },
        ),
        response: { 200: Page(Staff), ...errors },
      },
    },
    (request) => staff.listStaff(ctx, callerOf(request), request.query),
  );

  app.post(
    STAFF,
    {
      config: { permission: 'staff:write', idempotent: true },
      schema: {
        tags,
        operationId: 'createStaffMember',
        summary: 'Onboard a staff member (weekly hours in their IANA time zone; Idempotency-Key accepted)',
        description:
          'Onboards a staff member with their weekly working hours, given in their IANA time zone; answers 201 with its ETag. Accepts `Idempotency-Key`.',
        body: StaffInput,
        response: { 201: Staff, ...errors },
      },
    },
    async (request, reply) => {
      const s = await staff.onboardStaff(ctx, callerOf(request), request.body);
      return withETag(reply.code(201).header('location', `${STAFF}/${s.id}`), s.version).send(s);
    },
  );

  app.get(
    `${STAFF}/:id`,
    {
      config: { permission: 'staff:read' },
      schema: {
        tags,
        operationId: 'getStaffMember',
        summary: 'Get a staff member',
        description: 'One staff member, with the `ETag` an update needs.',
        params: IdParams,
        response: { 200: Staff, ...errors },
      },
    },
    async (request, reply) => {
      const s = await staff.getStaff(ctx, callerOf(request), request.params.id);
      return withETag(reply, s.version).send(s);
    },
  );

  app.put(
    `${STAFF}/:id`,
    {
      config: { permission: 'staff:write' },
      schema: {
        tags,
        operationId: 'replaceStaffMember',
        summary: 'Replace a staff record (If-Match required)',
        description:
          'Replaces a staff record. `If-Match` is required (428 without it, 412 when it changed); 409 when it would deactivate someone with active appointments to come.',
        params: IdParams,
        headers: IfMatchHeader,
        body: StaffInput,
        response: { 200: Staff, ...errors, 409: Problem, 412: Problem, 428: Problem },
      },
    },
    async (request, reply) => {
      const s = await staff.replaceStaff(
        ctx,
        callerOf(request),
        request.params.id,
        request.body,
        ifMatchRequired(request),
      );
      return withETag(reply, s.version).send(s);
    },
  );

  app.patch(
    `${STAFF}/:id`,
    {
      config: { permission: 'staff:write' },
      schema: {
        tags,
        operationId: 'updateStaffMember',
        summary: 'Change some fields (JSON merge patch; If-Match optional)',
        description:
          'Changes some fields of a staff record (JSON merge patch). `If-Match` is optional (412 when it does not match); 409 when it would deactivate someone with active appointments to come.',
        params: IdParams,
        headers: IfMatchHeader,
        body: StaffPatch,
        response: { 200: Staff, ...errors, 409: Problem, 412: Problem },
      },
    },
    async (request, reply) => {
      const s = await staff.patchStaff(
        ctx,
        callerOf(request),
        request.params.id,
        request.body,
        ifMatchOptional(request),
      );
      return withETag(reply, s.version).send(s);
    },
  );

  app.delete(
    `${STAFF}/:id`,
    {
      config: { permission: 'staff:write' },
      schema: {
        tags,
        operationId: 'deactivateStaffMember',
        summary: 'Deactivate a staff member (the record is retained; If-Match optional)',
        description:
          'Deactivates a staff member (204); the record is retained. 409 while they have active appointments to come; `If-Match` is optional (412 when it does not match).',
        params: IdParams,
        headers: IfMatchHeader,
        response: { 204: Type.Null(), ...errors, 409: Problem, 412: Problem },
      },
    },
    async (request, reply) => {
      const s = await staff.deactivateStaff(
        ctx,
        callerOf(request),
        request.params.id,
        ifMatchOptional(request),
      );
      return withETag(reply.code(204), s.version).send(null);
    },
  );

  // ---- time off

  app.post(
    `${STAFF}/:id/time-off`,
    {
      config: { permission: 'staff:write', idempotent: true },
      schema: {
        tags,
        operationId: 'createStaffTimeOff',
        summary: 'Record time off of a staff member (start and end instants, RFC 3339 UTC)',
        description:
          'Records time off of a staff member between two instants (RFC 3339, UTC); it is taken out of their availability. Accepts `Idempotency-Key`.',
        params: IdParams,
        body: TimeOffInput,
        response: { 201: TimeOff, ...errors },
      },
    },
    async (request, reply) => {
      const t = await staff.addTimeOff(ctx, callerOf(request), request.params.id, request.body);
      return reply.code(201).header('location', `${STAFF}/${t.staffId}/time-off/${t.id}`).send(t);
    },
  );

  app.get(
    `${STAFF}/:id/time-off`,
    {
      config: { permission: 'staff:read' },
      schema: {
        tags,
        operationId: 'listStaffTimeOff',
        summary: 'List time off of a staff member in start order (overlapping from–to when given)',
        description: "A staff member's time off in start order, only what overlaps from–to when given.",
        params: IdParams,
        querystring: Type.Object(
          { from: Type.Optional(Timestamp), to: Type.Optional(Timestamp), ...PageQuery },
          { additionalProperties: false },
        ),
        response: { 200: Page(TimeOff), ...errors },
      },
    },
    (request) => staff.listTimeOff(ctx, callerOf(request), request.params.id, request.query),
  );

  app.get(
    `${STAFF}/:id/availability`,
    {
      config: { permission: 'staff:read' },
      schema: {
        tags,
        operationId: 'getStaffAvailability',
        summary:
          'Free intervals of a staff member in [from, to) (at most 31 days): working time in their time zone minus closures, time off and bookings',
        description:
          "A staff member's free intervals in [from, to) (at most 31 days): working time in their time zone, less facility closures, time off and booked appointments.",
        params: IdParams,
        querystring: Type.Object({ from: Timestamp, to: Timestamp }, { additionalProperties: false }),
        response: { 200: StaffAvailability, ...errors },
      },
    },
    (request) => staffAvailability(ctx, callerOf(request), request.params.id, request.query),
  );

  app.get(
    `${STAFF}/:id/assignments`,
    {
      // assignments name patients: every answer is an access record of the patients it listed
      config: { permission: 'staff:read', access: { resource: 'staff-assignments', action: 'search' } },
      schema: {
        tags,
        operationId: 'listStaffAssignments',
        summary:
          "A staff member's appointments overlapping [from, to) (at most 31 days), in start order, optionally of one status",
        description:
          "A staff member's appointments overlapping [from, to) (at most 31 days) in start order, optionally of one status. Every answer is recorded as an access to the patients it names.",
        params: IdParams,
        querystring: Type.Object(
          { from: Timestamp, to: Timestamp, status: Type.Optional(AppointmentStatus), ...PageQuery },
          { additionalProperties: false },
        ),
        response: { 200: Page(Assignment), ...errors },
      },
    },
    async (request) => {
      const page = await listAssignments(ctx, callerOf(request), request.params.id, request.query);
      reportAccess(request, {
        ids: page.items.map((a) => a.appointmentId),
        patientIds: [...new Set(page.items.map((a) => a.patientId))],
      });
      return page;
    },
  );

  app.delete(
    `${STAFF}/:id/time-off/:timeOffId`,
    {
      config: { permission: 'staff:write' },
      schema: {
        tags,
        operationId: 'deleteStaffTimeOff',
        summary: 'Delete time off of a staff member',
        description:
          'Deletes one time off of a staff member (204); 404 when the staff member has no time off with that id.',
        params: Type.Object({ id: Uuid, timeOffId: Uuid }),
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await staff.removeTimeOff(ctx, callerOf(request), request.params.id, request.params.timeOffId);
      return reply.code(204).send(null);
    },
  );

  // ---- facility closures

  app.post(
    CLOSURES,
    {
      config: { permission: 'staff:write', idempotent: true },
      schema: {
        tags,
        operationId: 'createFacilityClosure',
        summary: "Close the facility on a date (in the facility's time zone) for everyone",
        description:
          "Closes the facility for everyone on a date, in the facility's time zone: no slot is offered that day. 409 when it is closed on that date already. Accepts `Idempotency-Key`.",
        body: ClosureInput,
        response: { 201: Closure, ...errors, 409: Problem },
      },
    },
    async (request, reply) => {
      const c = await staff.addClosure(ctx, callerOf(request), request.body);
      return reply.code(201).header('location', `${CLOSURES}/${c.date}`).send(c);
    },
  );

  app.get(
    CLOSURES,
    {
      config: { permission: 'staff:read' },
      schema: {
        tags,
        operationId: 'listFacilityClosures',
        summary: 'List facility closures in date order (from–to inclusive when given)',
        description: 'Facility closures in date order, only those from–to (inclusive) when given.',
        querystring: Type.Object(
          { from: Type.Optional(DateOnly), to: Type.Optional(DateOnly), ...PageQuery },
          { additionalProperties: false },
        ),
        response: { 200: Page(Closure), ...errors },
      },
    },
    (request) => staff.listClosures(ctx, callerOf(request), request.query),
  );

  app.delete(
    `${CLOSURES}/:date`,
    {
      config: { permission: 'staff:write' },
      schema: {
        tags,
        operationId: 'deleteFacilityClosure',
        summary: 'Reopen the facility on a date',
        description: 'Reopens the facility on a date (204); 404 when it is not closed that day.',
        params: Type.Object({ date: DateOnly }),
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await staff.removeClosure(ctx, callerOf(request), request.params.date);
      return reply.code(204).send(null);
    },
  );
}
