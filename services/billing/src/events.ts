import type { Appointment, EventEnvelope, EventType, Patient } from '@hms/contracts';
import type { EventConsumer, Tx } from '@hms/platform';
import { accountEntry } from './accounts.js';
import { SELF, type BillingContext } from './context.js';
import { cancellationEffect } from './domain/invoice.js';
import { draft, voidLocked } from './invoices.js';
import { postAdjustment } from './ledger.js';
import * as invoices from './store/invoices.js';
import * as reference from './store/reference.js';

/**
 * The events Billing consumes (the kit's inbox applies each event id once). Each effect is also
 * idempotent per aggregate version, so a replay under a new id or an event arriving late changes
 * nothing twice: a patient's account keeps the newest version; an appointment's newest version
 * and status are recorded (`appointments_seen`), an invoice is drafted only for an appointment
 * not known to be cancelled and not invoiced yet (the database allows one per appointment), and a
 * cancellation applies once, when the appointment first becomes cancelled. Handlers write only in
 * the transaction they are handed and call no other service.
 */
export const CONSUMED = [
  'patient.registered.v1',
  'patient.updated.v1',
  'appointment.created.v1',
  'appointment.updated.v1',
  'appointment.cancelled.v1',
] as const satisfies readonly EventType[];

export function billingConsumers(ctx: BillingContext): EventConsumer[] {
  return [{ types: CONSUMED, handle: (tx, envelope) => apply(ctx, tx, envelope) }];
}

async function apply(ctx: BillingContext, tx: Tx, e: EventEnvelope): Promise<void> {
  const data = e.data as Record<string, unknown>;
  switch (e.type) {
    case 'patient.registered.v1':
    case 'patient.updated.v1': {
      const p = data.patient as Patient;
      await ctx.accounts.apply(tx, p.id, { version: p.version, data: accountEntry(p) });
      return;
    }
    case 'appointment.created.v1':
      return appointmentBooked(ctx, tx, data.appointment as Appointment);
    case 'appointment.updated.v1':
      // a rescheduled (checked-in, completed…) appointment keeps its invoice: only its version is noted
      await reference.seeAppointment(
        tx,
        (data.appointment as Appointment).id,
        seen(data.appointment as Appointment),
      );
      return;
    case 'appointment.cancelled.v1':
      return appointmentCancelled(ctx, tx, data.appointment as Appointment);
  }
}

const seen = (a: Appointment) => ({ version: a.version, status: a.status });

/** Drafts the appointment's invoice, priced from the fee schedule by its type (flagged when unpriced). */
async function appointmentBooked(ctx: BillingContext, tx: Tx, a: Appointment): Promise<void> {
  const { now } = await reference.seeAppointment(tx, a.id, seen(a));
  if (now.status === 'cancelled') return;
  if (await invoices.invoiceOfAppointment(tx, a.id)) return;
  const fee = await reference.getFee(tx, a.type);
  await draft(ctx, tx, {
    patientId: a.patientId,
    appointmentId: a.id,
    currency: fee?.currency ?? ctx.config.BILLING_CURRENCY,
    needsPricing: !fee,
    createdBy: SELF,
    lines: fee ? [{ code: a.type, description: fee.description, quantity: 1, unitPrice: fee.unitPrice }] : [],
  });
}

/**
 * Voids the appointment's draft; adjusts an issued invoice by what it still owes (reason
 * `cancellation`) and flags what was paid on it for refund (docs/adr/0014).
 */
async function appointmentCancelled(ctx: BillingContext, tx: Tx, a: Appointment): Promise<void> {
  const { before, now } = await reference.seeAppointment(tx, a.id, seen(a));
  const becameCancelled = now.version === a.version && before?.status !== 'cancelled';
  if (!becameCancelled) return;
  const invoice = await invoices.invoiceOfAppointment(tx, a.id, true);
  if (!invoice) return;
  const at = ctx.clock.now();
  const effect = cancellationEffect(invoice);
  switch (effect.kind) {
    case 'void':
      await voidLocked(tx, invoice, 'the appointment was cancelled', at);
      return;
    case 'adjust':
      await postAdjustment(
        tx,
        invoice,
        {
          amount: effect.amount,
          reason: 'cancellation',
          note: 'the appointment was cancelled',
          recordedBy: SELF,
          recordedAt: at.toISOString(),
        },
        'paid',
        at,
      );
      if (effect.refundDue > 0) await invoices.setRefundDue(tx, invoice.id, effect.refundDue, at);
      return;
    case 'refund':
      await invoices.setRefundDue(tx, invoice.id, effect.refundDue, at);
      return;
    case 'none':
      return;
  }
}
