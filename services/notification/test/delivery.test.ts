import type { NotificationConfig, NotificationSummary, Patient, Staff } from '@hms/contracts';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  SMS_TOKEN,
  appointment,
  deniedClaim,
  eventually,
  invoice,
  messageDetail,
  messagesOf,
  patient,
  publish,
  settableClock,
  staff,
  stockItem,
  useWorld,
  type World,
} from './helpers.js';

/**
 * Issue #15's Notification "Must show", against a real SMTP server (smtp-server, AUTH with
 * credentials the service reads from files) and a local HTTP SMS provider, with the clock fixed
 * by the test and events on the test bus (real RabbitMQ in CI). The facility is in Berlin.
 */
const clock = settableClock('2027-03-01T08:00:00Z');
const world = useWorld({
  clock,
  env: {
    FACILITY_TIMEZONE: 'Europe/Berlin',
    NOTIFY_STOCK_ALERT_EMAILS: 'pharmacy@clinic.test, ward@clinic.test',
  },
});
let w: World;
let desk: string;

beforeAll(async () => {
  w = world();
  desk = await w.svc.keys.mint({ roles: ['receptionist'] });
});

const digits = (phone: string) => phone.replace(/[^0-9+]/g, '');

async function registered(over: Partial<Patient> = {}): Promise<Patient> {
  const p = patient(over);
  await publish(w.svc.bus, 'patient.registered.v1', p.id, { patient: p });
  await eventually(async () => {
    const res = await w.svc.request(
      'GET',
      `/api/v1/notifications/config?recipientType=patient&recipientId=${p.id}`,
      {
        token: desk,
      },
    );
    return res.status === 200;
  }, 'the patient copy');
  return p;
}

async function onboarded(over: Partial<Staff> = {}): Promise<Staff> {
  const s = staff(over);
  await publish(w.svc.bus, 'staff.onboarded.v1', s.id, { staff: s });
  return s;
}

async function configure(p: Patient, body: Record<string, unknown>): Promise<NotificationConfig> {
  const res = await w.svc.request<NotificationConfig>('PUT', '/api/v1/notifications/config', {
    token: desk,
    headers: { 'if-match': '"v0"' },
    body: { recipient: { type: 'patient', id: p.id }, optOut: [], ...body },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

/** The messages to a recipient once `ready` holds for them (waits for the consumer and the dispatcher). */
async function settled(
  recipientId: string,
  ready: (ms: NotificationSummary[]) => boolean,
  what: string,
): Promise<NotificationSummary[]> {
  let found: NotificationSummary[] = [];
  await eventually(async () => {
    found = await messagesOf(w.svc, desk, { recipientId });
    return ready(found);
  }, what);
  return found;
}
const all = (status: string, count: number) => (ms: NotificationSummary[]) =>
  ms.length === count && ms.every((m) => m.status === status);

describe('delivery', () => {
  it('sends a booking by email over SMTP and by SMS through the provider, once each, and holds its reminder', async () => {
    const p = await registered();
    const s = await onboarded();
    const a = appointment(p, s, '2027-03-10T09:00:00.000Z');
    await publish(w.svc.bus, 'appointment.created.v1', a.id, { appointment: a });

    const ms = await settled(
      p.id,
      (m) => m.filter((x) => x.status === 'sent').length === 2,
      'the booking sent',
    );
    const booked = ms.filter((m) => m.event === 'appointment.booked');
    expect(booked.map((m) => [m.channel, m.status, m.attempts]).sort()).toEqual([
      ['email', 'sent', 1],
      ['sms', 'sent', 1],
    ]);
    const email = booked.find((m) => m.channel === 'email') as NotificationSummary;
    const sms = booked.find((m) => m.channel === 'sms') as NotificationSummary;

    // the SMTP server got one mail, to the patient, with the message's id as its Message-ID
    const mails = w.smtp.to(p.email as string);
    expect(mails).toHaveLength(1);
    expect(mails[0]?.from).toBe('no-reply@clinic.test');
    expect(mails[0]?.messageId).toBe(`<${email.id}@127.0.0.1>`);
    expect(mails[0]?.subject).toBe('Your appointment is booked');
    // 10:00 in Berlin (CET), the facility's zone, which the patient has not changed
    expect(mails[0]?.text).toBe(
      'Your appointment on Wed, Mar 10, 2027, 10:00 AM at Room 3 is booked. To change or cancel it, please contact us.',
    );
    // the provider got one SMS, with the token read from its file and the message id as idempotency key
    const texts = w.sms.to(digits(p.phone as string));
    expect(texts).toHaveLength(1);
    expect(texts[0]).toMatchObject({
      authorization: `Bearer ${SMS_TOKEN}`,
      idempotencyKey: sms.id,
      reference: sms.id,
      encoding: 'GSM-7',
      text: 'Your appointment on Wed, Mar 10, 2027, 10:00 AM at Room 3 is booked.',
    });
    expect(sms).toMatchObject({
      encoding: 'GSM-7',
      segments: 1,
      provider: 'sms-api',
      providerMessageId: 'sms-1',
    });

    // lists show no address and no body; the message itself does
    expect(email).not.toHaveProperty('body');
    expect(email).not.toHaveProperty('destination');
    const detail = await messageDetail(w.svc, desk, email.id);
    expect(detail).toMatchObject({
      destination: p.email,
      subject: 'Your appointment is booked',
      locale: 'en',
    });
    expect(detail.body).toBe(mails[0]?.text);

    // the reminder waits, 24 hours before the start (NOTIFY_REMINDER_BEFORE_MIN's default)
    const reminders = ms.filter((m) => m.event === 'appointment.reminder');
    expect(reminders.map((m) => [m.channel, m.status, m.reason, m.holdUntil]).sort()).toEqual([
      ['email', 'held', 'reminder', '2027-03-09T09:00:00.000Z'],
      ['sms', 'held', 'reminder', '2027-03-09T09:00:00.000Z'],
    ]);
  });

  it('sends a stock alert by email to each configured address', async () => {
    const item = stockItem();
    await publish(w.svc.bus, 'inventory.stock-low.v1', item.id, {
      item,
      available: 12,
      reorderThreshold: 50,
    });
    await eventually(
      async () =>
        w.smtp.to('ward@clinic.test').length === 1 && w.smtp.to('pharmacy@clinic.test').length === 1,
      'the alerts',
    );
    expect(w.smtp.to('ward@clinic.test')[0]).toMatchObject({
      subject: `Low stock: ${item.sku}`,
      text: `Amoxicillin 500 mg capsules (${item.sku}) is down to 12 capsule, below its reorder threshold of 50.`,
    });
    const alerts = await messagesOf(w.svc, desk, { event: 'inventory.stock-low' });
    expect(
      alerts
        .filter((m) => m.status === 'sent')
        .map((m) => [m.recipient.id, m.channel, m.critical])
        .sort(),
    ).toEqual([
      ['pharmacy@clinic.test', 'email', true],
      ['ward@clinic.test', 'email', true],
    ]);
  });
});

describe('preferences', () => {
  it('suppresses what the patient opted out of and still sends the rest', async () => {
    const p = await registered();
    await configure(p, { optOut: [{ event: 'billing.invoice-generated', channel: 'sms' }] });
    const inv = invoice(p);
    await publish(w.svc.bus, 'billing.invoice-generated.v1', inv.id, { invoice: inv });
    const ms = await settled(
      p.id,
      (m) => m.length === 2 && m.every((x) => x.status !== 'queued' && x.status !== 'sending'),
      'both settled',
    );
    expect(ms.map((m) => [m.channel, m.status, m.reason ?? null]).sort()).toEqual([
      ['email', 'sent', null],
      ['sms', 'suppressed', 'opted-out'],
    ]);
    expect(w.sms.to(digits(p.phone as string))).toHaveLength(0);
    expect(w.smtp.to(p.email as string)[0]?.text).toBe(
      'Invoice ' + inv.number + ' of €120.50 has been issued; it is due on Mar 31, 2027.',
    );
  });

  it('suppresses a channel the patient has no contact for, and says so', async () => {
    const p = await registered({ phone: undefined });
    const c = deniedClaim(p, invoice(p).id);
    await publish(w.svc.bus, 'billing.claim-denied.v1', c.id, { claim: c });
    const ms = await settled(
      p.id,
      (m) => m.length === 2 && m.every((x) => ['sent', 'suppressed'].includes(x.status)),
      'settled',
    );
    expect(ms.map((m) => [m.channel, m.status, m.reason ?? null]).sort()).toEqual([
      ['email', 'sent', null],
      ['sms', 'suppressed', 'no-contact'],
    ]);
  });

  it('writes in the patient’s language, and falls back for one it has no templates in', async () => {
    const de = await registered();
    await configure(de, { locale: 'de-DE' });
    const fr = await registered();
    await configure(fr, { locale: 'fr-CA', timezone: 'America/Montreal' });
    for (const p of [de, fr]) {
      const inv = invoice(p);
      await publish(w.svc.bus, 'billing.invoice-generated.v1', inv.id, { invoice: inv });
    }
    await settled(de.id, all('sent', 2), 'German sent');
    await settled(fr.id, all('sent', 2), 'fallback sent');
    const [deSms] = w.sms.to(digits(de.phone as string));
    expect(deSms?.text).toMatch(
      /^Rechnung INV-2027-\d+ über 120,50 € wurde ausgestellt; sie ist am 31\. März 2027 fällig\.$/,
    );
    expect(deSms?.encoding).toBe('GSM-7');
    const [frSms] = w.sms.to(digits(fr.phone as string));
    expect(frSms?.text).toMatch(
      /^Invoice INV-2027-\d+ of €120\.50 has been issued; it is due on Mar 31, 2027\.$/,
    );
    const frMessages = await messagesOf(w.svc, desk, { recipientId: fr.id });
    expect(frMessages.map((m) => m.locale)).toEqual(['en', 'en']);
  });
});

describe('no duplicates', () => {
  it('sends once whatever the redelivery: the same event four times, and once more under a new id', async () => {
    const p = await registered();
    const inv = invoice(p);
    const first = await publish(w.svc.bus, 'billing.invoice-generated.v1', inv.id, { invoice: inv });
    for (let i = 0; i < 3; i += 1) await w.svc.bus.publish([first]);
    await publish(w.svc.bus, 'billing.invoice-generated.v1', inv.id, { invoice: inv });
    await settled(p.id, all('sent', 2), 'sent');
    // a few more dispatcher rounds: nothing else goes out
    await new Promise((r) => setTimeout(r, 300));
    expect(w.smtp.to(p.email as string)).toHaveLength(1);
    expect(w.sms.to(digits(p.phone as string))).toHaveLength(1);
    expect(await messagesOf(w.svc, desk, { recipientId: p.id })).toHaveLength(2);
  });

  it('books a recurring series once, naming its first occurrence, whatever order the occurrences arrive in', async () => {
    const p = await registered();
    const s = await onboarded();
    const seriesId = '01900000-0000-7000-8000-00000000ab01';
    const starts = ['2027-03-22T09:00:00.000Z', '2027-03-15T09:00:00.000Z', '2027-03-29T08:00:00.000Z'];
    for (const start of starts) {
      const a = appointment(p, s, start, { seriesId });
      await publish(w.svc.bus, 'appointment.created.v1', a.id, { appointment: a });
    }
    // the booking waits SERIES_SETTLE_MS for the series' other occurrences
    const queued = await settled(p.id, (m) => m.length === 8, 'the series recorded');
    expect(queued.filter((m) => m.event === 'appointment.booked').map((m) => m.status)).toEqual([
      'queued',
      'queued',
    ]);
    clock.set('2027-03-01T08:00:10Z');
    const ms = await settled(
      p.id,
      (m) => m.filter((x) => x.event === 'appointment.booked' && x.status === 'sent').length === 2,
      'booked',
    );
    expect(ms.filter((m) => m.event === 'appointment.booked')).toHaveLength(2);
    // one reminder per occurrence (each has its own time), per channel
    expect(ms.filter((m) => m.event === 'appointment.reminder')).toHaveLength(6);
    expect(w.smtp.to(p.email as string)).toHaveLength(1);
    expect(w.smtp.to(p.email as string)[0]?.text).toContain(
      'Your series of appointments starting Mon, Mar 15, 2027, 10:00 AM',
    );
  });
});

describe('retries', () => {
  it('retries an email the SMTP server refused for now (451) after the backoff, and sends it once', async () => {
    clock.set('2027-03-01T09:00:00Z');
    const p = await registered({ phone: undefined });
    w.smtp.refuse.push(451);
    const inv = invoice(p);
    await publish(w.svc.bus, 'billing.invoice-generated.v1', inv.id, { invoice: inv });
    const [failed] = await settled(
      p.id,
      (m) => m.some((x) => x.channel === 'email' && x.status === 'failed'),
      'the refusal',
    );
    const email = (await messagesOf(w.svc, desk, { recipientId: p.id, channel: 'email' }))[0];
    expect(email).toMatchObject({ status: 'failed', attempts: 1, nextAttemptAt: '2027-03-01T09:01:00.000Z' });
    expect(email?.lastError).toMatch(/^SMTP 451 /);
    expect(email?.reason).toBeUndefined();
    expect(failed).toBeDefined();
    expect(w.smtp.to(p.email as string)).toHaveLength(0);

    clock.set('2027-03-01T09:01:00Z');
    await settled(p.id, (m) => m.some((x) => x.channel === 'email' && x.status === 'sent'), 'the retry');
    const sent = (await messagesOf(w.svc, desk, { recipientId: p.id, channel: 'email' }))[0];
    expect(sent).toMatchObject({ status: 'sent', attempts: 2, sentAt: '2027-03-01T09:01:00.000Z' });
    expect(w.smtp.to(p.email as string)).toHaveLength(1);
  });

  it('retries an SMS after a provider 503, fails one the provider rejects (400) for good', async () => {
    clock.set('2027-03-01T10:00:00Z');
    const p = await registered({ email: undefined });
    w.sms.fail.push(503);
    const first = invoice(p);
    await publish(w.svc.bus, 'billing.invoice-generated.v1', first.id, { invoice: first });
    await settled(p.id, (m) => m.some((x) => x.channel === 'sms' && x.status === 'failed'), 'the 503');
    expect((await messagesOf(w.svc, desk, { recipientId: p.id, channel: 'sms' }))[0]).toMatchObject({
      status: 'failed',
      attempts: 1,
      lastError: 'SMS API HTTP 503',
      nextAttemptAt: '2027-03-01T10:01:00.000Z',
    });
    clock.set('2027-03-01T10:01:00Z');
    await settled(p.id, (m) => m.some((x) => x.channel === 'sms' && x.status === 'sent'), 'the retry');
    expect(w.sms.to(digits(p.phone as string))).toHaveLength(1);

    w.sms.fail.push(400);
    const second = invoice(p);
    await publish(w.svc.bus, 'billing.invoice-generated.v1', second.id, { invoice: second });
    await settled(
      p.id,
      (m) => m.some((x) => x.channel === 'sms' && x.reason === 'rejected'),
      'the rejection',
    );
    clock.set('2027-03-01T12:00:00Z');
    await new Promise((r) => setTimeout(r, 300));
    const rejected = (await messagesOf(w.svc, desk, { recipientId: p.id, status: 'failed' }))[0];
    expect(rejected).toMatchObject({
      channel: 'sms',
      reason: 'rejected',
      attempts: 1,
      lastError: 'SMS API HTTP 400',
    });
    expect(rejected).not.toHaveProperty('nextAttemptAt');
    expect(w.sms.to(digits(p.phone as string))).toHaveLength(1);
  });
});

describe('reminders', () => {
  it('follows a reschedule (the old reminder suppressed, a new one held) and goes out at its time', async () => {
    const p = await registered();
    const s = await onboarded();
    const a = appointment(p, s, '2027-03-12T09:00:00.000Z');
    await publish(w.svc.bus, 'appointment.created.v1', a.id, { appointment: a });
    await settled(
      p.id,
      (m) => m.filter((x) => x.event === 'appointment.reminder').length === 2,
      'the reminder',
    );
    const moved = { ...a, start: '2027-03-12T13:00:00.000Z', end: '2027-03-12T13:30:00.000Z', version: 2 };
    await publish(w.svc.bus, 'appointment.updated.v1', a.id, {
      appointment: moved,
      change: 'rescheduled',
      previousStart: a.start,
      previousEnd: a.end,
    });
    const ms = await settled(
      p.id,
      (m) =>
        m.filter((x) => x.event === 'appointment.reminder').length === 4 &&
        m.filter((x) => x.event === 'appointment.rescheduled' && x.status === 'sent').length === 2,
      'the move',
    );
    expect(
      ms
        .filter((m) => m.event === 'appointment.reminder')
        .map((m) => [m.channel, m.status, m.reason, m.holdUntil ?? null])
        .sort(),
    ).toEqual([
      ['email', 'held', 'reminder', '2027-03-11T13:00:00.000Z'],
      ['email', 'suppressed', 'appointment-moved', null],
      ['sms', 'held', 'reminder', '2027-03-11T13:00:00.000Z'],
      ['sms', 'suppressed', 'appointment-moved', null],
    ]);
    // the staff member hears of the move too
    const toStaff = await settled(s.id, all('sent', 2), 'the staff member told');
    expect(toStaff.map((m) => [m.event, m.status])).toEqual([
      ['appointment.rescheduled', 'sent'],
      ['appointment.rescheduled', 'sent'],
    ]);
    expect(w.sms.to(digits(p.phone as string)).map((x) => x.text)).toEqual([
      'Your appointment on Fri, Mar 12, 2027, 10:00 AM at Room 3 is booked.',
      'The appointment of Fri, Mar 12, 2027, 10:00 AM has moved to Fri, Mar 12, 2027, 2:00 PM at Room 3.',
    ]);

    clock.set('2027-03-11T12:59:00Z');
    await new Promise((r) => setTimeout(r, 200));
    expect(w.sms.to(digits(p.phone as string))).toHaveLength(2);
    clock.set('2027-03-11T13:00:00Z');
    await settled(
      p.id,
      (m) => m.filter((x) => x.event === 'appointment.reminder' && x.status === 'sent').length === 2,
      'the reminder sent',
    );
    expect(w.sms.to(digits(p.phone as string))[2]?.text).toBe(
      'A reminder of your appointment on Fri, Mar 12, 2027, 2:00 PM at Room 3.',
    );
  });

  it('suppresses the pending reminder of a cancelled appointment', async () => {
    const p = await registered();
    const s = await onboarded();
    const a = appointment(p, s, '2027-03-20T09:00:00.000Z');
    await publish(w.svc.bus, 'appointment.created.v1', a.id, { appointment: a });
    await settled(
      p.id,
      (m) => m.filter((x) => x.event === 'appointment.reminder').length === 2,
      'the reminder',
    );
    const cancelled = {
      ...a,
      status: 'cancelled' as const,
      version: 2,
      cancellationReason: 'patient request',
    };
    await publish(w.svc.bus, 'appointment.cancelled.v1', a.id, { appointment: cancelled, scope: 'this' });
    const ms = await settled(
      p.id,
      (m) => m.filter((x) => x.event === 'appointment.cancelled' && x.status === 'sent').length === 2,
      'the cancellation',
    );
    expect(ms.filter((m) => m.event === 'appointment.reminder').map((m) => [m.status, m.reason])).toEqual([
      ['suppressed', 'appointment-cancelled'],
      ['suppressed', 'appointment-cancelled'],
    ]);
  });
});

describe('quiet hours', () => {
  let p: Patient;
  let s: Staff;

  it('holds a message at 23:00 on the night clocks spring forward until 06:00 local (04:00Z), and only then sends it', async () => {
    p = await registered();
    s = await onboarded();
    const config = await configure(p, {
      timezone: 'Europe/Berlin',
      quietHours: { start: '22:00', end: '06:00' },
    });
    expect(config).toMatchObject({ version: 1, timezone: 'Europe/Berlin', locale: 'en' });
    clock.set('2027-03-27T22:00:00Z'); // 23:00 CET
    const inv = invoice(p);
    await publish(w.svc.bus, 'billing.invoice-generated.v1', inv.id, { invoice: inv });
    const held = await settled(p.id, all('held', 2), 'held');
    expect(held.map((m) => [m.reason, m.holdUntil])).toEqual([
      ['quiet-hours', '2027-03-28T04:00:00.000Z'],
      ['quiet-hours', '2027-03-28T04:00:00.000Z'],
    ]);

    clock.set('2027-03-28T03:59:00Z'); // 05:59 CEST: still quiet
    await new Promise((r) => setTimeout(r, 200));
    expect(w.smtp.to(p.email as string)).toHaveLength(0);
    expect(w.sms.to(digits(p.phone as string))).toHaveLength(0);

    clock.set('2027-03-28T04:00:00Z'); // 06:00 CEST
    const sent = await settled(p.id, all('sent', 2), 'delivered');
    expect(sent.map((m) => m.sentAt)).toEqual(['2027-03-28T04:00:00.000Z', '2027-03-28T04:00:00.000Z']);
    expect(w.smtp.to(p.email as string)).toHaveLength(1);
  });

  it('sends a critical message (a cancellation) during quiet hours at once, opt-outs still apply', async () => {
    await publish(w.svc.bus, 'patient.updated.v1', p.id, {
      patient: { ...p, version: 2 },
      changedFields: ['status'],
    });
    const res = await w.svc.request<NotificationConfig>('PUT', '/api/v1/notifications/config', {
      token: desk,
      headers: { 'if-match': '"v1"' },
      body: {
        recipient: { type: 'patient', id: p.id },
        timezone: 'Europe/Berlin',
        quietHours: { start: '22:00', end: '06:00' },
        optOut: [{ event: 'appointment.cancelled', channel: 'email' }],
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    clock.set('2027-03-28T21:30:00Z'); // 23:30 CEST
    const a = appointment(p, s, '2027-03-29T08:00:00.000Z', { status: 'cancelled', version: 2 });
    await publish(w.svc.bus, 'appointment.cancelled.v1', a.id, { appointment: a, scope: 'this' });
    const ms = await settled(
      p.id,
      (m) =>
        m.filter((x) => x.event === 'appointment.cancelled' && ['sent', 'suppressed'].includes(x.status))
          .length === 2,
      'the cancellation',
    );
    expect(
      ms
        .filter((m) => m.event === 'appointment.cancelled')
        .map((m) => [m.channel, m.status, m.reason ?? null, m.sentAt ?? null])
        .sort(),
    ).toEqual([
      ['email', 'suppressed', 'opted-out', null],
      ['sms', 'sent', null, '2027-03-28T21:30:00.000Z'],
    ]);
    expect(w.sms.to(digits(p.phone as string)).at(-1)?.text).toBe(
      'The appointment on Mon, Mar 29, 2027, 10:00 AM at Room 3 is cancelled.',
    );
  });
});

describe('SMS encoding', () => {
  it('records UCS-2 and its segments when the text needs it (a Greek location), and tells the provider', async () => {
    clock.set('2027-03-29T09:00:00Z');
    const p = await registered();
    const s = await onboarded();
    const a = appointment(p, s, '2027-04-05T08:00:00.000Z', { location: 'Κλινική Αθηνών' });
    await publish(w.svc.bus, 'appointment.created.v1', a.id, { appointment: a });
    const ms = await settled(
      p.id,
      (m) => m.filter((x) => x.event === 'appointment.booked' && x.status === 'sent').length === 2,
      'sent',
    );
    const text = 'Your appointment on Mon, Apr 5, 2027, 10:00 AM at Κλινική Αθηνών is booked.';
    // 75 UTF-16 units, no surrogate pairs: more than 70, so 67 a segment: 2
    expect(text.length).toBe(75);
    expect(w.sms.to(digits(p.phone as string))).toEqual([
      expect.objectContaining({ text, encoding: 'UCS-2' }),
    ]);
    expect(ms.find((m) => m.event === 'appointment.booked' && m.channel === 'sms')).toMatchObject({
      encoding: 'UCS-2',
      segments: 2,
    });
  });
});

describe('logs', () => {
  it('never carry a message body, an address or a number', () => {
    const lines = w.logs().map((l) => JSON.stringify(l));
    expect(lines.length).toBeGreaterThan(0);
    const secrets = [
      ...w.smtp.mails.flatMap((m) => [m.text, ...m.to]),
      ...w.sms.messages.flatMap((m) => [m.text, m.to]),
      SMS_TOKEN,
      's3cret-mail',
    ];
    for (const line of lines) for (const secret of secrets) expect(line).not.toContain(secret);
  });
});
