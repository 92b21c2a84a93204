import type { Notification, NotificationQuery } from '@hms/contracts';
import { authorize, decodeCursor, isUuid, toPage, type Caller } from '@hms/platform';
import type { NotificationContext } from './context.js';
import { NotificationErrors } from './errors.js';
import * as store from './store.js';

/** Reading the messages: a list without addresses and bodies, and one message whole. */

export async function listNotifications(ctx: NotificationContext, caller: Caller, query: NotificationQuery) {
  authorize(caller, 'notifications:read');
  const { limit = 20, cursor, ...filter } = query;
  const after = decodeCursor(cursor, 1, ([id]) => typeof id === 'string' && isUuid(id))?.[0] as
    string | undefined;
  const rows = await store.listMessages(ctx.db, filter, { after, limit });
  return toPage(rows, limit, (n) => [n.id]);
}

export async function getNotification(
  ctx: NotificationContext,
  caller: Caller,
  id: string,
): Promise<Notification> {
  authorize(caller, 'notifications:read');
  const found = await store.getMessage(ctx.db, id);
  if (!found) throw NotificationErrors.notification_not_found(`no notification ${id}`);
  return found;
}
