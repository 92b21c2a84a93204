import type { AccessRecord, Claim, EventEnvelope, Invoice } from '@hms/contracts';
import { expectAccessMatrix, expectErrorCatalogue } from '@hms/testkit/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ACCOUNTS,
  CLAIMS,
  FEES,
  INVOICES,
  counts,
  expectStatus,
  issued,
  pay,
  post,
  register,
  useWorld,
  type World,
} from './helpers.js';

/**
 * Who may do what (roles.ts), every route's guard, the error catalogue, and the access records
 * (issue #5): invoices, claims and accounts name their patient, so every answer about one is an
 * access to that patient's record. This file listens on the shared bus as the audit service would.
 */
const world = useWorld();
let w: World;
let patientId: string;
let inv: Invoice;
let claim: Claim;
const envelopes: EventEnvelope[] = [];
const records = () =>
  envelopes
    .flatMap((e) => (e.data as { records: AccessRecord[] }).records)
    .filter((r) => r.service === 'billing');

beforeAll(async () => {
  w = world();
  await w.billing.bus.subscribe({
    consumer: 'audit-probe',
    types: ['access.recorded.v1'],
    handler: async (envelope) => void envelopes.push(envelope),
  });
  patientId = (await register(w)).id;
  inv = await issued(w, patientId);
  claim = await expectStatus(
    post<Claim>(w, CLAIMS, w.tokens.billing, { invoiceId: inv.id, amount: 1_000, currency: 'USD' }),
    201,
  );
  await expectStatus(
    w.billing.request('PUT', `${FEES}/consult-30`, {
      token: w.tokens.billing,
      body: { description: 'Consultation', unitPrice: 12_000 },
    }),
    201,
  );
});

describe('the guard on every route', () => {
  it('401 without a valid token, 403 without the route’s permission, on every route it registered', async () => {
    const walked = await expectAccessMatrix(w.billing, {
      params: { id: inv.id, code: 'consult-30', patientId },
      untouched: () => counts(w.billing),
    });
    expect(walked.map((r) => `${r.method} ${r.url}`).sort()).toEqual(
      [
        `GET ${INVOICES}`,
        `POST ${INVOICES}`,
        `GET ${INVOICES}/:id`,
        `PUT ${INVOICES}/:id`,
        `POST ${INVOICES}/:id/issue`,
        `POST ${INVOICES}/:id/void`,
        `POST ${INVOICES}/:id/payments`,
        `POST ${INVOICES}/:id/adjustments`,
        `GET ${CLAIMS}`,
        `POST ${CLAIMS}`,
        `GET ${CLAIMS}/:id`,
        `POST ${CLAIMS}/:id/submit`,
        `POST ${CLAIMS}/:id/approve`,
        `POST ${CLAIMS}/:id/deny`,
        `POST ${CLAIMS}/:id/pay`,
        `GET ${FEES}`,
        `GET ${FEES}/:code`,
        `PUT ${FEES}/:code`,
        `DELETE ${FEES}/:code`,
        `GET ${ACCOUNTS}/:patientId`,
      ].sort(),
    );
  });

  it('documents every error it can answer', async () => {
    const { used } = await expectErrorCatalogue(w.billing, new URL('../src/', import.meta.url));
    expect(used.sort()).toEqual(
      [
        'invoice_not_found',
        'claim_not_found',
        'fee_not_found',
        'account_not_found',
        'invalid_transition',
        'invoice_not_open',
        'invoice_has_payments',
        'invoice_needs_pricing',
        'currency_mismatch',
        'exceeds_balance',
        'exceeds_line',
        'exceeds_claimable',
        'appointment_invoiced',
        'not_resubmittable',
        // the kit's: replacing a fee schedule entry that exists needs If-Match
        'precondition_required',
      ].sort(),
    );
  });
});

describe('by role (roles.ts)', () => {
  it('a receptionist reads invoices and takes a payment at the desk, but neither issues, adjusts nor claims', async () => {
    const desk = w.tokens.desk;
    expect((await w.billing.request('GET', `${INVOICES}/${inv.id}`, { token: desk })).status).toBe(200);
    expect((await pay(w, inv.id, 500, desk)).status).toBe(201);
    const refused = [
      await post(w, INVOICES, desk, { patientId, lines: [] }),
      await post(w, `${INVOICES}/${inv.id}/adjustments`, desk, {
        amount: 1,
        currency: 'USD',
        reason: 'courtesy',
      }),
      await post(w, `${CLAIMS}/${claim.id}/submit`, desk),
      await post(w, `${CLAIMS}/${claim.id}/approve`, desk, { approvedAmount: 1 }),
    ];
    expect(refused.map((r) => r.status)).toEqual([403, 403, 403, 403]);
  });

  it('a nurse sees no invoice; only claims:adjudicate approves or denies', async () => {
    expect((await w.billing.request('GET', INVOICES, { token: w.tokens.nurse })).status).toBe(403);
    const physician = await w.keys.mint({ roles: ['physician'] });
    expect((await post(w, `${CLAIMS}/${claim.id}/deny`, physician, { reason: 'x' })).status).toBe(403);
  });
});

async function recordOf(requestId: string | null): Promise<AccessRecord> {
  expect(requestId).toBeTruthy();
  await expect
    .poll(() => records().filter((r) => r.requestId === requestId).length, { timeout: 10_000 })
    .toBe(1);
  return records().find((r) => r.requestId === requestId) as AccessRecord;
}

describe('what an answer about billing reports', () => {
  it('names the patient of every invoice, claim and account read, listed or changed, refused ones too', async () => {
    const read = await w.billing.request('GET', `${INVOICES}/${inv.id}`, { token: w.tokens.billing });
    expect(await recordOf(read.headers.get('x-request-id'))).toMatchObject({
      action: 'read',
      resource: { type: 'invoice', ids: [inv.id] },
      patientIds: [patientId],
    });
    const listed = await w.billing.request('GET', `${CLAIMS}?patientId=${patientId}`, {
      token: w.tokens.billing,
    });
    expect(await recordOf(listed.headers.get('x-request-id'))).toMatchObject({
      action: 'search',
      resource: { type: 'claim', ids: [claim.id] },
      patientIds: [patientId],
    });
    const paid = await pay(w, inv.id, 100);
    expect(await recordOf(paid.headers.get('x-request-id'))).toMatchObject({
      action: 'update',
      resource: { type: 'invoice', ids: [inv.id] },
      patientIds: [patientId],
      status: 201,
    });
    const acct = await w.billing.request('GET', `${ACCOUNTS}/${patientId}`, { token: w.tokens.billing });
    expect(await recordOf(acct.headers.get('x-request-id'))).toMatchObject({
      resource: { type: 'billing-account', ids: [patientId] },
      patientIds: [patientId],
    });
    const refused = await post(w, INVOICES, w.tokens.billing, {
      patientId,
      currency: 'XYZ',
      lines: [{ code: 'x', description: 'x', quantity: 1, unitPrice: 1 }],
    });
    expect(refused.status).toBe(400);
    expect(await recordOf(refused.headers.get('x-request-id'))).toMatchObject({
      action: 'create',
      patientIds: [patientId],
      status: 400,
    });
  });
});
