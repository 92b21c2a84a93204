import { Type } from '@sinclair/typebox';
import {
  Invoice,
  InvoiceAdjustmentInput,
  InvoiceInput,
  InvoiceStatus,
  InvoiceUpdate,
  Page,
  PageQuery,
  PaymentInput,
  PaymentRecorded,
  Problem,
  Uuid,
  VoidInput,
} from '@hms/contracts';
import {
  IdParams,
  IfMatchHeader,
  ProblemResponses,
  callerOf,
  ifMatchOptional,
  ifMatchRequired,
  reportAccess,
  withETag,
  type App,
} from '@hms/platform';
import type { FastifyRequest } from 'fastify';
import type { BillingContext } from '../context.js';
import * as invoices from '../invoices.js';
import * as ledger from '../ledger.js';

const errors = ProblemResponses;
export const INVOICES = '/api/v1/invoices';
const tags = ['invoices'];
const access = { resource: 'invoice' } as const;
const update = { resource: 'invoice', action: 'update' } as const;

/** An invoice names its patient: every answer about one is an access to that patient's record. */
function reported(request: FastifyRequest, list: Invoice[]): void {
  reportAccess(request, {
    ids: list.map((i) => i.id),
    patientIds: [...new Set(list.map((i) => i.patientId))],
  });
}

/** The date range of a list: created at or after `from`, before `to`. */
export const DateRange = {
  from: Type.Optional(Type.String({ format: 'date-time', description: 'created at or after (RFC 3339)' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'created before (RFC 3339)' })),
};

/** HTTP edge of invoices and their ledger: schema + one call into the use cases per route (STYLE.md §2). */
export function invoiceRoutes(app: App, ctx: BillingContext): void {
  app.get(
    INVOICES,
    {
      config: { permission: 'billing:read', access: { resource: 'invoice', action: 'search' } },
      schema: {
        tags,
        operationId: 'listInvoices',
        summary: 'List invoices in creation order, by patient, appointment, status and creation time',
        description:
          'Invoices in creation order, filtered by patient, appointment, status and creation time, one page at a time.',
        querystring: Type.Object(
          {
            patientId: Type.Optional(Uuid),
            appointmentId: Type.Optional(Uuid),
            status: Type.Optional(InvoiceStatus),
            ...DateRange,
            ...PageQuery,
          },
          { additionalProperties: false },
        ),
        response: { 200: Page(Invoice), ...errors },
      },
    },
    async (request) => {
      const page = await invoices.listInvoices(ctx, callerOf(request), request.query);
      reported(request, page.items);
      return page;
    },
  );

  app.post(
    INVOICES,
    {
      config: { permission: 'billing:write', idempotent: true, access },
      schema: {
        tags,
        operationId: 'createInvoice',
        summary: 'Draft an invoice; its total is the sum of its lines (Idempotency-Key accepted)',
        description:
          'Drafts an invoice; its total is the sum of its lines. 409 when the appointment has an invoice already; 503 with `Retry-After` when the patient service must be asked and cannot answer. Accepts `Idempotency-Key`.',
        body: InvoiceInput,
        response: { 201: Invoice, ...errors, 409: Problem, 503: Problem },
      },
    },
    async (request, reply) => {
      reportAccess(request, { patientIds: [request.body.patientId] });
      const inv = await invoices.createInvoice(ctx, callerOf(request), request.body);
      reportAccess(request, { ids: [inv.id] });
      return withETag(reply.code(201).header('location', `${INVOICES}/${inv.id}`), inv.version).send(inv);
    },
  );

  app.get(
    `${INVOICES}/:id`,
    {
      config: { permission: 'billing:read', access },
      schema: {
        tags,
        operationId: 'getInvoice',
        summary: 'Get an invoice with its lines, payments, adjustments and balance',
        description:
          'One invoice with its lines, payments, adjustments and balance, and the `ETag` an update needs.',
        params: IdParams,
        response: { 200: Invoice, ...errors },
      },
    },
    async (request, reply) => {
      const inv = await invoices.getInvoice(ctx, callerOf(request), request.params.id);
      reported(request, [inv]);
      return withETag(reply, inv.version).send(inv);
    },
  );

  app.put(
    `${INVOICES}/:id`,
    {
      config: { permission: 'billing:write', access: update },
      schema: {
        tags,
        operationId: 'replaceInvoice',
        summary: "Replace a draft's lines and notes (If-Match required); prices a draft flagged needsPricing",
        description:
          "Replaces a draft's lines and notes, which also prices a draft flagged `needsPricing`. `If-Match` is required (428 without it, 412 when it changed); 409 when the invoice is no longer a draft.",
        params: IdParams,
        headers: IfMatchHeader,
        body: InvoiceUpdate,
        response: { 200: Invoice, ...errors, 409: Problem, 412: Problem, 428: Problem },
      },
    },
    async (request, reply) => {
      const inv = await invoices.updateInvoice(
        ctx,
        callerOf(request),
        request.params.id,
        request.body,
        ifMatchRequired(request),
      );
      reported(request, [inv]);
      return withETag(reply, inv.version).send(inv);
    },
  );

  app.post(
    `${INVOICES}/:id/issue`,
    {
      config: { permission: 'billing:write', idempotent: true, access: update },
      schema: {
        tags,
        operationId: 'issueInvoice',
        summary: 'Issue a draft: it is owed from now on, due after the payment terms (If-Match optional)',
        description:
          'Issues a draft: it is owed from now on and due after the payment terms. 409 when it is not a draft or still needs pricing; `If-Match` is optional. Accepts `Idempotency-Key`.',
        params: IdParams,
        headers: IfMatchHeader,
        response: { 200: Invoice, ...errors, 409: Problem, 412: Problem },
      },
    },
    async (request, reply) => {
      const inv = await invoices.issueInvoice(
        ctx,
        callerOf(request),
        request.params.id,
        ifMatchOptional(request),
      );
      reported(request, [inv]);
      return withETag(reply, inv.version).send(inv);
    },
  );

  app.post(
    `${INVOICES}/:id/void`,
    {
      config: { permission: 'billing:write', idempotent: true, access: update },
      schema: {
        tags,
        operationId: 'voidInvoice',
        summary:
          'Void a draft or an issued invoice, with a reason; refused once any payment exists (If-Match optional)',
        description:
          'Voids a draft or an issued invoice with a reason. 409 once any payment exists or when its status does not allow it; `If-Match` is optional. Accepts `Idempotency-Key`.',
        params: IdParams,
        headers: IfMatchHeader,
        body: VoidInput,
        response: { 200: Invoice, ...errors, 409: Problem, 412: Problem },
      },
    },
    async (request, reply) => {
      const inv = await invoices.voidInvoice(
        ctx,
        callerOf(request),
        request.params.id,
        request.body,
        ifMatchOptional(request),
      );
      reported(request, [inv]);
      return withETag(reply, inv.version).send(inv);
    },
  );

  app.post(
    `${INVOICES}/:id/payments`,
    {
      config: { permission: 'billing:collect', idempotent: true, access: update },
      schema: {
        tags,
        operationId: 'recordInvoicePayment',
        summary:
          'Record a payment on an issued invoice: part or all of its balance, in its currency, never more (409); paid when nothing is left (Idempotency-Key accepted)',
        description:
          "Records a payment of part or all of an issued invoice's balance, in its currency; the invoice is paid when nothing is left. 409 when the amount exceeds the balance, is in another currency, or the invoice is not open. Needs `billing:collect`; accepts `Idempotency-Key`.",
        params: IdParams,
        body: PaymentInput,
        response: { 201: PaymentRecorded, ...errors, 409: Problem },
      },
    },
    async (request, reply) => {
      const recorded = await ledger.recordPayment(ctx, callerOf(request), request.params.id, request.body);
      reported(request, [recorded.invoice]);
      return reply.code(201).header('location', `${INVOICES}/${request.params.id}`).send(recorded);
    },
  );

  app.post(
    `${INVOICES}/:id/adjustments`,
    {
      config: { permission: 'billing:write', idempotent: true, access: update },
      schema: {
        tags,
        operationId: 'adjustInvoice',
        summary:
          'Adjust an issued invoice, one line or the whole, with a reason code: at most its balance (and what is left of the line)',
        description:
          'Adjusts an issued invoice, one line or the whole, with a reason code. 409 when the amount exceeds its balance or what is left of the line, or the invoice is not open. Accepts `Idempotency-Key`.',
        params: IdParams,
        body: InvoiceAdjustmentInput,
        response: { 201: Invoice, ...errors, 409: Problem },
      },
    },
    async (request, reply) => {
      const inv = await ledger.recordAdjustment(ctx, callerOf(request), request.params.id, request.body);
      reported(request, [inv]);
      return withETag(reply.code(201), inv.version).send(inv);
    },
  );
}
