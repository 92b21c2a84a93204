import {
  CRITICAL_NOTIFICATION_EVENTS,
  type Appointment,
  type AppointmentStatus,
  type Claim,
  type InventoryItem,
  type Invoice,
  type NotificationChannel,
  type NotificationEvent,
  type Recipient,
} from '@hms/contracts';
import { templateOf, type Facts } from './render.js';
import { CHANNELS_OF } from './templates.js';

/**
 * Which messages a consumed fact asks for (pure: the consumers write what this answers). Each
 * message has a key naming the fact, unique per recipient and channel with it: that key is what
 * makes a redelivered event, or one occurrence of a series after another, add nothing.
 */
export interface NewMessage {
  eventKey: string;
  event: NotificationEvent;
  /** the appointment, series, invoice, claim or item it is about */
  subjectId: string;
  recipient: Recipient;
  channel: NotificationChannel;
  critical: boolean;
  facts: Facts;
  /** a reminder waits until its time (held), everything else is queued */
  holdUntil?: Date;
  /** queued, but not taken up before (a series' booking waits for its other occurrences) */
  notBefore?: Date;
}

/**
 * How long a message about a whole series waits before it is taken up: its occurrences arrive as
 * one event each, and the message should name the first of them, whichever came first.
 */
export const SERIES_SETTLE_MS = 10_000;

const critical = (event: NotificationEvent) =>
  (CRITICAL_NOTIFICATION_EVENTS as readonly string[]).includes(event);

function messages(
  base: Omit<NewMessage, 'recipient' | 'channel' | 'critical'>,
  recipients: Recipient[],
): NewMessage[] {
  const channels = CHANNELS_OF[templateOf(base.event, base.facts)];
  return recipients.flatMap((recipient) =>
    channels
      .filter((channel) => recipient.type !== 'address' || channel === 'email')
      .map((channel) => ({ ...base, recipient, channel, critical: critical(base.event) })),
  );
}

const patientOf = (a: { patientId: string }): Recipient => ({ type: 'patient', id: a.patientId });
const staffOf = (a: { staffId: string }): Recipient => ({ type: 'staff', id: a.staffId });

const appointmentFacts = (a: Appointment): Facts => ({
  appointmentId: a.id,
  start: a.start,
  ...(a.location ? { location: a.location } : {}),
});

/** When the cancellation happened: what the occurrences one request cancelled share. */
const cancelledAt = (a: Appointment) =>
  [...a.history].reverse().find((h) => h.action === 'cancelled')?.at ?? a.updatedAt;

/**
 * The messages of an appointment event: a booking to the patient (once per series), a move and a
 * cancellation to the patient and the staff member (a series cancelled from one occurrence on:
 * once). None about an appointment that has started: that news comes too late to act on.
 */
export function appointmentMessages(
  type: 'appointment.created.v1' | 'appointment.updated.v1' | 'appointment.cancelled.v1',
  data: { appointment: Appointment; change?: string; previousStart?: string; scope?: 'this' | 'following' },
  now: Date,
): NewMessage[] {
  const a = data.appointment;
  if (Date.parse(a.start) <= now.getTime()) return [];
  switch (type) {
    case 'appointment.created.v1': {
      const series = a.seriesId !== undefined;
      return messages(
        {
          eventKey: series ? `series:${a.seriesId}:booked` : `appointment:${a.id}:booked`,
          event: 'appointment.booked',
          subjectId: a.seriesId ?? a.id,
          facts: { ...appointmentFacts(a), ...(series ? { series: true } : {}) },
          ...(series ? { notBefore: new Date(now.getTime() + SERIES_SETTLE_MS) } : {}),
        },
        [patientOf(a)],
      );
    }
    case 'appointment.updated.v1':
      if (data.change !== 'rescheduled') return [];
      return messages(
        {
          eventKey: `appointment:${a.id}:rescheduled:v${a.version}`,
          event: 'appointment.rescheduled',
          subjectId: a.id,
          facts: {
            ...appointmentFacts(a),
            ...(data.previousStart ? { previousStart: data.previousStart } : {}),
          },
        },
        [patientOf(a), staffOf(a)],
      );
    case 'appointment.cancelled.v1': {
      const series = data.scope === 'following' && a.seriesId !== undefined;
      return messages(
        {
          eventKey: series
            ? `series:${a.seriesId}:cancelled:${cancelledAt(a)}`
            : `appointment:${a.id}:cancelled`,
          event: 'appointment.cancelled',
          subjectId: series ? (a.seriesId as string) : a.id,
          facts: { ...appointmentFacts(a), ...(series ? { series: true } : {}) },
          ...(series ? { notBefore: new Date(now.getTime() + SERIES_SETTLE_MS) } : {}),
        },
        [patientOf(a), staffOf(a)],
      );
    }
  }
}

/** An appointment as its local copy keeps it: what reminders are decided from. */
export interface AppointmentEntry {
  patientId: string;
  staffId: string;
  status: AppointmentStatus;
  start: string;
  location?: string | undefined;
}

export interface ReminderPlan {
  /** the reminder rows the appointment should have (held until their time); none: no reminder */
  wanted: NewMessage[];
  /** why any other pending reminder of it is suppressed */
  othersReason: 'appointment-cancelled' | 'appointment-closed' | 'appointment-moved';
}

/**
 * The reminder an appointment should have as it is now (its newest version, whatever order its
 * events came in): `leadMin` before its start, to the patient, while it is scheduled. None when
 * that time has passed already (booked at short notice: the booking message says it all). Any
 * other pending reminder (of an earlier time, or of an appointment no longer scheduled) goes.
 */
export function reminderPlan(id: string, a: AppointmentEntry, now: Date, leadMin: number): ReminderPlan {
  const othersReason =
    a.status === 'cancelled'
      ? 'appointment-cancelled'
      : a.status === 'scheduled'
        ? 'appointment-moved'
        : 'appointment-closed';
  const at = new Date(Date.parse(a.start) - leadMin * 60_000);
  if (a.status !== 'scheduled' || at.getTime() <= now.getTime()) return { wanted: [], othersReason };
  const start = new Date(a.start).toISOString();
  return {
    wanted: messages(
      {
        eventKey: `appointment:${id}:reminder:${start}`,
        event: 'appointment.reminder',
        subjectId: id,
        facts: { appointmentId: id, start, ...(a.location ? { location: a.location } : {}) },
        holdUntil: at,
      },
      [patientOf(a)],
    ),
    othersReason,
  };
}

export function invoiceMessages(invoice: Invoice): NewMessage[] {
  return messages(
    {
      eventKey: `invoice:${invoice.id}:issued`,
      event: 'billing.invoice-generated',
      subjectId: invoice.id,
      facts: {
        invoiceId: invoice.id,
        number: invoice.number,
        amount: invoice.total,
        currency: invoice.currency,
        ...(invoice.dueAt ? { dueAt: invoice.dueAt } : {}),
      },
    },
    [patientOf(invoice)],
  );
}

export function claimDeniedMessages(claim: Claim): NewMessage[] {
  return messages(
    {
      eventKey: `claim:${claim.id}:denied`,
      event: 'billing.claim-denied',
      subjectId: claim.id,
      facts: {
        claimId: claim.id,
        invoiceId: claim.invoiceId,
        amount: claim.amount,
        currency: claim.currency,
        ...(claim.denialCode ? { denialCode: claim.denialCode } : {}),
      },
    },
    [patientOf(claim)],
  );
}

/**
 * A stock alert to each configured address, once per crossing: Inventory publishes one event per
 * crossing below the threshold, so the event's id is the crossing.
 */
export function stockLowMessages(
  eventId: string,
  data: { item: InventoryItem; available: number; reorderThreshold: number },
  addresses: readonly string[],
): NewMessage[] {
  return messages(
    {
      eventKey: `stock-low:${eventId}`,
      event: 'inventory.stock-low',
      subjectId: data.item.id,
      facts: {
        itemId: data.item.id,
        sku: data.item.sku,
        name: data.item.name,
        available: data.available,
        unit: data.item.unit,
        threshold: data.reorderThreshold,
      },
    },
    addresses.map((id) => ({ type: 'address', id })),
  );
}
