import { Type } from '@sinclair/typebox';
import {
  Claim,
  ClaimApproveInput,
  ClaimDenyInput,
  ClaimInput,
  ClaimPaid,
  ClaimStatus,
  Page,
  PageQuery,
  Problem,
  Uuid,
} from '@hms/contracts';
import { IdParams, ProblemResponses, callerOf, reportAccess, withETag, type App } from '@hms/platform';
import type { FastifyRequest } from 'fastify';
import * as claims from '../claims.js';
import type { BillingContext } from '../context.js';
import { DateRange } from './invoices.js';

const errors = ProblemResponses;
export const CLAIMS = '/api/v1/claims';
const tags = ['claims'];
const access = { resource: 'claim' } as const;
const update = { resource: 'claim', action: 'update' } as const;

/** A claim names its patient (and their insurance): every answer about one is an access to their record. */
function reported(request: FastifyRequest, list: Claim[]): void {
  reportAccess(request, {
    ids: list.map((c) => c.id),
    patientIds: [...new Set(list.map((c) => c.patientId))],
  });
}

/** HTTP edge of insurance claims (STYLE.md §2). */
export function claimRoutes(app: App, ctx: BillingContext): void {
  app.get(
    CLAIMS,
    {
      config: { permission: 'billing:read', access: { resource: 'claim', action: 'search' } },
      schema: {
        tags,
        operationId: 'listClaims',
        summary: 'List claims in creation order, by patient, invoice, status and creation time',
        description:
          'Insurance claims in creation order, filtered by patient, invoice, status and creation time, one page at a time.',
        querystring: Type.Object(
          {
            patientId: Type.Optional(Uuid),
            invoiceId: Type.Optional(Uuid),
            status: Type.Optional(ClaimStatus),
            ...DateRange,
            ...PageQuery,
          },
          { additionalProperties: false },
        ),
        response: { 200: Page(Claim), ...errors },
      },
    },
    async (request) => {
      const page = await claims.listClaims(ctx, callerOf(request), request.query);
      reported(request, page.items);
      return page;
    },
  );

  app.post(
    CLAIMS,
    {
      config: { permission: 'billing:write', idempotent: true, access },
      schema: {
        tags,
        operationId: 'createClaim',
        summary:
          "Draft a claim on an issued invoice (at most its balance less its other open claims), to the patient's insurer unless named; resubmissionOf resubmits a denied claim",
        description:
          "Drafts a claim on an issued invoice, to the patient's insurer unless one is named; `resubmissionOf` resubmits a denied claim. 409 when the amount exceeds the invoice's balance less its other open claims or the invoice is not open; 503 with `Retry-After` when the patient service must be asked and cannot answer. Accepts `Idempotency-Key`.",
        body: ClaimInput,
        response: { 201: Claim, ...errors, 409: Problem, 503: Problem },
      },
    },
    async (request, reply) => {
      const c = await claims.createClaim(ctx, callerOf(request), request.body);
      reported(request, [c]);
      return withETag(reply.code(201).header('location', `${CLAIMS}/${c.id}`), c.version).send(c);
    },
  );

  app.get(
    `${CLAIMS}/:id`,
    {
      config: { permission: 'billing:read', access },
      schema: {
        tags,
        operationId: 'getClaim',
        summary: 'Get a claim with its history',
        description: 'One claim with its history.',
        params: IdParams,
        response: { 200: Claim, ...errors },
      },
    },
    async (request, reply) => {
      const c = await claims.getClaim(ctx, callerOf(request), request.params.id);
      reported(request, [c]);
      return withETag(reply, c.version).send(c);
    },
  );

  app.post(
    `${CLAIMS}/:id/submit`,
    {
      config: { permission: 'billing:write', idempotent: true, access: update },
      schema: {
        tags,
        operationId: 'submitClaim',
        summary:
          "Submit a draft claim to its insurer (its amount checked again against the invoice's balance)",
        description:
          "Submits a draft claim to its insurer; its amount is checked again against the invoice's balance. 409 when the claim is not a draft or the amount no longer fits. Accepts `Idempotency-Key`.",
        params: IdParams,
        response: { 200: Claim, ...errors, 409: Problem },
      },
    },
    async (request, reply) => {
      const c = await claims.submitClaim(ctx, callerOf(request), request.params.id);
      reported(request, [c]);
      return withETag(reply, c.version).send(c);
    },
  );

  app.post(
    `${CLAIMS}/:id/approve`,
    {
      config: { permission: 'claims:adjudicate', idempotent: true, access: update },
      schema: {
        tags,
        operationId: 'approveClaim',
        summary:
          'Record the insurer’s approval of a submitted claim, with the amount approved (at most the amount claimed)',
        description:
          "Records the insurer's approval of a submitted claim with the amount approved, at most the amount claimed. 409 when the claim is not submitted. Needs `claims:adjudicate`; accepts `Idempotency-Key`.",
        params: IdParams,
        body: ClaimApproveInput,
        response: { 200: Claim, ...errors, 409: Problem },
      },
    },
    async (request, reply) => {
      const c = await claims.approveClaim(ctx, callerOf(request), request.params.id, request.body);
      reported(request, [c]);
      return withETag(reply, c.version).send(c);
    },
  );

  app.post(
    `${CLAIMS}/:id/deny`,
    {
      config: { permission: 'claims:adjudicate', idempotent: true, access: update },
      schema: {
        tags,
        operationId: 'denyClaim',
        summary: 'Record the insurer’s denial of a submitted claim, with its reason; the invoice stays owed',
        description:
          "Records the insurer's denial of a submitted claim with its reason; the invoice stays owed and the claim may be resubmitted. 409 when the claim is not submitted. Needs `claims:adjudicate`; accepts `Idempotency-Key`.",
        params: IdParams,
        body: ClaimDenyInput,
        response: { 200: Claim, ...errors, 409: Problem },
      },
    },
    async (request, reply) => {
      const c = await claims.denyClaim(ctx, callerOf(request), request.params.id, request.body);
      reported(request, [c]);
      return withETag(reply, c.version).send(c);
    },
  );

  app.post(
    `${CLAIMS}/:id/pay`,
    {
      config: { permission: 'billing:write', idempotent: true, access: update },
      schema: {
        tags,
        operationId: 'payClaim',
        summary:
          "Record the insurer's payment of an approved claim: the approved amount is posted to the invoice as a payment (method insurance); the rest stays the patient's",
        description:
          "Records the insurer's payment of an approved claim: the approved amount is posted to the invoice as an insurance payment, and the rest stays the patient's to pay. 409 when the claim is not approved. Accepts `Idempotency-Key`.",
        params: IdParams,
        response: { 200: ClaimPaid, ...errors, 409: Problem },
      },
    },
    async (request) => {
      const paid = await claims.payClaim(ctx, callerOf(request), request.params.id);
      reported(request, [paid.claim]);
      return paid;
    },
  );
}
