import type { AnalyticsEvent } from '@hms/contracts';
import { authorize, decodeCursor, toPage, type Caller } from '@hms/platform';
import type { AnalyticsContext } from './context.js';
import * as store from './store.js';

export interface EventQuery {
  type?: string;
  subject?: string;
  limit?: number;
  cursor?: string;
}

/** GET /analytics/events: the events recorded, newest first (keyset paging on arrival order). */
export async function listEvents(
  ctx: AnalyticsContext,
  caller: Caller,
  query: EventQuery,
): Promise<{ items: AnalyticsEvent[]; nextCursor: string | null }> {
  authorize(caller, 'analytics:read');
  const limit = query.limit ?? 20;
  const before = decodeCursor(query.cursor, 1, ([seq]) => Number.isSafeInteger(seq) && Number(seq) > 0);
  const rows = await store.listEvents(
    ctx.db,
    { ...(query.type ? { type: query.type } : {}), ...(query.subject ? { subject: query.subject } : {}) },
    before?.[0] as number | undefined,
    limit + 1,
  );
  const page = toPage(rows, limit, (r) => [r.seq]);
  return { items: page.items.map(({ seq: _seq, ...event }) => event), nextCursor: page.nextCursor };
}
