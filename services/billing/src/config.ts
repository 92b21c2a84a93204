import { Type, type Static } from '@sinclair/typebox';
import { ConfigError, loadConfig } from '@hms/platform';
import { isCurrency } from './domain/money.js';

/** The Billing service's own configuration keys (STYLE.md §9). */
export const BillingConfig = Type.Object({
  BILLING_CURRENCY: Type.String({
    pattern: '^[A-Z]{3}$',
    default: 'USD',
    description:
      'ISO 4217 currency of invoices drafted for unpriced appointments, and of invoices and fee schedule entries that name none',
  }),
  BILLING_PAYMENT_TERMS_DAYS: Type.Integer({
    minimum: 0,
    maximum: 365,
    default: 30,
    description: "days from an invoice's issue (the facility's date) to its dueAt",
  }),
});
export type BillingConfig = Static<typeof BillingConfig>;

export function billingConfig(env: NodeJS.ProcessEnv): BillingConfig {
  const config = loadConfig(BillingConfig, env);
  if (!isCurrency(config.BILLING_CURRENCY))
    throw new ConfigError([`BILLING_CURRENCY: not an ISO 4217 currency (got "${config.BILLING_CURRENCY}")`]);
  return config;
}
