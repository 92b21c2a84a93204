import type { Appointment, Claim, ClaimPaid, EventEnvelope, Invoice, PaymentRecorded } from '@hms/contracts';
import { buildEnvelope, uuidv7 } from '@hms/platform';
import { prng } from '@hms/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CLAIMS,
  INVOICES,
  consumed,
  expectStatus,
  getInvoice,
  invoiceOf,
  post,
  price,
  register,
  unbalanced,
  useWorld,
  type World,
} from './helpers.js';

/**
 * A ledger property test: a seeded random sequence of invoices (posted, or drafted from
 * appointment.created.v1 events published to Billing's queue), payments (some of them racing on
 * one invoice), adjustments (of a line or the whole), claims submitted, approved or denied and
 * paid, and events delivered again (the same envelope, or a replay under a new id). The test keeps
 * its own record of every request that succeeded and checks, after every step and at the end:
 * no balance below zero, no payment accepted beyond the balance, every event applied once (one
 * invoice per appointment), and each invoice's balance equal to its total less what the test saw
 * succeed, recomputed here.
 *
 * `BILLING_PROPERTY_OPS` sets the number of operations (60 by default, `npm run
 * test:billing-properties` runs 600); `BILLING_PROPERTY_SEED` replays a run (the seed is printed).
 */
const OPS = Number(process.env.BILLING_PROPERTY_OPS ?? 60);
const SEED = Number(process.env.BILLING_PROPERTY_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** The test's own record of an invoice: what it bills and what it saw succeed on it. */
interface Book {
  id: string;
  lines: number[];
  lineAdjusted: number[];
  payments: number[];
  adjustments: number[];
  /** what its submitted and approved (unpaid) claims hold of its balance */
  held: number;
}
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const owed = (b: Book) => sum(b.lines) - sum(b.payments) - sum(b.adjustments);

const world = useWorld();
let w: World;
let patientId: string;
const TYPE = 'prop-consult';
const FEE = 7_500;

beforeAll(async () => {
  w = world();
  patientId = (await register(w)).id;
  await price(w, TYPE, FEE);
});

describe('the ledger under a random sequence of invoices, payments, adjustments, claims and redeliveries', () => {
  it(
    `keeps every balance at or above zero and equal to what succeeded (${OPS} operations)`,
    async () => {
      console.log(
        `billing ledger property seed ${SEED} (BILLING_PROPERTY_SEED to replay), ${OPS} operations`,
      );
      const rnd = prng(SEED);
      const books: Book[] = [];
      const claims: { id: string; book: Book; amount: number }[] = [];
      const appointments: string[] = [];
      const published: EventEnvelope[] = [];

      const issue = async (inv: Invoice) => {
        const out = await expectStatus(
          post<Invoice>(w, `${INVOICES}/${inv.id}/issue`, w.tokens.billing),
          200,
        );
        books.push({
          id: out.id,
          lines: out.lines.map((l) => l.quantity * l.unitPrice),
          lineAdjusted: out.lines.map(() => 0),
          payments: [],
          adjustments: [],
          held: 0,
        });
      };
      const check = async (b: Book) => {
        const inv = await getInvoice(w, b.id);
        expect(inv.balance, `invoice ${b.id}`).toBeGreaterThanOrEqual(0);
        expect(inv.balance, `invoice ${b.id}`).toBe(owed(b));
        expect(inv.status).toBe(owed(b) === 0 ? 'paid' : 'issued');
      };
      const open = () => books.filter((b) => owed(b) > 0);

      const operations: Record<string, () => Promise<void>> = {
        async invoice() {
          const lines = Array.from({ length: 1 + rnd.int(3) }, (_, i) => ({
            code: `c${i}`,
            description: `line ${i}`,
            quantity: 1 + rnd.int(3),
            unitPrice: 100 + rnd.int(20_000),
          }));
          const inv = await expectStatus(
            post<Invoice>(w, INVOICES, w.tokens.billing, { patientId, lines }),
            201,
          );
          expect(inv.total).toBe(sum(lines.map((l) => l.quantity * l.unitPrice)));
          await issue(inv);
        },
        async appointment() {
          const appointment: Appointment = {
            id: uuidv7(),
            patientId,
            staffId: uuidv7(),
            type: TYPE,
            start: '2031-01-06T10:00:00.000Z',
            end: '2031-01-06T10:30:00.000Z',
            bufferBeforeMin: 0,
            bufferAfterMin: 0,
            status: 'scheduled',
            history: [],
            version: 1,
            createdAt: new Date().toISOString(),
            updatedAt: new Date().toISOString(),
          };
          const e = buildEnvelope('appointment', {
            type: 'appointment.created.v1',
            subject: appointment.id,
            data: { appointment },
          });
          published.push(e);
          appointments.push(appointment.id);
          // delivered once to three times
          await w.billing.bus.publish(Array.from({ length: 1 + rnd.int(3) }, () => e));
          const inv = await invoiceOf(w, appointment.id);
          expect(inv).toMatchObject({ total: FEE, status: 'draft' });
          await issue(inv);
        },
        async redeliver() {
          if (published.length === 0) return;
          const e = rnd.pick(published);
          const again = rnd.int(2) === 0 ? e : { ...e, id: uuidv7() };
          if (again !== e) published.push(again);
          await w.billing.bus.publish([again]);
          await consumed(w.billing, [again.id]);
        },
        async pay() {
          const b = rnd.pick(open());
          if (!b) return;
          const amount = 1 + rnd.int(Math.ceil(owed(b) * 1.3));
          const res = await post<PaymentRecorded>(w, `${INVOICES}/${b.id}/payments`, w.tokens.desk, {
            amount,
            currency: 'USD',
            method: 'cash',
          });
          if (amount <= owed(b)) {
            expect(res.status, JSON.stringify(res.body)).toBe(201);
            b.payments.push(amount);
          } else expect(res.body.code).toBe('exceeds_balance');
          await check(b);
        },
        async race() {
          const b = rnd.pick(open());
          if (!b) return;
          const before = owed(b);
          const amounts = Array.from({ length: 2 + rnd.int(3) }, () => 1 + rnd.int(Math.ceil(before * 0.6)));
          const answers = await Promise.all(
            amounts.map((amount) =>
              post<PaymentRecorded>(w, `${INVOICES}/${b.id}/payments`, w.tokens.desk, {
                amount,
                currency: 'USD',
                method: 'card',
              }),
            ),
          );
          const accepted = amounts.filter((_, i) => answers[i]?.status === 201);
          // never beyond the balance, and each refusal was one: it did not fit what the others left
          expect(sum(accepted)).toBeLessThanOrEqual(before);
          answers.forEach((a, i) => {
            if (a.status === 201) return;
            expect(a.status).toBe(409);
            expect(amounts[i] as number).toBeGreaterThan(before - sum(accepted));
          });
          b.payments.push(...accepted);
          await check(b);
        },
        async adjust() {
          const b = rnd.pick(open());
          if (!b) return;
          const line = rnd.int(2) === 0 ? undefined : rnd.int(b.lines.length);
          const left =
            line === undefined
              ? owed(b)
              : Math.min(owed(b), (b.lines[line] as number) - (b.lineAdjusted[line] as number));
          const amount = 1 + rnd.int(Math.max(1, Math.ceil(left * 1.2)));
          const res = await post(w, `${INVOICES}/${b.id}/adjustments`, w.tokens.billing, {
            amount,
            currency: 'USD',
            reason: rnd.pick(['contractual', 'write-off', 'courtesy', 'correction']),
            ...(line === undefined ? {} : { line: line + 1 }),
          });
          if (amount <= left) {
            expect(res.status, JSON.stringify(res.body)).toBe(201);
            b.adjustments.push(amount);
            if (line !== undefined) b.lineAdjusted[line] = (b.lineAdjusted[line] as number) + amount;
          } else expect(res.status).toBe(409);
          await check(b);
        },
        async claim() {
          const b = rnd.pick(open());
          if (!b) return;
          const amount = 1 + rnd.int(owed(b));
          const claimable = Math.max(0, owed(b) - b.held);
          const res = await post<Claim>(w, CLAIMS, w.tokens.billing, {
            invoiceId: b.id,
            amount,
            currency: 'USD',
          });
          if (amount > claimable) {
            // the invoice's other open claims hold the rest of its balance
            expect(res.body.code, JSON.stringify({ owed: owed(b), held: b.held, amount })).toBe(
              'exceeds_claimable',
            );
            return;
          }
          expect(res.status, JSON.stringify(res.body)).toBe(201);
          await expectStatus(post(w, `${CLAIMS}/${res.body.id}/submit`, w.tokens.billing), 200);
          b.held += amount;
          claims.push({ id: res.body.id, book: b, amount });
        },
        async adjudicate() {
          const c = claims.shift();
          if (!c) return;
          if (rnd.int(4) === 0) {
            await expectStatus(
              post(w, `${CLAIMS}/${c.id}/deny`, w.tokens.billing, { reason: 'not covered' }),
              200,
            );
            c.book.held -= c.amount;
            await check(c.book); // a denial leaves the invoice owed
            return;
          }
          const approved = 1 + rnd.int(c.amount);
          await expectStatus(
            post(w, `${CLAIMS}/${c.id}/approve`, w.tokens.billing, { approvedAmount: approved }),
            200,
          );
          c.book.held -= c.amount - approved;
          const res = await post<ClaimPaid>(w, `${CLAIMS}/${c.id}/pay`, w.tokens.billing);
          if (approved <= owed(c.book)) {
            expect(res.status, JSON.stringify(res.body)).toBe(200);
            c.book.payments.push(approved);
            c.book.held -= approved;
          } else {
            // stays approved, holding its amount; an invoice paid off meanwhile takes nothing more
            expect(res.status).toBe(409);
            expect(['exceeds_balance', 'invoice_not_open']).toContain(res.body.code);
          }
          await check(c.book);
        },
      };
      const weighted = [
        'invoice',
        'appointment',
        'redeliver',
        'pay',
        'pay',
        'race',
        'race',
        'adjust',
        'claim',
        'adjudicate',
        'adjudicate',
      ];
      await operations.invoice?.();
      for (let i = 0; i < OPS; i += 1) await operations[rnd.pick(weighted)]?.();

      // every event delivered was applied once: one invoice per appointment, none for a replay
      await consumed(
        w.billing,
        published.map((e) => e.id),
      );
      for (const id of appointments) {
        const res = await w.billing.request<{ items: Invoice[] }>('GET', `${INVOICES}?appointmentId=${id}`, {
          token: w.tokens.billing,
        });
        expect(res.body.items, `appointment ${id}`).toHaveLength(1);
      }
      for (const b of books) await check(b);
      expect(await unbalanced(w.billing)).toEqual([]);
    },
    30_000 + OPS * 400,
  );
});
