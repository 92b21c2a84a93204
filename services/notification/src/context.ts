import type { Clock, Db, ServiceDeps } from '@hms/platform';
import type { Logger } from 'pino';
import { notificationConfig, type NotificationConfig } from './config.js';
import { makeCopies, type Copies } from './copies.js';
import { makeTransports } from './transports/index.js';
import type { Transports } from './transports/transport.js';

/** What the use cases, consumers and the dispatcher run with (ServiceDeps' part they need). */
export interface NotificationContext {
  db: Db;
  clock: Clock;
  facility: { timezone: string; locale: string };
  config: NotificationConfig;
  copies: Copies;
  transports: Transports;
  logger: Logger;
}

/** One context per running service: setup and consumers are handed the same deps. */
const made = new WeakMap<object, NotificationContext>();
export function contextOf(deps: ServiceDeps): NotificationContext {
  let ctx = made.get(deps);
  if (!ctx) {
    const config = notificationConfig(deps.env);
    ctx = {
      db: deps.db,
      clock: deps.clock,
      facility: deps.facility,
      config,
      copies: makeCopies(deps),
      transports: makeTransports(config, deps.logger),
      logger: deps.logger,
    };
    made.set(deps, ctx);
  }
  return ctx;
}
