import type { EventEnvelope } from '@hms/contracts';
import type { Db } from '@hms/platform';

/** A row of the kit's outbox table, as a service wrote it in the transaction of its change. */
export interface OutboxRow {
  type: string;
  subject: string;
  envelope: Omit<EventEnvelope, 'data'> & { data: Record<string, unknown> };
}

/** The outbox rows of a service's database, oldest first, of one event type and/or subject. */
export async function outboxRows(
  db: Db,
  where: { type?: string; subject?: string } = {},
): Promise<OutboxRow[]> {
  const conditions: string[] = [];
  const values: string[] = [];
  for (const column of ['type', 'subject'] as const) {
    const value = where[column];
    if (value === undefined) continue;
    values.push(value);
    conditions.push(`${column} = $${values.length}`);
  }
  const filter = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
  const { rows } = await db.query<OutboxRow>(
    `SELECT type, subject, envelope FROM outbox ${filter} ORDER BY seq`,
    values,
  );
  return rows;
}
