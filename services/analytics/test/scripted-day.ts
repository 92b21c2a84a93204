import type { AnalyticsDashboard, EventEnvelope } from '@hms/contracts';
import { uuidv7 } from '@hms/platform';
import {
  appointmentEvent,
  claimEvent,
  claimPaid,
  fillEvent,
  invoiceGenerated,
  patientEvent,
  paymentOf,
  paymentRecorded,
  republished,
  stockLowEvent,
  type ClaimFacts,
  type InvoiceFacts,
} from './fixtures.js';

/**
 * A scripted day at a clinic in New York (America/New_York: UTC−5 on 2027-03-10), every instant
 * written in UTC as the events carry it, with the local time beside it. The expected numbers
 * below are counted by hand from this script, not computed.
 */
export const ZONE = 'America/New_York';
export const DAY = '2027-03-10';

const id = () => uuidv7();

export function scriptedDay(): EventEnvelope[] {
  const events: EventEnvelope[] = [];
  const add = (...e: EventEnvelope[]) => events.push(...e);

  // patients: three on the 10th (the last at 20:30, already the 11th in UTC); one at 23:59 on the 9th
  const p3 = id();
  add(
    patientEvent({ id: id(), registeredAt: '2027-03-10T14:00:00.000Z' }), // 09:00
    patientEvent({ id: id(), registeredAt: '2027-03-10T21:00:00.000Z' }), // 16:00
    patientEvent({ id: p3, registeredAt: '2027-03-11T01:30:00.000Z' }), // 20:30
    patientEvent({ id: p3, version: 2, registeredAt: '2027-03-11T01:30:00.000Z' }), // updated: counted once
    patientEvent({ id: id(), registeredAt: '2027-03-10T04:59:00.000Z' }), // 23:59 on the 9th
  );

  // appointments by their start's facility day
  const appt = (start: string, ...statuses: Parameters<typeof appointmentEvent>[0]['status'][]) => {
    const a = id();
    statuses.forEach((status, k) => add(appointmentEvent({ id: a, version: k + 1, status, start })));
    return a;
  };
  appt('2027-03-10T13:00:00.000Z', 'scheduled', 'checked-in', 'completed'); // A1 08:00
  appt('2027-03-10T14:00:00.000Z', 'scheduled', 'completed'); // A2 09:00
  appt('2027-03-10T15:00:00.000Z', 'scheduled', 'no-show'); // A3 10:00
  appt('2027-03-10T16:00:00.000Z', 'scheduled', 'cancelled'); // A4 11:00: in no denominator
  appt('2027-03-10T19:00:00.000Z', 'scheduled'); // A5 14:00
  appt('2027-03-11T04:30:00.000Z', 'scheduled', 'no-show'); // A6 23:30 on the 10th
  appt('2027-03-10T14:30:00.000Z', 'scheduled', 'completed'); // A8 09:30
  // A7: booked for 15:00 on the 10th, rescheduled to 10:00 on the 11th
  const a7 = id();
  add(
    appointmentEvent({ id: a7, version: 1, status: 'scheduled', start: '2027-03-10T20:00:00.000Z' }),
    appointmentEvent({ id: a7, version: 2, status: 'scheduled', start: '2027-03-11T15:00:00.000Z' }),
  );

  // fills: two (the first published twice by its producer, under two event ids)
  const f1 = fillEvent({ fillId: id(), completedAt: '2027-03-10T16:00:00.000Z' }); // 11:00
  add(f1, republished(f1), fillEvent({ fillId: id(), completedAt: '2027-03-10T22:00:00.000Z' })); // 17:00

  // stock alerts: 12:00 and 22:00
  add(stockLowEvent('2027-03-10T17:00:00.000Z'), stockLowEvent('2027-03-11T03:00:00.000Z'));

  // invoices, payments and claims
  const i1: InvoiceFacts = {
    id: id(),
    version: 1,
    status: 'issued',
    currency: 'USD',
    total: 15000,
    issuedAt: '2027-03-10T15:00:00.000Z', // 10:00
  };
  const pay1 = paymentOf({
    id: id(),
    invoiceId: i1.id,
    amount: 15000,
    currency: 'USD',
    at: '2027-03-10T15:30:00.000Z',
  });
  add(invoiceGenerated(i1), paymentRecorded(pay1, { ...i1, version: 2, status: 'paid', paid: 15000 }));

  const i2: InvoiceFacts = {
    id: id(),
    version: 1,
    status: 'issued',
    currency: 'USD',
    total: 8000,
    issuedAt: '2027-03-10T18:00:00.000Z', // 13:00
  };
  const pay2 = paymentOf({
    id: id(),
    invoiceId: i2.id,
    amount: 3000,
    currency: 'USD',
    at: '2027-03-10T20:00:00.000Z',
  });
  const c1: ClaimFacts = {
    id: id(),
    invoiceId: i2.id,
    version: 1,
    status: 'submitted',
    currency: 'USD',
    amount: 5000,
  };
  const approved = {
    ...c1,
    version: 2,
    status: 'approved' as const,
    adjudicatedAt: '2027-03-10T21:00:00.000Z',
  }; // 16:00
  const pay3 = paymentOf({
    id: id(),
    invoiceId: i2.id,
    amount: 5000,
    currency: 'USD',
    at: '2027-03-10T23:00:00.000Z', // 18:00
    claimId: c1.id,
  });
  const i2paid = { ...i2, version: 3, status: 'paid' as const, paid: 8000 };
  add(
    invoiceGenerated(i2),
    paymentRecorded(pay2, { ...i2, version: 2, paid: 3000 }),
    claimEvent(c1),
    claimEvent(approved),
    // the insurer's payment: claim-paid and its payment-recorded carry the same payment
    claimPaid({ ...approved, version: 3, status: 'paid' }, pay3, i2paid),
    paymentRecorded(pay3, i2paid),
  );

  const i3: InvoiceFacts = {
    id: id(),
    version: 1,
    status: 'issued',
    currency: 'EUR',
    total: 5000,
    issuedAt: '2027-03-11T02:00:00.000Z', // 21:00
  };
  add(invoiceGenerated(i3));

  const c2: ClaimFacts = {
    id: id(),
    invoiceId: i1.id,
    version: 1,
    status: 'submitted',
    currency: 'USD',
    amount: 4000,
  };
  const c3: ClaimFacts = {
    id: id(),
    invoiceId: i3.id,
    version: 1,
    status: 'submitted',
    currency: 'EUR',
    amount: 2500,
  };
  const c4: ClaimFacts = {
    id: id(),
    invoiceId: i2.id,
    version: 1,
    status: 'submitted',
    currency: 'USD',
    amount: 1000,
  };
  add(
    claimEvent(c2),
    claimEvent({
      ...c2,
      version: 2,
      status: 'denied',
      adjudicatedAt: '2027-03-10T22:00:00.000Z',
      denialCode: 'CO-50',
    }), // 17:00
    claimEvent(c3),
    // a denial code a spreadsheet would read as a formula (=-5)
    claimEvent({
      ...c3,
      version: 2,
      status: 'denied',
      adjudicatedAt: '2027-03-11T02:30:00.000Z',
      denialCode: '-2-3',
    }), // 21:30
    claimEvent(c4), // submitted only: not adjudicated, in no denominator
  );
  return events;
}

const none = { scheduled: 0, checkedIn: 0, completed: 0, cancelled: 0, noShow: 0 };
const empty = (day: string): AnalyticsDashboard => ({
  from: day,
  to: day,
  timezone: ZONE,
  patientsRegistered: 0,
  appointments: none,
  noShowRate: null,
  prescriptionsFilled: 0,
  stockAlerts: 0,
  invoiced: [],
  paid: [],
  denied: [],
  claims: { approved: 0, denied: 0, adjudicated: 0 },
  claimDenialRate: null,
});

/** The dashboards of the scripted days, counted by hand. */
export const EXPECTED: Record<string, AnalyticsDashboard> = {
  '2027-03-09': { ...empty('2027-03-09'), patientsRegistered: 1 },
  '2027-03-10': {
    ...empty(DAY),
    patientsRegistered: 3,
    // A5 | A1, A2, A8 | A4 | A3, A6
    appointments: { scheduled: 1, checkedIn: 0, completed: 3, cancelled: 1, noShow: 2 },
    noShowRate: 2 / 5,
    prescriptionsFilled: 2,
    stockAlerts: 2,
    invoiced: [
      { currency: 'EUR', count: 1, amount: 5000 },
      { currency: 'USD', count: 2, amount: 23000 },
    ],
    paid: [{ currency: 'USD', count: 3, amount: 23000 }],
    denied: [
      { currency: 'EUR', count: 1, amount: 2500 },
      { currency: 'USD', count: 1, amount: 4000 },
    ],
    claims: { approved: 1, denied: 2, adjudicated: 3 },
    claimDenialRate: 2 / 3,
  },
  '2027-03-11': { ...empty('2027-03-11'), appointments: { ...none, scheduled: 1 } },
};
