import type {
  Appointment,
  BillingAccount,
  Claim,
  ClaimPaid,
  Invoice,
  PaymentRecorded,
  Staff,
} from '@hms/contracts';
import { appointmentService } from '@hms/appointment';
import { gatewayService } from '@hms/gateway';
import { patientService } from '@hms/patient';
import { staffService } from '@hms/staff';
import { startBehindGateway } from '@hms/testkit';
import { expectingStatus, useStarted } from '@hms/testkit/vitest';
import { describe, expect, test } from 'vitest';
import { billingService } from '../src/service.js';
import { nextSlot, patientInput, staffInput, unique } from './helpers.js';

/**
 * Issue #13's end-to-end flow through the gateway, with ES256 tokens verified against the JWKS by
 * the gateway and by each service: Staff, Patient, Appointment and Billing on one bus (RabbitMQ
 * under CI). An appointment is booked and its invoice drafted from the fee schedule; it is issued,
 * claimed, denied with a reason, resubmitted, approved for less than claimed and paid, and a
 * receptionist takes the remainder at the desk: balance 0, status paid.
 */
async function startPlatform() {
  const p = await startBehindGateway(gatewayService, [
    staffService,
    patientService,
    appointmentService,
    billingService,
  ]);
  return {
    ...p,
    tokens: {
      manager: await p.keys.mint({ roles: ['manager'] }),
      desk: await p.keys.mint({ roles: ['receptionist'] }),
      billing: await p.keys.mint({ roles: ['billing'] }),
    },
  };
}

const platform = useStarted(startPlatform, 120_000);
/** A request through the gateway; fails the test unless it answers `status`. */
const call = expectingStatus(() => platform().gateway);

describe('revenue cycle end to end, through the gateway', () => {
  test('appointment → invoice issued → claim denied, resubmitted, approved for less, paid → the desk takes the rest: paid', async () => {
    const { tokens } = platform();
    const member = await call<Staff>('POST', '/api/v1/staff', tokens.manager, 201, staffInput());
    const patient = await call<{ id: string }>(
      'POST',
      '/api/v1/patients?confirmDuplicate=true',
      tokens.desk,
      201,
      {
        ...patientInput(),
        insurance: { payer: 'Acme Health', memberId: 'ACME-42' },
      },
    );
    const type = `consult-${unique()}`;
    await call('POST', '/api/v1/appointments/types', tokens.desk, 201, {
      code: type,
      name: 'Consultation',
      durationMin: 30,
    });
    await call('PUT', `/api/v1/billing/fee-schedule/${type}`, tokens.billing, 201, {
      description: 'Consultation, 30 minutes',
      unitPrice: 20_000,
      currency: 'USD',
    });

    // booked at the desk: Billing drafts its invoice from the event
    const appointment = await call<Appointment>('POST', '/api/v1/appointments', tokens.desk, 201, {
      patientId: patient.id,
      staffId: member.id,
      type,
      ...nextSlot(),
    });
    let draft: Invoice | undefined;
    await expect
      .poll(
        async () => {
          const page = await call<{ items: Invoice[] }>(
            'GET',
            `/api/v1/invoices?appointmentId=${appointment.id}`,
            tokens.billing,
            200,
          );
          draft = page.items[0];
          return draft?.total;
        },
        { timeout: 15_000, interval: 100 },
      )
      .toBe(20_000);
    const inv = draft as Invoice;
    expect(inv).toMatchObject({ status: 'draft', patientId: patient.id, currency: 'USD' });

    const issued = await call<Invoice>('POST', `/api/v1/invoices/${inv.id}/issue`, tokens.billing, 200);
    expect(issued).toMatchObject({ status: 'issued', balance: 20_000 });

    // claimed from the patient's insurer, denied with a reason: still owed in full
    const first = await call<Claim>('POST', '/api/v1/claims', tokens.billing, 201, {
      invoiceId: inv.id,
      amount: 16_000,
      currency: 'USD',
    });
    expect(first).toMatchObject({ payer: 'Acme Health', memberId: 'ACME-42' });
    await call('POST', `/api/v1/claims/${first.id}/submit`, tokens.billing, 200);
    const denied = await call<Claim>('POST', `/api/v1/claims/${first.id}/deny`, tokens.billing, 200, {
      reason: 'missing referral',
    });
    expect(denied).toMatchObject({ status: 'denied', denialReason: 'missing referral' });
    expect(await call<Invoice>('GET', `/api/v1/invoices/${inv.id}`, tokens.billing, 200)).toMatchObject({
      status: 'issued',
      balance: 20_000,
    });

    // resubmitted as a new claim linked to the first, approved for less than claimed, paid
    const second = await call<Claim>('POST', '/api/v1/claims', tokens.billing, 201, {
      invoiceId: inv.id,
      amount: 16_000,
      currency: 'USD',
      resubmissionOf: first.id,
    });
    await call('POST', `/api/v1/claims/${second.id}/submit`, tokens.billing, 200);
    await call('POST', `/api/v1/claims/${second.id}/approve`, tokens.billing, 200, {
      approvedAmount: 14_500,
    });
    const paid = await call<ClaimPaid>('POST', `/api/v1/claims/${second.id}/pay`, tokens.billing, 200);
    expect(paid.claim).toMatchObject({ status: 'paid', resubmissionOf: first.id, paidAmount: 14_500 });
    expect(paid.invoice).toMatchObject({ status: 'issued', balance: 5_500 });

    // the receptionist takes the remainder at the desk
    const desk = await call<PaymentRecorded>(
      'POST',
      `/api/v1/invoices/${inv.id}/payments`,
      tokens.desk,
      201,
      {
        amount: 5_500,
        currency: 'USD',
        method: 'card',
        reference: 'terminal 3',
      },
    );
    expect(desk.invoice).toMatchObject({ status: 'paid', balance: 0, paid: 20_000 });
    const account = await call<BillingAccount>(
      'GET',
      `/api/v1/billing/accounts/${patient.id}`,
      tokens.desk,
      200,
    );
    expect(account).toMatchObject({ patientId: patient.id, openInvoices: [], balances: [] });
  });
});
