import { Type } from '@sinclair/typebox';
import {
  AppointmentTypeCode,
  BillingAccount,
  FeeScheduleEntry,
  FeeScheduleInput,
  Page,
  PageQuery,
  Problem,
  Uuid,
} from '@hms/contracts';
import {
  IfMatchHeader,
  ProblemResponses,
  callerOf,
  ifMatchOptional,
  reportAccess,
  withETag,
  type App,
} from '@hms/platform';
import { getAccount } from '../accounts.js';
import type { BillingContext } from '../context.js';
import * as fees from '../fee-schedule.js';

const errors = ProblemResponses;
export const FEES = '/api/v1/billing/fee-schedule';
export const ACCOUNTS = '/api/v1/billing/accounts';
const CodeParams = Type.Object({ code: AppointmentTypeCode });

/** HTTP edge of the fee schedule (not patient data) and of patients' billing accounts (STYLE.md §2). */
export function billingRoutes(app: App, ctx: BillingContext): void {
  const tags = ['fee schedule'];

  app.get(
    FEES,
    {
      config: { permission: 'billing:read' },
      schema: {
        tags,
        operationId: 'listFeeScheduleEntries',
        summary: 'The fee schedule: a price per appointment type code, in code order',
        description:
          'The fee schedule in code order: the price of each appointment type code, in its currency.',
        querystring: Type.Object({ ...PageQuery }, { additionalProperties: false }),
        response: { 200: Page(FeeScheduleEntry), ...errors },
      },
    },
    (request) => fees.listFees(ctx, callerOf(request), request.query),
  );

  app.get(
    `${FEES}/:code`,
    {
      config: { permission: 'billing:read' },
      schema: {
        tags,
        operationId: 'getFeeScheduleEntry',
        summary: 'The price of an appointment type',
        description:
          'The price of one appointment type, with the `ETag` a replacement needs; 404 when the schedule has no entry for it.',
        params: CodeParams,
        response: { 200: FeeScheduleEntry, ...errors },
      },
    },
    async (request, reply) => {
      const fee = await fees.getFee(ctx, callerOf(request), request.params.code);
      return withETag(reply, fee.version).send(fee);
    },
  );

  app.put(
    `${FEES}/:code`,
    {
      config: { permission: 'billing:write' },
      schema: {
        tags,
        operationId: 'setFeeScheduleEntry',
        summary:
          'Set the price of an appointment type (201 when new; replacing an entry needs If-Match); invoices drafted from now on bill it',
        description:
          'Sets the price of an appointment type: 201 when the entry is new, 200 when it replaces one, which needs `If-Match` (428 without it, 412 when it changed). Invoices drafted from now on bill the new price.',
        params: CodeParams,
        headers: IfMatchHeader,
        body: FeeScheduleInput,
        response: { 200: FeeScheduleEntry, 201: FeeScheduleEntry, ...errors, 412: Problem, 428: Problem },
      },
    },
    async (request, reply) => {
      const { fee, created } = await fees.putFee(
        ctx,
        callerOf(request),
        request.params.code,
        request.body,
        ifMatchOptional(request),
      );
      return withETag(reply.code(created ? 201 : 200), fee.version).send(fee);
    },
  );

  app.delete(
    `${FEES}/:code`,
    {
      config: { permission: 'billing:write' },
      schema: {
        tags,
        operationId: 'deleteFeeScheduleEntry',
        summary:
          'Remove the price of an appointment type (If-Match optional): its appointments draft unpriced',
        description:
          'Removes the price of an appointment type (204); its appointments are then drafted unpriced, flagged `needsPricing`. `If-Match` is optional (412 when it does not match).',
        params: CodeParams,
        headers: IfMatchHeader,
        response: { 204: Type.Null(), ...errors, 412: Problem },
      },
    },
    async (request, reply) => {
      await fees.deleteFee(ctx, callerOf(request), request.params.code, ifMatchOptional(request));
      return reply.code(204).send(null);
    },
  );

  app.get(
    `${ACCOUNTS}/:patientId`,
    {
      config: { permission: 'billing:read', access: { resource: 'billing-account' } },
      schema: {
        tags: ['accounts'],
        operationId: 'getBillingAccount',
        summary:
          "A patient's billing account: their insurance, open invoices and the balance owed per currency",
        description:
          "A patient's billing account: their insurance, their open invoices and the balance owed per currency. 404 when no patient has that id; 503 with `Retry-After` when the patient service must be asked and cannot answer.",
        params: Type.Object({ patientId: Uuid }),
        response: { 200: BillingAccount, ...errors, 503: Problem },
      },
    },
    async (request) => {
      reportAccess(request, { ids: [request.params.patientId], patientIds: [request.params.patientId] });
      return getAccount(ctx, callerOf(request), request.params.patientId);
    },
  );
}
