import { defineErrors } from '@hms/platform';

/** Every error the Billing service answers beyond the kit's common ones (STYLE.md §7). */
export const BillingErrors = defineErrors({
  invoice_not_found: { status: 404, title: 'Invoice not found' },
  claim_not_found: { status: 404, title: 'Claim not found' },
  fee_not_found: { status: 404, title: 'The fee schedule has no entry for this appointment type' },
  account_not_found: { status: 404, title: 'No patient has this id' },
  invalid_transition: { status: 409, title: "The invoice's or claim's status does not allow this" },
  invoice_not_open: {
    status: 409,
    title: 'The invoice is not issued and owing: it takes no payment, adjustment or claim',
  },
  invoice_has_payments: { status: 409, title: 'An invoice with payments cannot be voided' },
  invoice_needs_pricing: {
    status: 409,
    title: 'The invoice was drafted for an unpriced appointment type: price it before issuing it',
  },
  currency_mismatch: { status: 409, title: "The amount is not in the invoice's currency" },
  exceeds_balance: { status: 409, title: 'The amount exceeds the balance of the invoice' },
  exceeds_line: { status: 409, title: 'The adjustment exceeds what is left of the line' },
  exceeds_claimable: {
    status: 409,
    title: "The claim exceeds the invoice's balance less its other open claims",
  },
  appointment_invoiced: { status: 409, title: 'The appointment has an invoice already' },
  not_resubmittable: {
    status: 409,
    title: 'Only a denied claim of the same invoice, not resubmitted yet, can be resubmitted',
  },
});
