import type { EventEnvelope, EventData } from '@hms/contracts';
import { uuidv7, type EventConsumer, type Tx } from '@hms/platform';
import { appendDrafts } from './append.js';
import type { AuditContext } from './context.js';
import { accessDrafts, eventDraft, type Stamp } from './domain/facts.js';

/**
 * Audit consumes every event type (`*`): RabbitMQ binds its own queue to all of them, so it sees
 * every event (fan-out), not a share of them. The kit's inbox has checked each envelope against
 * its schema and applies each event id once.
 */
export function auditConsumers(ctx: AuditContext): EventConsumer[] {
  return [{ types: ['*'], handle: (tx, envelope) => recordEvent(ctx, tx, envelope) }];
}

async function recordEvent(ctx: AuditContext, tx: Tx, envelope: EventEnvelope): Promise<void> {
  const stamp: Stamp = { id: uuidv7, recordedAt: ctx.clock.now().toISOString() };
  const drafts =
    envelope.type === 'access.recorded.v1'
      ? accessDrafts(envelope, (envelope.data as EventData<'access.recorded.v1'>).records, stamp)
      : [eventDraft(envelope, stamp)];
  await appendDrafts(tx, drafts);
}
