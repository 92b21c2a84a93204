import type { NotificationChannel } from '@hms/contracts';

/**
 * Message templates per template id, channel and locale. A template is text with `{name}`
 * placeholders and `[ … ]` parts that appear only when every placeholder in them has a value
 * (`[ at {location}]`). Messages name no patient and carry no clinical detail (no reason, no
 * diagnosis): email and SMS are not private channels.
 */
export const TEMPLATE_IDS = [
  'appointment.booked',
  'appointment.booked-series',
  'appointment.rescheduled',
  'appointment.cancelled',
  'appointment.cancelled-series',
  'appointment.reminder',
  'billing.invoice-generated',
  'billing.claim-denied',
  'inventory.stock-low',
] as const;
export type TemplateId = (typeof TEMPLATE_IDS)[number];

export interface Template {
  subject: string;
  text: string;
}

export type Catalogue = Record<
  string,
  Partial<Record<TemplateId, Partial<Record<NotificationChannel, Template>>>>
>;

/** The channels each template exists for: stock alerts go by email only. */
export const CHANNELS_OF: Record<TemplateId, readonly NotificationChannel[]> = {
  'appointment.booked': ['email', 'sms'],
  'appointment.booked-series': ['email', 'sms'],
  'appointment.rescheduled': ['email', 'sms'],
  'appointment.cancelled': ['email', 'sms'],
  'appointment.cancelled-series': ['email', 'sms'],
  'appointment.reminder': ['email', 'sms'],
  'billing.invoice-generated': ['email', 'sms'],
  'billing.claim-denied': ['email', 'sms'],
  'inventory.stock-low': ['email'],
};

const both = (subject: string, text: string, sms = text) => ({
  email: { subject, text },
  sms: { subject, text: sms },
});

export const CATALOGUE: Catalogue = {
  en: {
    'appointment.booked': both(
      'Your appointment is booked',
      'Your appointment on {when}[ at {location}] is booked. To change or cancel it, please contact us.',
      'Your appointment on {when}[ at {location}] is booked.',
    ),
    'appointment.booked-series': both(
      'Your appointments are booked',
      'Your series of appointments starting {when}[ at {location}] is booked. To change or cancel them, please contact us.',
      'Your series of appointments starting {when}[ at {location}] is booked.',
    ),
    'appointment.rescheduled': both(
      'An appointment has moved',
      'The appointment[ of {previousWhen}] has moved to {when}[ at {location}].',
    ),
    'appointment.cancelled': both(
      'An appointment is cancelled',
      'The appointment on {when}[ at {location}] is cancelled. Please contact us to book another.',
      'The appointment on {when}[ at {location}] is cancelled.',
    ),
    'appointment.cancelled-series': both(
      'Appointments are cancelled',
      'The appointments from {when} on[ at {location}] are cancelled. Please contact us to book again.',
      'The appointments from {when} on[ at {location}] are cancelled.',
    ),
    'appointment.reminder': both(
      'Reminder: your appointment',
      'A reminder of your appointment on {when}[ at {location}].',
    ),
    'billing.invoice-generated': both(
      'Invoice {number}',
      'Invoice {number} of {amount} has been issued[; it is due on {dueDate}].',
    ),
    'billing.claim-denied': both(
      'Your insurer declined a claim',
      'Your insurer declined a claim of {amount}[ (code {denialCode})]. Please contact our billing office.',
    ),
    'inventory.stock-low': {
      email: {
        subject: 'Low stock: {sku}',
        text: '{name} ({sku}) is down to {available} {unit}, below its reorder threshold of {threshold}.',
      },
    },
  },
  de: {
    'appointment.booked': both(
      'Ihr Termin ist gebucht',
      'Ihr Termin am {when}[ in {location}] ist gebucht. Für Änderungen oder eine Absage melden Sie sich bitte bei uns.',
      'Ihr Termin am {when}[ in {location}] ist gebucht.',
    ),
    'appointment.booked-series': both(
      'Ihre Termine sind gebucht',
      'Ihre Terminserie ab {when}[ in {location}] ist gebucht. Für Änderungen oder eine Absage melden Sie sich bitte bei uns.',
      'Ihre Terminserie ab {when}[ in {location}] ist gebucht.',
    ),
    'appointment.rescheduled': both(
      'Ein Termin wurde verlegt',
      'Der Termin[ vom {previousWhen}] wurde auf {when}[ in {location}] verlegt.',
    ),
    'appointment.cancelled': both(
      'Ein Termin wurde abgesagt',
      'Der Termin am {when}[ in {location}] wurde abgesagt. Bitte melden Sie sich für einen neuen Termin.',
      'Der Termin am {when}[ in {location}] wurde abgesagt.',
    ),
    'appointment.cancelled-series': both(
      'Termine wurden abgesagt',
      'Die Termine ab {when}[ in {location}] wurden abgesagt. Bitte melden Sie sich für neue Termine.',
      'Die Termine ab {when}[ in {location}] wurden abgesagt.',
    ),
    'appointment.reminder': both(
      'Erinnerung an Ihren Termin',
      'Wir erinnern Sie an Ihren Termin am {when}[ in {location}].',
    ),
    'billing.invoice-generated': both(
      'Rechnung {number}',
      'Rechnung {number} über {amount} wurde ausgestellt[; sie ist am {dueDate} fällig].',
    ),
    'billing.claim-denied': both(
      'Ihre Versicherung hat eine Leistung abgelehnt',
      'Ihre Versicherung hat eine Forderung über {amount}[ (Code {denialCode})] abgelehnt. Bitte wenden Sie sich an unsere Abrechnung.',
    ),
    'inventory.stock-low': {
      email: {
        subject: 'Niedriger Bestand: {sku}',
        text: '{name} ({sku}) hat nur noch {available} {unit}, unter der Nachbestellgrenze von {threshold}.',
      },
    },
  },
};

/** The locales tried for `locale`, in order: itself, its language, the fallback, its language. */
export function localeChain(locale: string, fallback: string): string[] {
  const language = (l: string) => l.split('-')[0] ?? l;
  return [...new Set([locale, language(locale), fallback, language(fallback)].map((l) => l.toLowerCase()))];
}

/**
 * The template for `id` and `channel` in the first locale of the chain that has one, and that
 * locale; undefined only when not even the fallback locale has it (which `missingTemplates`
 * rules out at start).
 */
export function pickTemplate(
  catalogue: Catalogue,
  id: TemplateId,
  channel: NotificationChannel,
  locale: string,
  fallback: string,
): { template: Template; locale: string } | undefined {
  const lowered = Object.fromEntries(Object.entries(catalogue).map(([k, v]) => [k.toLowerCase(), v]));
  for (const l of localeChain(locale, fallback)) {
    const template = lowered[l]?.[id]?.[channel];
    if (template) return { template, locale: l };
  }
  return undefined;
}

/** The (template, channel) pairs `locale` lacks: none may be missing from the fallback locale. */
export function missingTemplates(catalogue: Catalogue, locale: string): string[] {
  const own = catalogue[locale.toLowerCase()] ?? {};
  return TEMPLATE_IDS.flatMap((id) =>
    CHANNELS_OF[id].filter((channel) => !own[id]?.[channel]).map((channel) => `${id}/${channel}`),
  );
}

/**
 * Fills `{name}` placeholders from `vars`. A `[ … ]` part is dropped when one of its
 * placeholders has no value; a placeholder outside one with no value is left empty.
 */
export function fill(text: string, vars: Readonly<Record<string, string | undefined>>): string {
  const placeholders = (part: string) => [...part.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '');
  const withParts = text.replace(/\[([^\]]*)\]/g, (_m, part: string) =>
    placeholders(part).every((name) => vars[name] !== undefined && vars[name] !== '') ? part : '',
  );
  return withParts.replace(/\{(\w+)\}/g, (_m, name: string) => vars[name] ?? '');
}
