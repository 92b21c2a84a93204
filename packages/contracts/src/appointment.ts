import { Type, type Static } from '@sinclair/typebox';
import { DateOnly, Timestamp, Uuid } from './common.js';

/** Shapes of the Appointment resource (DOMAIN.md "Appointment"), shared by the API and the events. */

const Text = (max: number, min = 1) => Type.String({ minLength: min, maxLength: max });
const Minutes = (max: number, min = 0) => Type.Integer({ minimum: min, maximum: max });

/** A stable code of an appointment type (what billing prices), e.g. `consult-30`. */
export const AppointmentTypeCode = Type.String({
  pattern: '^[a-z0-9][a-z0-9-]{0,39}$',
  description: 'stable code of the appointment type: lower-case letters, digits and dashes',
});

const typeWritable = {
  name: Text(200),
  durationMin: Type.Integer({ minimum: 5, maximum: 720, description: 'default duration, minutes' }),
  bufferBeforeMin: Type.Optional(Minutes(120)),
  bufferAfterMin: Type.Optional(Minutes(120)),
  active: Type.Optional(Type.Boolean({ default: true })),
};

/** Body of POST /appointments/types. */
export const AppointmentTypeInput = Type.Object(
  { code: AppointmentTypeCode, ...typeWritable },
  { additionalProperties: false, $id: 'AppointmentTypeInput' },
);
export type AppointmentTypeInput = Static<typeof AppointmentTypeInput>;

/** Body of PUT /appointments/types/{code}: everything but the code, which never changes. */
export const AppointmentTypeUpdate = Type.Object(typeWritable, {
  additionalProperties: false,
  $id: 'AppointmentTypeUpdate',
});
export type AppointmentTypeUpdate = Static<typeof AppointmentTypeUpdate>;

export const AppointmentType = Type.Object(
  {
    code: AppointmentTypeCode,
    name: Type.String(),
    durationMin: Type.Integer(),
    bufferBeforeMin: Type.Integer({ description: 'busy time before the appointment, minutes' }),
    bufferAfterMin: Type.Integer({ description: 'busy time after the appointment, minutes' }),
    active: Type.Boolean(),
    version: Type.Integer({ minimum: 1 }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { additionalProperties: false, $id: 'AppointmentType' },
);
export type AppointmentType = Static<typeof AppointmentType>;

export const APPOINTMENT_STATUSES = ['scheduled', 'checked-in', 'completed', 'cancelled', 'no-show'] as const;
export const AppointmentStatus = Type.Union(APPOINTMENT_STATUSES.map((s) => Type.Literal(s)));
export type AppointmentStatus = (typeof APPOINTMENT_STATUSES)[number];

export const HISTORY_ACTIONS = [
  'booked',
  'rescheduled',
  'updated',
  'checked-in',
  'completed',
  'cancelled',
  'no-show',
] as const;

/** One step of an appointment's life; a reschedule keeps the slot it left. */
export const AppointmentHistoryEntry = Type.Object(
  {
    at: Timestamp,
    action: Type.Union(HISTORY_ACTIONS.map((a) => Type.Literal(a))),
    by: Type.String({ description: 'user id, or svc:<name> for the platform itself' }),
    previousStart: Type.Optional(Timestamp),
    previousEnd: Type.Optional(Timestamp),
    reason: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type AppointmentHistoryEntry = Static<typeof AppointmentHistoryEntry>;

export const Appointment = Type.Object(
  {
    id: Uuid,
    patientId: Uuid,
    staffId: Uuid,
    type: AppointmentTypeCode,
    start: Timestamp,
    end: Timestamp,
    bufferBeforeMin: Type.Integer({ description: "the type's buffer when booked" }),
    bufferAfterMin: Type.Integer({ description: "the type's buffer when booked" }),
    reason: Type.Optional(Type.String()),
    location: Type.Optional(Type.String()),
    seriesId: Type.Optional(Uuid),
    status: AppointmentStatus,
    cancellationReason: Type.Optional(Type.String()),
    history: Type.Array(AppointmentHistoryEntry),
    version: Type.Integer({ minimum: 1 }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { additionalProperties: false },
);
export type Appointment = Static<typeof Appointment>;

/** A recurring series: every occurrence at the same local wall time in `timezone`. */
export const Recurrence = Type.Object(
  {
    frequency: Type.Union([Type.Literal('daily'), Type.Literal('weekly')]),
    interval: Type.Optional(Type.Integer({ minimum: 1, maximum: 52, default: 1 })),
    count: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 52, description: 'occurrences, first included' }),
    ),
    until: Type.Optional(
      Type.Union([DateOnly, Timestamp], {
        description: 'last local date (inclusive) or instant an occurrence may start at',
      }),
    ),
    timezone: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: "default: the staff member's time zone" }),
    ),
  },
  { additionalProperties: false, description: 'count or until (one of them), at most 52 occurrences' },
);
export type Recurrence = Static<typeof Recurrence>;

const details = {
  reason: Type.Optional(Text(500)),
  location: Type.Optional(Text(200)),
};

/** Body of POST /appointments. */
export const AppointmentInput = Type.Object(
  {
    patientId: Uuid,
    staffId: Uuid,
    type: AppointmentTypeCode,
    start: Timestamp,
    end: Type.Optional(
      Type.String({ format: 'date-time', description: "RFC 3339; default: start + the type's duration" }),
    ),
    ...details,
    recurrence: Type.Optional(Recurrence),
  },
  { additionalProperties: false, $id: 'AppointmentInput' },
);
export type AppointmentInput = Static<typeof AppointmentInput>;

/** Body of PUT /appointments/{id}: the details; the time changes through /reschedule. */
export const AppointmentUpdate = Type.Object(details, {
  additionalProperties: false,
  $id: 'AppointmentUpdate',
});
export type AppointmentUpdate = Static<typeof AppointmentUpdate>;

export const RescheduleInput = Type.Object(
  {
    start: Timestamp,
    end: Type.Optional(
      Type.String({ format: 'date-time', description: 'RFC 3339; default: start + the same duration' }),
    ),
  },
  { additionalProperties: false, $id: 'RescheduleInput' },
);
export type RescheduleInput = Static<typeof RescheduleInput>;

export const CancelInput = Type.Object(
  {
    reason: Text(500),
    scope: Type.Optional(
      Type.Union([Type.Literal('this'), Type.Literal('following')], {
        default: 'this',
        description: 'following: this occurrence and every later one of its series',
      }),
    ),
  },
  { additionalProperties: false, $id: 'CancelInput' },
);
export type CancelInput = Static<typeof CancelInput>;

export const CancelResult = Type.Object(
  { cancelled: Type.Array(Appointment, { description: 'the appointments this request cancelled' }) },
  { additionalProperties: false },
);

/** What POST /appointments answers for a recurring series: every occurrence, in start order. */
export const AppointmentSeries = Type.Object(
  { seriesId: Uuid, appointments: Type.Array(Appointment) },
  { additionalProperties: false, $id: 'AppointmentSeries' },
);
export type AppointmentSeries = Static<typeof AppointmentSeries>;

export const Slot = Type.Object(
  { staffId: Uuid, start: Timestamp, end: Timestamp },
  { additionalProperties: false },
);
export const SlotList = Type.Object(
  {
    type: AppointmentTypeCode,
    from: Timestamp,
    to: Timestamp,
    gridMin: Type.Integer(),
    slots: Type.Array(Slot, { description: 'bookable slots in start order, then staff id' }),
  },
  { additionalProperties: false },
);
export type SlotList = Static<typeof SlotList>;

// ---- events: each carries the whole appointment after the change, with its version

export const AppointmentCreatedV1 = Type.Object(
  { appointment: Appointment },
  { additionalProperties: false, $id: 'appointment.created.v1' },
);
export const AppointmentUpdatedV1 = Type.Object(
  {
    appointment: Appointment,
    change: Type.Union(
      ['rescheduled', 'updated', 'checked-in', 'completed', 'no-show'].map((c) => Type.Literal(c)),
    ),
    previousStart: Type.Optional(Timestamp),
    previousEnd: Type.Optional(Timestamp),
  },
  { additionalProperties: false, $id: 'appointment.updated.v1' },
);
export const AppointmentCancelledV1 = Type.Object(
  {
    appointment: Appointment,
    reason: Type.Optional(Type.String()),
    scope: Type.Union([Type.Literal('this'), Type.Literal('following')]),
  },
  { additionalProperties: false, $id: 'appointment.cancelled.v1' },
);
