import type { Appointment, EventEnvelope, EventType } from '@hms/contracts';
import type { EventConsumer, Tx } from '@hms/platform';
import * as store from './store.js';

/**
 * What the Staff service consumes. (What it publishes goes to the outbox inside each use case's
 * transaction, in staff.ts: the change and its event commit together.)
 */

/** The Appointment service's events Staff keeps its copy of assignments from. */
export const APPOINTMENT_EVENTS = [
  'appointment.created.v1',
  'appointment.updated.v1',
  'appointment.cancelled.v1',
] as const satisfies readonly EventType[];

/**
 * Each of the three carries the whole appointment after the change with its version, so one
 * handler serves them all: the copy takes the state it is given unless it holds that version or
 * a newer one already (a redelivery, or an event overtaken by a later one of the same
 * appointment). A cancellation is a state like any other: the row stays, `cancelled`.
 */
export async function applyAppointment(tx: Tx, envelope: EventEnvelope): Promise<void> {
  const { appointment: a } = envelope.data as { appointment: Appointment };
  await store.upsertAssignment(tx, {
    appointmentId: a.id,
    staffId: a.staffId,
    patientId: a.patientId,
    type: a.type,
    start: a.start,
    end: a.end,
    status: a.status,
    ...(a.seriesId !== undefined ? { seriesId: a.seriesId } : {}),
    version: a.version,
    bufferBeforeMin: a.bufferBeforeMin,
    bufferAfterMin: a.bufferAfterMin,
    // the owner's time of the change, not this copy's: the same event always writes the same row
    updatedAt: a.updatedAt,
  });
}

export function staffConsumers(): EventConsumer[] {
  return [{ types: APPOINTMENT_EVENTS, handle: applyAppointment }];
}
