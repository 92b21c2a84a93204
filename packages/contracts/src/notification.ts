import { Type, type Static } from '@sinclair/typebox';
import { Timestamp, Uuid } from './common.js';

/**
 * Shapes of the Notification service (DOMAIN.md "Notification", issue #15): the messages it sends
 * (one per event, recipient and channel, at most once) and each recipient's preferences.
 */

export const NOTIFICATION_CHANNELS = ['email', 'sms'] as const;
export const NotificationChannel = Type.Union(NOTIFICATION_CHANNELS.map((c) => Type.Literal(c)));
export type NotificationChannel = (typeof NOTIFICATION_CHANNELS)[number];

/**
 * What a message is about (the "event type" of preferences): one per consumed fact, and the
 * reminder Notification schedules itself before an appointment.
 */
export const NOTIFICATION_EVENTS = [
  'appointment.booked',
  'appointment.rescheduled',
  'appointment.cancelled',
  'appointment.reminder',
  'billing.invoice-generated',
  'billing.claim-denied',
  'inventory.stock-low',
] as const;
export const NotificationEvent = Type.Union(NOTIFICATION_EVENTS.map((e) => Type.Literal(e)));
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

/**
 * Critical messages go out during quiet hours (never against an opt-out): a cancelled appointment
 * (the patient may be on the way) and low stock (medication running out).
 */
export const CRITICAL_NOTIFICATION_EVENTS = [
  'appointment.cancelled',
  'inventory.stock-low',
] as const satisfies readonly NotificationEvent[];

export const NOTIFICATION_STATUSES = ['queued', 'held', 'sending', 'sent', 'failed', 'suppressed'] as const;
export const NotificationStatus = Type.Union(
  NOTIFICATION_STATUSES.map((s) => Type.Literal(s)),
  {
    description:
      'queued → (held →) sending → sent | failed | suppressed; failed with a nextAttemptAt is retried, without one it is final',
  },
);
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

export const NOTIFICATION_REASONS = [
  // held
  'reminder',
  'quiet-hours',
  // suppressed
  'opted-out',
  'no-contact',
  'recipient-inactive',
  'appointment-cancelled',
  'appointment-moved',
  'appointment-closed',
  'too-late',
  // failed, final
  'rejected',
  'retries-exhausted',
  'outcome-unknown',
] as const;
export const NotificationReason = Type.Union(
  NOTIFICATION_REASONS.map((r) => Type.Literal(r)),
  {
    description:
      'held: reminder (until its time) | quiet-hours; suppressed: opted-out | no-contact | recipient-inactive | appointment-cancelled | appointment-moved | appointment-closed (checked in, completed, no-show) | too-late (the appointment started); failed: rejected (by the provider, final) | retries-exhausted | outcome-unknown (the process stopped after handing it to the provider: never re-sent, for an operator to check)',
  },
);
export type NotificationReason = (typeof NOTIFICATION_REASONS)[number];

export const RECIPIENT_TYPES = ['patient', 'staff', 'address'] as const;
export const RecipientType = Type.Union(
  RECIPIENT_TYPES.map((t) => Type.Literal(t)),
  {
    description:
      'patient or staff (contact data from their records), address (a configured stock-alert list)',
  },
);
export type RecipientType = (typeof RECIPIENT_TYPES)[number];

/** Who a message is for: a patient or staff member by id, or a configured address (stock alerts). */
export const Recipient = Type.Object(
  {
    type: RecipientType,
    id: Type.String({ minLength: 1, maxLength: 254, description: 'the patient or staff id; the address' }),
  },
  { additionalProperties: false },
);
export type Recipient = Static<typeof Recipient>;

const sendFields = {
  id: Uuid,
  event: NotificationEvent,
  eventKey: Type.String({
    description:
      'the fact it is about (appointment:<id>:booked, series:<id>:booked…): unique per recipient and channel',
  }),
  sourceEventId: Type.String({ format: 'uuid', description: 'the consumed event that asked for it first' }),
  recipient: Recipient,
  channel: NotificationChannel,
  critical: Type.Boolean({ description: 'goes out during quiet hours' }),
  status: NotificationStatus,
  reason: Type.Optional(NotificationReason),
  holdUntil: Type.Optional(Timestamp),
  attempts: Type.Integer({ minimum: 0, description: 'hand-offs to the provider' }),
  nextAttemptAt: Type.Optional(Timestamp),
  lastError: Type.Optional(
    Type.String({ description: 'the last failure: codes and statuses only, never an address or body' }),
  ),
  locale: Type.Optional(Type.String({ description: 'the template locale it was written in' })),
  encoding: Type.Optional(Type.Union([Type.Literal('GSM-7'), Type.Literal('UCS-2')])),
  segments: Type.Optional(Type.Integer({ minimum: 1, description: 'SMS segments billed' })),
  provider: Type.Optional(
    Type.String({ description: 'smtp, sms-api, or file (embedded mode: written under HMS_DATA_DIR)' }),
  ),
  providerMessageId: Type.Optional(Type.String()),
  sentAt: Type.Optional(Timestamp),
  createdAt: Timestamp,
  updatedAt: Timestamp,
};

/** A message as lists show it: no address and no body. */
export const NotificationSummary = Type.Object(sendFields, { additionalProperties: false });
export type NotificationSummary = Static<typeof NotificationSummary>;

/** A message as `GET /notifications/{id}` shows it: with where it went and what it said. */
export const Notification = Type.Object(
  {
    ...sendFields,
    destination: Type.Optional(Type.String({ description: 'the address or number it was handed to' })),
    subject: Type.Optional(Type.String()),
    body: Type.Optional(Type.String()),
  },
  { additionalProperties: false, $id: 'Notification' },
);
export type Notification = Static<typeof Notification>;

export const NotificationQuery = Type.Object(
  {
    recipientType: Type.Optional(RecipientType),
    recipientId: Type.Optional(Type.String({ minLength: 1, maxLength: 254 })),
    status: Type.Optional(NotificationStatus),
    channel: Type.Optional(NotificationChannel),
    event: Type.Optional(NotificationEvent),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
    cursor: Type.Optional(Type.String({ maxLength: 512 })),
  },
  { additionalProperties: false },
);
export type NotificationQuery = Static<typeof NotificationQuery>;

// ---- preferences

const LocalTime = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'HH:mm, local' });

export const QuietHours = Type.Object(
  { start: LocalTime, end: LocalTime },
  {
    additionalProperties: false,
    description:
      "in the recipient's time zone; may wrap midnight (22:00–06:00); start ≠ end. Non-critical messages are held until it ends",
  },
);
export type QuietHours = Static<typeof QuietHours>;

export const OptOut = Type.Object(
  {
    event: Type.Union([NotificationEvent, Type.Literal('*')], { description: "'*': every event" }),
    channel: NotificationChannel,
  },
  { additionalProperties: false },
);
export type OptOut = Static<typeof OptOut>;

/** A patient or staff member, whose preferences can be set. */
export const ConfigRecipient = Type.Object(
  {
    type: Type.Union([Type.Literal('patient'), Type.Literal('staff')]),
    id: Uuid,
  },
  { additionalProperties: false },
);
export type ConfigRecipient = Static<typeof ConfigRecipient>;

const configWritable = {
  timezone: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 64,
      description: "IANA zone; default: a staff member's own zone, else FACILITY_TIMEZONE",
    }),
  ),
  locale: Type.Optional(
    Type.String({
      pattern: '^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$',
      description:
        'BCP 47; default FACILITY_LOCALE. A missing translation falls back to NOTIFY_FALLBACK_LOCALE',
    }),
  ),
  quietHours: Type.Optional(QuietHours),
  optOut: Type.Array(OptOut, {
    maxItems: 64,
    description: 'the (event, channel) pairs not to send; everything else is sent',
  }),
};

/** Body of PUT /notifications/config: the whole preferences of one recipient (If-Match: "v0" creates). */
export const NotificationConfigInput = Type.Object(
  { recipient: ConfigRecipient, ...configWritable },
  { additionalProperties: false, $id: 'NotificationConfigInput' },
);
export type NotificationConfigInput = Static<typeof NotificationConfigInput>;

export const NotificationConfig = Type.Object(
  {
    recipient: ConfigRecipient,
    timezone: Type.String({ description: 'in effect (set, or the default)' }),
    locale: Type.String({ description: 'in effect (set, or the default)' }),
    quietHours: Type.Optional(QuietHours),
    optOut: Type.Array(OptOut),
    version: Type.Integer({ minimum: 0, description: '0: nothing stored yet, defaults shown' }),
    updatedAt: Type.Optional(Timestamp),
  },
  { additionalProperties: false, $id: 'NotificationConfig' },
);
export type NotificationConfig = Static<typeof NotificationConfig>;

export const NotificationConfigQuery = Type.Object(
  { recipientType: ConfigRecipient.properties.type, recipientId: Uuid },
  { additionalProperties: false },
);
export type NotificationConfigQuery = Static<typeof NotificationConfigQuery>;
