import type { NotificationChannel, NotificationEvent } from '@hms/contracts';
import { DateTime } from 'luxon';
import { smsSize, type SmsEncoding } from './sms.js';
import { CATALOGUE, fill, pickTemplate, type Catalogue, type TemplateId } from './templates.js';

/**
 * What a message is about, as its row keeps it: ids, times, amounts and codes, never a name, a
 * contact detail or a clinical detail. Rendering turns it into text in the recipient's zone and
 * language at send time.
 */
export interface Facts {
  appointmentId?: string;
  /** the message is about a whole series (booked together, cancelled together) */
  series?: boolean;
  start?: string;
  previousStart?: string;
  location?: string;
  invoiceId?: string;
  number?: string;
  claimId?: string;
  /** integer minor units of `currency` */
  amount?: number;
  currency?: string;
  dueAt?: string;
  denialCode?: string;
  itemId?: string;
  sku?: string;
  name?: string;
  available?: number;
  unit?: string;
  threshold?: number;
}

export interface Rendered {
  subject: string;
  body: string;
  /** the locale the template came from (the recipient's, or a fallback) */
  locale: string;
  encoding?: SmsEncoding;
  segments?: number;
}

export function templateOf(event: NotificationEvent, facts: Facts): TemplateId {
  if (facts.series && event === 'appointment.booked') return 'appointment.booked-series';
  if (facts.series && event === 'appointment.cancelled') return 'appointment.cancelled-series';
  return event;
}

/**
 * Typography an SMS does not need and that costs it its encoding: one curly quote or a no-break
 * space (which Intl puts before "AM" and inside "120,00 €") makes the whole message UCS-2, 70
 * characters a segment instead of 160. Text that needs UCS-2 (a Greek location) stays UCS-2.
 */
export function plainForSms(text: string): string {
  return text
    .replace(/[\u2018\u2019\u201a\u201b\u2032]/g, "'")
    .replace(/[\u201c\u201d\u201e\u201f\u2033]/g, '"')
    .replace(/[\u2010-\u2015\u2212]/g, '-')
    .replace(/\u2026/g, '...')
    .replace(/[\u00a0\u2000-\u200a\u202f\u205f]/g, ' ')
    .replace(/[\u200b-\u200d\u2060\ufeff]/g, '');
}

function money(minor: number | undefined, currency: string | undefined, locale: string) {
  if (minor === undefined || !currency) return undefined;
  const format = new Intl.NumberFormat(locale, { style: 'currency', currency });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(minor / 10 ** digits);
}

function varsOf(facts: Facts, zone: string, locale: string): Record<string, string | undefined> {
  const when = (iso: string | undefined) =>
    iso
      ? DateTime.fromISO(iso, { zone }).setLocale(locale).toLocaleString(DateTime.DATETIME_MED_WITH_WEEKDAY)
      : undefined;
  const date = (d: string | undefined) =>
    d ? DateTime.fromISO(d, { zone }).setLocale(locale).toLocaleString(DateTime.DATE_MED) : undefined;
  return {
    when: when(facts.start),
    previousWhen: when(facts.previousStart),
    location: facts.location,
    number: facts.number,
    amount: money(facts.amount, facts.currency, locale),
    dueDate: date(facts.dueAt),
    denialCode: facts.denialCode,
    sku: facts.sku,
    name: facts.name,
    available: facts.available?.toString(),
    unit: facts.unit,
    threshold: facts.threshold?.toString(),
  };
}

/**
 * The message for `event` on `channel` in the recipient's `locale` (falling back, never failing:
 * the fallback locale has every template, checked at start) with times in their `zone`.
 */
export function render(
  input: {
    event: NotificationEvent;
    channel: NotificationChannel;
    facts: Facts;
    zone: string;
    locale: string;
  },
  fallback: string,
  catalogue: Catalogue = CATALOGUE,
): Rendered {
  const picked = pickTemplate(
    catalogue,
    templateOf(input.event, input.facts),
    input.channel,
    input.locale,
    fallback,
  );
  if (!picked) throw new Error(`no template for ${input.event}/${input.channel}, not even in ${fallback}`);
  const vars = varsOf(input.facts, input.zone, picked.locale);
  const subject = fill(picked.template.subject, vars);
  const text = fill(picked.template.text, vars);
  if (input.channel === 'email') return { subject, body: text, locale: picked.locale };
  const body = plainForSms(text);
  const size = smsSize(body);
  return { subject, body, locale: picked.locale, encoding: size.encoding, segments: size.segments };
}
