import { AsyncLocalStorage } from 'node:async_hooks';

/** What travels with a unit of work (an HTTP request, an event handler) across awaits. */
export interface WorkContext {
  requestId: string;
  traceparent?: string | undefined;
  /** The caller's bearer token, forwarded on calls a user started. */
  authorization?: string | undefined;
  /** Who the work is for: the verified token's `sub` (a user id, or `svc:<name>`); events carry it. */
  actor?: string | undefined;
}

const storage = new AsyncLocalStorage<WorkContext>();

export function currentContext(): WorkContext | undefined {
  return storage.getStore();
}

export function runWithContext<T>(ctx: WorkContext, fn: () => T): T {
  return storage.run(ctx, fn);
}
