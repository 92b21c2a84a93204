import { Type, type Static } from '@sinclair/typebox';
import { DateOnly, Timestamp, Uuid } from './common.js';

/** Shapes of the Staff resource (DOMAIN.md "Staff"), shared by the API and the events. */

const Text = (max: number, min = 1) => Type.String({ minLength: min, maxLength: max });
const Phone = Type.String({
  pattern: '^\\+?[0-9][0-9 ()-]{5,30}$',
  description: 'international format preferred, e.g. +44 20 7946 0958',
});
const Email = Type.String({ format: 'email', maxLength: 254 });

export const StaffRole = Type.Union([
  Type.Literal('physician'),
  Type.Literal('nurse'),
  Type.Literal('pharmacist'),
  Type.Literal('receptionist'),
  Type.Literal('technician'),
  Type.Literal('admin'),
]);
export type StaffRole = Static<typeof StaffRole>;

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export const Weekday = Type.Union(
  WEEKDAYS.map((d) => Type.Literal(d)),
  { description: 'day of the week the shift starts on' },
);
export type Weekday = (typeof WEEKDAYS)[number];

/** A local wall-clock time, `00:00`–`23:59`. */
export const LocalTime = Type.String({
  pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$',
  description: 'local time of day, HH:MM (24-hour)',
});

/** Start and end of a shift in local time; `end` ≤ `start` means it ends the next day. */
export const Shift = Type.Object(
  { start: LocalTime, end: LocalTime },
  {
    additionalProperties: false,
    description:
      'local start and end; an end at or before the start crosses midnight (the shift belongs to the day it starts)',
  },
);

export const WeeklyShift = Type.Object(
  { day: Weekday, start: LocalTime, end: LocalTime },
  {
    additionalProperties: false,
    description: 'a weekly shift; an end at or before the start crosses midnight into the next day',
  },
);
export type WeeklyShift = Static<typeof WeeklyShift>;

/** Working time on one date instead of the weekly hours: extra hours, or none (closed). */
export const ScheduleOverride = Type.Object(
  {
    date: DateOnly,
    shifts: Type.Array(Shift, { maxItems: 10, description: 'empty: not working that date' }),
  },
  { additionalProperties: false },
);
export type ScheduleOverride = Static<typeof ScheduleOverride>;

export const TimeZone = Type.String({
  minLength: 1,
  maxLength: 64,
  description: 'IANA time zone the working hours are in, e.g. Europe/Berlin',
});

const WeeklyHours = Type.Array(WeeklyShift, { maxItems: 50 });
const Overrides = Type.Array(ScheduleOverride, { maxItems: 400 });
const Specialties = Type.Array(Text(100), { maxItems: 50 });

const writable = {
  givenName: Text(100),
  familyName: Text(100),
  role: StaffRole,
  department: Text(100),
  specialties: Type.Optional(Specialties),
  licenseNumber: Type.Optional(Text(64)),
  email: Type.Optional(Email),
  phone: Type.Optional(Phone),
  active: Type.Optional(Type.Boolean({ default: true })),
  timezone: TimeZone,
  weeklyHours: Type.Optional(WeeklyHours),
  overrides: Type.Optional(Overrides),
};

/** Body of POST and PUT: the whole resource as a client may write it. */
export const StaffInput = Type.Object(writable, { additionalProperties: false, $id: 'StaffInput' });
export type StaffInput = Static<typeof StaffInput>;

const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

/** Body of PATCH (RFC 7396 JSON merge patch): fields sent change, `null` clears an optional one. */
export const StaffPatch = Type.Object(
  {
    givenName: Type.Optional(writable.givenName),
    familyName: Type.Optional(writable.familyName),
    role: Type.Optional(StaffRole),
    department: Type.Optional(writable.department),
    specialties: Type.Optional(nullable(Specialties)),
    licenseNumber: Type.Optional(nullable(Text(64))),
    email: Type.Optional(nullable(Email)),
    phone: Type.Optional(nullable(Phone)),
    active: Type.Optional(Type.Boolean()),
    timezone: Type.Optional(TimeZone),
    weeklyHours: Type.Optional(nullable(WeeklyHours)),
    overrides: Type.Optional(nullable(Overrides)),
  },
  { additionalProperties: false, minProperties: 1, $id: 'StaffPatch' },
);
export type StaffPatch = Static<typeof StaffPatch>;

export const Staff = Type.Object(
  {
    id: Uuid,
    ...writable,
    specialties: Specialties,
    active: Type.Boolean(),
    weeklyHours: WeeklyHours,
    overrides: Overrides,
    version: Type.Integer({ minimum: 1 }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { additionalProperties: false, $id: 'Staff' },
);
export type Staff = Static<typeof Staff>;

export const STAFF_FIELDS = [
  'givenName',
  'familyName',
  'role',
  'department',
  'specialties',
  'licenseNumber',
  'email',
  'phone',
  'active',
  'timezone',
  'weeklyHours',
  'overrides',
] as const;
export type StaffField = (typeof STAFF_FIELDS)[number];

/** A staff member's absence (leave, training): an interval of instants, RFC 3339 UTC. */
export const TimeOffInput = Type.Object(
  {
    start: Timestamp,
    end: Type.String({ format: 'date-time', description: 'RFC 3339, UTC; after start' }),
    reason: Type.Optional(Text(500)),
  },
  { additionalProperties: false, $id: 'TimeOffInput' },
);
export type TimeOffInput = Static<typeof TimeOffInput>;

export const TimeOff = Type.Object(
  {
    id: Uuid,
    staffId: Uuid,
    start: Timestamp,
    end: Timestamp,
    reason: Type.Optional(Type.String()),
    createdAt: Timestamp,
  },
  { additionalProperties: false, $id: 'TimeOff' },
);
export type TimeOff = Static<typeof TimeOff>;

/** A facility closure (a holiday): the whole date, in the facility's time zone, for everyone. */
export const ClosureInput = Type.Object(
  { date: DateOnly, name: Text(200) },
  { additionalProperties: false, $id: 'ClosureInput' },
);
export type ClosureInput = Static<typeof ClosureInput>;

export const Closure = Type.Object(
  {
    id: Uuid,
    date: DateOnly,
    name: Type.String(),
    timezone: Type.String({ description: "the facility's time zone the date is in" }),
    createdAt: Timestamp,
  },
  { additionalProperties: false, $id: 'Closure' },
);
export type Closure = Static<typeof Closure>;

export const StaffOnboardedV1 = Type.Object(
  { staff: Staff },
  { additionalProperties: false, $id: 'staff.onboarded.v1' },
);
export const StaffUpdatedV1 = Type.Object(
  {
    staff: Staff,
    changedFields: Type.Array(Type.Union(STAFF_FIELDS.map((f) => Type.Literal(f))), { minItems: 1 }),
  },
  { additionalProperties: false, $id: 'staff.updated.v1' },
);

/** A staff member's free time in a range: working time − closures − time off − bookings. */
export const StaffAvailability = Type.Object(
  {
    staffId: Uuid,
    timezone: Type.String({ description: "the staff member's IANA time zone" }),
    from: Timestamp,
    to: Timestamp,
    intervals: Type.Array(
      Type.Object({ start: Timestamp, end: Timestamp }, { additionalProperties: false }),
      {
        description: 'free intervals, sorted, half-open [start, end), in UTC',
      },
    ),
  },
  { additionalProperties: false },
);
export type StaffAvailability = Static<typeof StaffAvailability>;

export const StaffTimeOffRecordedV1 = Type.Object(
  { timeOff: TimeOff },
  { additionalProperties: false, $id: 'staff.time-off-recorded.v1' },
);
export const StaffTimeOffRemovedV1 = Type.Object(
  { timeOff: TimeOff },
  { additionalProperties: false, $id: 'staff.time-off-removed.v1' },
);
export const StaffClosureAddedV1 = Type.Object(
  { closure: Closure },
  { additionalProperties: false, $id: 'staff.closure-added.v1' },
);
export const StaffClosureRemovedV1 = Type.Object(
  { closure: Closure },
  { additionalProperties: false, $id: 'staff.closure-removed.v1' },
);

/** A staff member's appointment as Staff keeps it from appointment events. */
export const Assignment = Type.Object(
  {
    appointmentId: Uuid,
    staffId: Uuid,
    patientId: Uuid,
    type: Type.String(),
    start: Timestamp,
    end: Timestamp,
    status: Type.String({ description: 'the appointment status, as of `version`' }),
    seriesId: Type.Optional(Uuid),
    version: Type.Integer({ minimum: 1, description: "the appointment's version this copy holds" }),
  },
  { additionalProperties: false, $id: 'Assignment' },
);
export type Assignment = Static<typeof Assignment>;
