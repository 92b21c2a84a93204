import type {
  Appointment,
  Claim,
  EventEnvelope,
  EventType,
  InventoryItem,
  Invoice,
  Patient,
  Staff,
} from '@hms/contracts';
import type { EventConsumer, Tx } from '@hms/platform';
import { appointmentEntry, patientContact, staffContact } from './copies.js';
import type { NotificationContext } from './context.js';
import {
  appointmentMessages,
  claimDeniedMessages,
  invoiceMessages,
  reminderPlan,
  stockLowMessages,
  type NewMessage,
} from './domain/intake.js';
import * as store from './store.js';

/**
 * What Notification consumes. Handlers only write rows, in the inbox's transaction: the copies of
 * contact data and appointments, and the messages a fact asks for (queued, or held until a
 * reminder's time). No handler calls a provider or another service; the dispatcher sends.
 */
export const COPIED_EVENTS = [
  'patient.registered.v1',
  'patient.updated.v1',
  'staff.onboarded.v1',
  'staff.updated.v1',
] as const satisfies readonly EventType[];

export const MESSAGE_EVENTS = [
  'appointment.created.v1',
  'appointment.updated.v1',
  'appointment.cancelled.v1',
  'billing.invoice-generated.v1',
  'billing.claim-denied.v1',
  'inventory.stock-low.v1',
] as const satisfies readonly EventType[];

export function notificationConsumers(ctx: NotificationContext): EventConsumer[] {
  return [
    { types: COPIED_EVENTS, handle: (tx, e) => applyCopy(ctx, tx, e) },
    { types: MESSAGE_EVENTS, handle: (tx, e) => queueMessages(ctx, tx, e) },
  ];
}

async function applyCopy(ctx: NotificationContext, tx: Tx, e: EventEnvelope): Promise<void> {
  const data = e.data as Record<string, unknown>;
  if (e.type === 'patient.registered.v1' || e.type === 'patient.updated.v1') {
    const p = data.patient as Patient;
    await ctx.copies.patients.apply(tx, p.id, { version: p.version, data: patientContact(p) });
  } else {
    const s = data.staff as Staff;
    await ctx.copies.staff.apply(tx, s.id, { version: s.version, data: staffContact(s) });
  }
}

async function queueMessages(ctx: NotificationContext, tx: Tx, e: EventEnvelope): Promise<void> {
  const now = ctx.clock.now();
  const data = e.data as Record<string, unknown>;
  let messages: NewMessage[];
  switch (e.type) {
    case 'appointment.created.v1':
    case 'appointment.updated.v1':
    case 'appointment.cancelled.v1': {
      const a = data.appointment as Appointment;
      await ctx.copies.appointments.apply(tx, a.id, { version: a.version, data: appointmentEntry(a) });
      messages = appointmentMessages(e.type, data as { appointment: Appointment }, now);
      await followReminder(ctx, tx, a.id, e.id, now);
      break;
    }
    case 'billing.invoice-generated.v1':
      messages = invoiceMessages(data.invoice as Invoice);
      break;
    case 'billing.claim-denied.v1':
      messages = claimDeniedMessages(data.claim as Claim);
      break;
    case 'inventory.stock-low.v1':
      messages = stockLowMessages(
        e.id,
        data as { item: InventoryItem; available: number; reorderThreshold: number },
        ctx.config.stockAlertEmails,
      );
      break;
    default:
      return;
  }
  await store.insertMessages(tx, messages, e.id, now);
}

/**
 * Keeps an appointment's reminder in step with the appointment as its copy now holds it (the
 * newest version, whatever order events came in): held until its time while it is scheduled,
 * moved with a reschedule (the old one suppressed, the new one held), suppressed once it is
 * cancelled or closed.
 */
async function followReminder(
  ctx: NotificationContext,
  tx: Tx,
  id: string,
  sourceEventId: string,
  now: Date,
): Promise<void> {
  const current = await ctx.copies.appointments.cached(id, tx);
  if (!current) return;
  const plan = reminderPlan(id, current.data, now, ctx.config.NOTIFY_REMINDER_BEFORE_MIN);
  const keep = [...new Set(plan.wanted.map((m) => m.eventKey))];
  await store.suppressOtherReminders(tx, id, keep, plan.othersReason, now);
  await store.ensureReminders(tx, plan.wanted, sourceEventId, now);
}
