import type { Appointment } from '@hms/contracts';
import { describe, expect, it } from 'vitest';
import { decide, type EffectivePreferences } from '../src/domain/decide.js';
import { appointmentMessages, reminderPlan } from '../src/domain/intake.js';
import { quietUntil } from '../src/domain/quiet-hours.js';
import { plainForSms, render } from '../src/domain/render.js';
import { nextAttemptAt } from '../src/domain/retry.js';
import { smsSize } from '../src/domain/sms.js';
import {
  CATALOGUE,
  localeChain,
  missingTemplates,
  pickTemplate,
  type Catalogue,
} from '../src/domain/templates.js';

const at = (iso: string) => new Date(iso);
const NIGHT = { start: '22:00', end: '06:00' };

describe('quiet hours, on the recipient’s wall clock (hand-written UTC instants)', () => {
  it('holds a message at 23:00 CET on the night clocks spring forward until 06:00 CEST (04:00Z, not 05:00Z)', () => {
    expect(quietUntil(at('2027-03-27T22:00:00Z'), 'Europe/Berlin', NIGHT)).toEqual(
      at('2027-03-28T04:00:00Z'),
    );
  });

  it('holds one at 05:30 CEST the same morning until 06:00 CEST', () => {
    expect(quietUntil(at('2027-03-28T03:30:00Z'), 'Europe/Berlin', NIGHT)).toEqual(
      at('2027-03-28T04:00:00Z'),
    );
  });

  it('holds one at 23:00 CEST on the night clocks fall back until 06:00 CET (05:00Z)', () => {
    expect(quietUntil(at('2027-10-30T21:00:00Z'), 'Europe/Berlin', NIGHT)).toEqual(
      at('2027-10-31T05:00:00Z'),
    );
  });

  it('lets a message through before the window and from its end on', () => {
    expect(quietUntil(at('2027-03-27T20:59:00Z'), 'Europe/Berlin', NIGHT)).toBeUndefined(); // 21:59 CET
    expect(quietUntil(at('2027-03-28T04:00:00Z'), 'Europe/Berlin', NIGHT)).toBeUndefined(); // 06:00 CEST
  });

  it('uses the recipient’s zone, not the server’s: 23:00 in Auckland is 10:00Z', () => {
    expect(quietUntil(at('2027-01-10T10:00:00Z'), 'Pacific/Auckland', NIGHT)).toEqual(
      at('2027-01-10T17:00:00Z'),
    );
    // the same instant is 11:00 in Berlin: no quiet hours there
    expect(quietUntil(at('2027-01-10T10:00:00Z'), 'Europe/Berlin', NIGHT)).toBeUndefined();
  });

  it('handles a window that does not wrap midnight', () => {
    const lunch = { start: '13:00', end: '14:00' };
    expect(quietUntil(at('2027-07-01T17:30:00Z'), 'America/New_York', lunch)).toEqual(
      at('2027-07-01T18:00:00Z'),
    );
    expect(quietUntil(at('2027-07-01T18:00:00Z'), 'America/New_York', lunch)).toBeUndefined();
  });

  it('ends a window whose end the clock skips at the same time in the old offset (02:30 → 03:30 CEST)', () => {
    const early = { start: '22:00', end: '02:30' };
    expect(quietUntil(at('2027-03-27T23:00:00Z'), 'Europe/Berlin', early)).toEqual(
      at('2027-03-28T01:30:00Z'),
    );
  });

  it('ends a window whose end the clock reads twice at its first reading (02:30 CEST, 00:30Z)', () => {
    const early = { start: '22:00', end: '02:30' };
    expect(quietUntil(at('2027-10-30T22:30:00Z'), 'Europe/Berlin', early)).toEqual(
      at('2027-10-31T00:30:00Z'),
    );
  });
});

describe('SMS encoding and segments (hand-written vectors)', () => {
  it('counts GSM-7 in septets: 160 in one segment, 153 a segment beyond', () => {
    expect(smsSize('a'.repeat(160))).toEqual({ encoding: 'GSM-7', units: 160, segments: 1 });
    expect(smsSize('a'.repeat(161))).toEqual({ encoding: 'GSM-7', units: 161, segments: 2 });
    expect(smsSize('a'.repeat(306))).toEqual({ encoding: 'GSM-7', units: 306, segments: 2 });
    expect(smsSize('a'.repeat(307))).toEqual({ encoding: 'GSM-7', units: 307, segments: 3 });
  });

  it('counts an extension character (€ [ ] { } ~ ^ | \\) as two septets and never splits one', () => {
    expect(smsSize('€'.repeat(80))).toEqual({ encoding: 'GSM-7', units: 160, segments: 1 });
    expect(smsSize(`€${'a'.repeat(159)}`)).toEqual({ encoding: 'GSM-7', units: 161, segments: 2 });
    // 152 + 2 + 152 = 306 septets would fit two segments, but the € cannot straddle them
    expect(smsSize(`${'a'.repeat(152)}€${'a'.repeat(152)}`)).toEqual({
      encoding: 'GSM-7',
      units: 306,
      segments: 3,
    });
  });

  it('keeps German umlauts and ß in GSM-7', () => {
    expect(smsSize('Grüße aus Köln, Straße').encoding).toBe('GSM-7');
  });

  it('turns the whole message UCS-2 for one curly quote: 70 units in one segment, 67 a segment beyond', () => {
    const curly = `Dr. O’Neil ${'a'.repeat(59)}`; // 70 characters
    expect(smsSize(curly)).toEqual({ encoding: 'UCS-2', units: 70, segments: 1 });
    expect(smsSize(`${curly}a`)).toEqual({ encoding: 'UCS-2', units: 71, segments: 2 });
    expect(smsSize('ж'.repeat(134))).toEqual({ encoding: 'UCS-2', units: 134, segments: 2 });
    expect(smsSize('ж'.repeat(135))).toEqual({ encoding: 'UCS-2', units: 135, segments: 3 });
  });

  it('counts a character outside the BMP as two units and never splits it', () => {
    expect(smsSize('😀'.repeat(35))).toEqual({ encoding: 'UCS-2', units: 70, segments: 1 });
    // 1 + 66 = 67 fills the first segment exactly; 'a' + 33 emoji + 'a' + 33 emoji = 134 units
    expect(smsSize(`a${'😀'.repeat(33)}a${'😀'.repeat(33)}`)).toEqual({
      encoding: 'UCS-2',
      units: 134,
      segments: 2,
    });
    // 'aa' + 33 emoji = 68: the last emoji cannot share the first segment's 67th unit
    expect(smsSize(`aa${'😀'.repeat(33)}${'b'.repeat(66)}`)).toEqual({
      encoding: 'UCS-2',
      units: 134,
      segments: 3,
    });
  });

  it('leaves typography out of SMS text, so a curly quote or a no-break space costs nothing', () => {
    expect(plainForSms('O’Neil said “hi” – 10:00\u202fAM, 120,00\u00a0€…')).toBe(
      'O\'Neil said "hi" - 10:00 AM, 120,00 €...',
    );
    expect(smsSize(plainForSms('O’Neil – 120,00\u00a0€')).encoding).toBe('GSM-7');
  });
});

describe('templates and locales', () => {
  it('has every template in the fallback locale, and in German', () => {
    expect(missingTemplates(CATALOGUE, 'en')).toEqual([]);
    expect(missingTemplates(CATALOGUE, 'de')).toEqual([]);
  });

  it('tries the locale, its language, then the fallback', () => {
    expect(localeChain('de-AT', 'en')).toEqual(['de-at', 'de', 'en']);
    expect(localeChain('en-GB', 'en')).toEqual(['en-gb', 'en']);
  });

  it('falls back for a missing translation instead of failing', () => {
    const partial: Catalogue = {
      en: { 'appointment.reminder': { sms: { subject: 'R', text: 'Reminder {when}' } } },
      de: { 'appointment.booked': { sms: { subject: 'B', text: 'Gebucht' } } },
    };
    expect(pickTemplate(partial, 'appointment.reminder', 'sms', 'de-CH', 'en')?.locale).toBe('en');
    expect(pickTemplate(partial, 'appointment.booked', 'sms', 'de-CH', 'en')?.locale).toBe('de');
    expect(pickTemplate(partial, 'appointment.booked', 'email', 'de', 'en')).toBeUndefined();
  });

  it('writes times in the recipient’s zone and language, and an English SMS stays GSM-7', () => {
    const facts = { appointmentId: 'a', start: '2027-03-29T08:00:00.000Z', location: 'Room 3' };
    const en = render(
      { event: 'appointment.reminder', channel: 'sms', facts, zone: 'Europe/Berlin', locale: 'en' },
      'en',
    );
    expect(en.body).toBe('A reminder of your appointment on Mon, Mar 29, 2027, 10:00 AM at Room 3.');
    expect(en).toMatchObject({ locale: 'en', encoding: 'GSM-7', segments: 1 });
    const de = render(
      { event: 'appointment.reminder', channel: 'email', facts, zone: 'Europe/Berlin', locale: 'de-DE' },
      'en',
    );
    expect(de.locale).toBe('de');
    expect(de.body).toContain('29. März 2027');
    expect(de.body).toContain('10:00');
    const fr = render(
      { event: 'appointment.reminder', channel: 'sms', facts, zone: 'America/New_York', locale: 'fr' },
      'en',
    );
    expect(fr.locale).toBe('en');
    expect(fr.body).toBe('A reminder of your appointment on Mon, Mar 29, 2027, 4:00 AM at Room 3.');
  });

  it('formats money in the template’s language and keeps € in GSM-7', () => {
    const facts = {
      invoiceId: 'i',
      number: 'INV-2027-000042',
      amount: 12050,
      currency: 'EUR',
      dueAt: '2027-04-30',
    };
    const de = render(
      { event: 'billing.invoice-generated', channel: 'sms', facts, zone: 'Europe/Berlin', locale: 'de' },
      'en',
    );
    expect(de.body).toBe(
      'Rechnung INV-2027-000042 über 120,50 € wurde ausgestellt; sie ist am 30. Apr. 2027 fällig.',
    );
    expect(de.encoding).toBe('GSM-7');
  });
});

describe('the decision at send time', () => {
  const prefs: EffectivePreferences = {
    timezone: 'Europe/Berlin',
    locale: 'en',
    quietHours: NIGHT,
    optOut: [],
  };
  const contact = { active: true, email: 'p@example.org', phone: '+49 (30) 1234-567' };
  const reminder = {
    event: 'appointment.reminder' as const,
    channel: 'sms' as const,
    critical: false,
    facts: { appointmentId: 'a', start: '2027-03-29T08:00:00.000Z' },
  };
  const scheduled = { status: 'scheduled' as const, start: '2027-03-29T08:00:00Z' };
  const day = at('2027-03-28T10:00:00Z');

  it('sends to the number as a provider dials it', () => {
    expect(decide(reminder, { now: day, prefs, contact, appointment: scheduled })).toEqual({
      kind: 'send',
      destination: '+49301234567',
    });
  });

  it('suppresses what the recipient opted out of, even a critical message', () => {
    const out = { ...prefs, optOut: [{ event: '*' as const, channel: 'sms' as const }] };
    const critical = { ...reminder, event: 'appointment.cancelled' as const, critical: true };
    expect(decide(critical, { now: day, prefs: out, contact, appointment: scheduled })).toEqual({
      kind: 'suppress',
      reason: 'opted-out',
    });
  });

  it('holds a non-critical message through quiet hours and lets a critical one through', () => {
    const night = at('2027-03-27T22:00:00Z');
    expect(decide(reminder, { now: night, prefs, contact, appointment: scheduled })).toEqual({
      kind: 'hold',
      until: at('2027-03-28T04:00:00Z'),
      reason: 'quiet-hours',
    });
    const critical = { ...reminder, event: 'appointment.cancelled' as const, critical: true };
    expect(decide(critical, { now: night, prefs, contact, appointment: scheduled }).kind).toBe('send');
  });

  it('suppresses with the reason when nobody can be reached', () => {
    expect(decide(reminder, { now: day, prefs, contact: undefined })).toEqual({
      kind: 'suppress',
      reason: 'no-contact',
    });
    expect(decide(reminder, { now: day, prefs, contact: { active: true, email: 'p@example.org' } })).toEqual({
      kind: 'suppress',
      reason: 'no-contact',
    });
    expect(decide(reminder, { now: day, prefs, contact: { ...contact, active: false } })).toEqual({
      kind: 'suppress',
      reason: 'recipient-inactive',
    });
  });

  it('drops a reminder that is no longer true', () => {
    const ctx = { now: day, prefs, contact };
    expect(decide(reminder, { ...ctx, appointment: { ...scheduled, status: 'cancelled' } })).toMatchObject({
      reason: 'appointment-cancelled',
    });
    expect(decide(reminder, { ...ctx, appointment: { ...scheduled, status: 'checked-in' } })).toMatchObject({
      reason: 'appointment-closed',
    });
    expect(
      decide(reminder, { ...ctx, appointment: { ...scheduled, start: '2027-03-30T08:00:00Z' } }),
    ).toMatchObject({
      reason: 'appointment-moved',
    });
    expect(
      decide(reminder, { ...ctx, now: at('2027-03-29T08:00:00Z'), appointment: scheduled }),
    ).toMatchObject({
      reason: 'too-late',
    });
  });
});

describe('intake', () => {
  const appointment = (over: Partial<Appointment> = {}): Appointment => ({
    id: '01900000-0000-7000-8000-000000000001',
    patientId: '01900000-0000-7000-8000-0000000000a1',
    staffId: '01900000-0000-7000-8000-0000000000b1',
    type: 'consult-30',
    start: '2027-03-29T08:00:00.000Z',
    end: '2027-03-29T08:30:00.000Z',
    bufferBeforeMin: 0,
    bufferAfterMin: 0,
    status: 'scheduled',
    history: [],
    version: 1,
    createdAt: '2027-03-01T08:00:00.000Z',
    updatedAt: '2027-03-01T08:00:00.000Z',
    ...over,
  });
  const now = at('2027-03-01T08:00:00Z');

  it('books a series once per recipient and channel, keyed by the series', () => {
    const series = '01900000-0000-7000-8000-0000000000c1';
    const first = appointmentMessages(
      'appointment.created.v1',
      { appointment: appointment({ seriesId: series }) },
      now,
    );
    const second = appointmentMessages(
      'appointment.created.v1',
      { appointment: appointment({ id: '01900000-0000-7000-8000-000000000002', seriesId: series }) },
      now,
    );
    expect(first.map((m) => `${m.eventKey} ${m.recipient.type} ${m.channel}`)).toEqual([
      `series:${series}:booked patient email`,
      `series:${series}:booked patient sms`,
    ]);
    expect(second.map((m) => m.eventKey)).toEqual(first.map((m) => m.eventKey));
  });

  it('tells patient and staff of a cancellation, critically, and nobody of one that has started', () => {
    const cancelled = appointmentMessages(
      'appointment.cancelled.v1',
      { appointment: appointment({ status: 'cancelled' }), scope: 'this' },
      now,
    );
    expect(cancelled.map((m) => [m.recipient.type, m.channel, m.critical])).toEqual([
      ['patient', 'email', true],
      ['patient', 'sms', true],
      ['staff', 'email', true],
      ['staff', 'sms', true],
    ]);
    expect(
      appointmentMessages(
        'appointment.cancelled.v1',
        { appointment: appointment(), scope: 'this' },
        at('2027-03-29T08:00:00Z'),
      ),
    ).toEqual([]);
  });

  it('plans a reminder the lead time before the start, and none once that time has passed', () => {
    const entry = {
      patientId: 'p',
      staffId: 's',
      status: 'scheduled' as const,
      start: '2027-03-29T08:00:00.000Z',
    };
    const plan = reminderPlan('a', entry, now, 1440);
    expect(plan.wanted.map((m) => [m.eventKey, m.channel, m.holdUntil])).toEqual([
      ['appointment:a:reminder:2027-03-29T08:00:00.000Z', 'email', at('2027-03-28T08:00:00Z')],
      ['appointment:a:reminder:2027-03-29T08:00:00.000Z', 'sms', at('2027-03-28T08:00:00Z')],
    ]);
    expect(reminderPlan('a', entry, at('2027-03-28T08:00:00Z'), 1440).wanted).toEqual([]);
    expect(reminderPlan('a', { ...entry, status: 'cancelled' }, now, 1440)).toEqual({
      wanted: [],
      othersReason: 'appointment-cancelled',
    });
  });
});

describe('retries', () => {
  it('waits each delay in turn, repeats the last, and stops at the attempt limit', () => {
    const policy = { maxAttempts: 4, delaysSec: [60, 300] };
    const now = at('2027-03-01T08:00:00Z');
    expect(nextAttemptAt(now, 1, policy)).toEqual(at('2027-03-01T08:01:00Z'));
    expect(nextAttemptAt(now, 2, policy)).toEqual(at('2027-03-01T08:05:00Z'));
    expect(nextAttemptAt(now, 3, policy)).toEqual(at('2027-03-01T08:05:00Z'));
    expect(nextAttemptAt(now, 4, policy)).toBeUndefined();
  });
});
