import type { Claim, Invoice, PatientInput } from '@hms/contracts';
import type { Visit } from './clinic.js';
import { allPages, inPool, waitFor } from './http.js';
import type { Random } from './random.js';
import { CONCURRENCY, type Actors, type Clinic } from './setup.js';

/** What the revenue cycle of the day did. */
export interface Revenue {
  issued: number;
  voided: number;
  deskPayments: number;
  claims: { submitted: number; approved: number; paid: number; denied: number };
}

const DENIALS = [
  { reason: 'service not covered under the member plan', code: 'CO-96' },
  { reason: 'prior authorisation missing', code: 'CO-197' },
  { reason: 'not deemed medically necessary', code: 'CO-50' },
];
/** The insurer's share of an insured visit; the patient pays the rest at the desk. */
const INSURED_SHARE = 0.8;
/**
 * What becomes of the visits, in turn (a cycle rather than chance, so that even a short day
 * shows each): the insurer's answers to claims, and uninsured patients' payments at the desk.
 */
const CLAIM_ANSWERS = ['paid', 'denied', 'paid', 'approved', 'denied', 'paid', 'unanswered'] as const;
type ClaimAnswer = (typeof CLAIM_ANSWERS)[number];
const DESK_PAYMENTS = ['full', 'full', 'half', 'none', 'full'] as const;
type DeskPayment = (typeof DESK_PAYMENTS)[number];

/**
 * The day's billing: Billing drafted an invoice for every booking (from `appointment.created.v1`,
 * priced from the fee schedule). A completed visit's invoice is issued; the patient pays at the
 * desk, in full, in part or not yet, or for an insured patient pays the co-payment while a claim
 * goes to the insurer, who approves and pays it, denies it, or has not answered yet. A no-show is
 * not charged: its draft is voided.
 */
export async function runRevenue(
  as: Actors,
  random: Random,
  clinic: Clinic,
  visits: Visit[],
): Promise<Revenue> {
  const billed = visits.filter((v) => v.outcome === 'completed' || v.outcome === 'no-show');
  const wanted = new Set(billed.map((v) => v.appointment.id));
  // the drafts come from events: wait until Billing has drafted one for each visit to bill
  const drafts = await waitFor('the draft invoices of the visits', async () => {
    const found = new Map<string, Invoice>();
    for (const inv of await allPages<Invoice>(as.billing, '/api/v1/invoices', { status: 'draft' }))
      if (inv.appointmentId && wanted.has(inv.appointmentId)) found.set(inv.appointmentId, inv);
    return found.size === wanted.size ? found : undefined;
  });
  const insuranceOf = new Map(clinic.patients.map((p) => [p.id, p.input.insurance]));
  // every choice is made now, in visit order, so that the run is the same however requests interleave
  let insured = 0;
  let uninsured = 0;
  const plans = billed.map((visit) => {
    const insurance = insuranceOf.get(visit.appointment.patientId);
    const completed = visit.outcome === 'completed';
    return {
      visit,
      draft: drafts.get(visit.appointment.id) as Invoice,
      insurance,
      answer: completed && insurance ? CLAIM_ANSWERS[insured++ % CLAIM_ANSWERS.length] : undefined,
      desk: completed && !insurance ? DESK_PAYMENTS[uninsured++ % DESK_PAYMENTS.length] : undefined,
      denial: random.pick(DENIALS),
    };
  });
  const revenue: Revenue = {
    issued: 0,
    voided: 0,
    deskPayments: 0,
    claims: { submitted: 0, approved: 0, paid: 0, denied: 0 },
  };
  await inPool(plans, CONCURRENCY, async (p) => {
    const path = `/api/v1/invoices/${p.draft.id}`;
    if (p.visit.outcome === 'no-show') {
      await as.billing.post(`${path}/void`, { reason: 'no charge for a missed appointment' });
      revenue.voided += 1;
      return;
    }
    const invoice = await as.billing.post<Invoice>(`${path}/issue`);
    revenue.issued += 1;
    if (p.insurance && p.answer) await claimInsured(as, invoice, p.insurance, p.answer, p.denial, revenue);
    else if (p.desk) await payAtDesk(as, invoice, p.desk, revenue);
  });
  return revenue;
}

async function pay(as: Actors, invoice: Invoice, amount: number, method: 'card' | 'cash'): Promise<void> {
  await as.desk.post(`/api/v1/invoices/${invoice.id}/payments`, {
    amount,
    currency: invoice.currency,
    method,
  });
}

/** Uninsured: pays in full, half now, or owes it all for the time being. */
async function payAtDesk(as: Actors, invoice: Invoice, desk: DeskPayment, revenue: Revenue): Promise<void> {
  if (desk === 'none' || invoice.total === 0) return;
  if (desk === 'full') await pay(as, invoice, invoice.total, 'card');
  else await pay(as, invoice, Math.ceil(invoice.total / 2), 'cash');
  revenue.deskPayments += 1;
}

/** Insured: the co-payment at the desk, the rest claimed, and the insurer's answer so far. */
async function claimInsured(
  as: Actors,
  invoice: Invoice,
  insurance: NonNullable<PatientInput['insurance']>,
  answer: ClaimAnswer,
  denial: { reason: string; code: string },
  revenue: Revenue,
): Promise<void> {
  const claimed = Math.round(invoice.total * INSURED_SHARE);
  if (invoice.total - claimed > 0) {
    await pay(as, invoice, invoice.total - claimed, 'card');
    revenue.deskPayments += 1;
  }
  const draft = await as.billing.post<Claim>('/api/v1/claims', {
    invoiceId: invoice.id,
    amount: claimed,
    currency: invoice.currency,
    ...insurance,
  });
  const claim = `/api/v1/claims/${draft.id}`;
  await as.billing.post(`${claim}/submit`);
  revenue.claims.submitted += 1;
  if (answer === 'paid' || answer === 'approved') {
    await as.billing.post(`${claim}/approve`, { approvedAmount: claimed });
    revenue.claims.approved += 1;
    if (answer === 'paid') {
      await as.billing.post(`${claim}/pay`);
      revenue.claims.paid += 1;
    }
  } else if (answer === 'denied') {
    await as.billing.post(`${claim}/deny`, denial);
    revenue.claims.denied += 1;
  }
}
