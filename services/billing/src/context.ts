import type { Clock, Db, LocalCopy } from '@hms/platform';
import type { AccountEntry } from './accounts.js';
import type { BillingConfig } from './config.js';

/** What the use cases are handed (not the whole deps): one per running service. */
export interface BillingContext {
  db: Db;
  clock: Clock;
  /** The facility's time zone: an invoice's year (its number) and due date are its days. */
  timezone: string;
  config: BillingConfig;
  /** Patients' billing accounts: a copy of their insurance and status, fed by Patient's events. */
  accounts: LocalCopy<AccountEntry>;
}

export const SOURCE = 'billing';
/** Who Billing acts as when an event, not a person, makes the change. */
export const SELF = 'svc:billing';
