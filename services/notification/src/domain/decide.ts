import type {
  AppointmentStatus,
  NotificationChannel,
  NotificationEvent,
  NotificationReason,
  OptOut,
  QuietHours,
} from '@hms/contracts';
import type { Facts } from './render.js';
import { quietUntil } from './quiet-hours.js';

/** A recipient's preferences in effect (stored, or the defaults). */
export interface EffectivePreferences {
  timezone: string;
  locale: string;
  quietHours?: QuietHours | undefined;
  optOut: readonly OptOut[];
}

/** What Notification knows of a recipient's contact data at send time. */
export interface Contact {
  active: boolean;
  email?: string | undefined;
  phone?: string | undefined;
}

export interface Pending {
  event: NotificationEvent;
  channel: NotificationChannel;
  critical: boolean;
  facts: Facts;
}

export type Decision =
  | { kind: 'suppress'; reason: NotificationReason }
  | { kind: 'hold'; until: Date; reason: 'quiet-hours' }
  | { kind: 'send'; destination: string };

export const optedOut = (optOut: readonly OptOut[], event: NotificationEvent, channel: NotificationChannel) =>
  optOut.some((o) => (o.event === '*' || o.event === event) && o.channel === channel);

/** A number as providers take it: digits and a leading +, without the spaces and brackets people write. */
export const dialable = (phone: string): string => phone.replace(/[^0-9+]/g, '');

/**
 * Whether an appointment message still says something true, from the appointment as it is now:
 * a reminder only for a scheduled appointment at the time it names, before it starts; a booking
 * or a move not for one cancelled since (its cancellation goes out instead).
 */
function appointmentStale(
  m: Pending,
  now: Date,
  current: { status: AppointmentStatus; start: string } | undefined,
): NotificationReason | undefined {
  if (!current || m.facts.series || m.event === 'appointment.cancelled') return undefined;
  if (!m.event.startsWith('appointment.')) return undefined;
  if (current.status === 'cancelled') return 'appointment-cancelled';
  const at = (iso: string | undefined) => (iso ? Date.parse(iso) : NaN);
  if (m.event === 'appointment.reminder') {
    if (current.status !== 'scheduled') return 'appointment-closed';
    if (at(current.start) !== at(m.facts.start)) return 'appointment-moved';
    if (now.getTime() >= at(current.start)) return 'too-late';
  }
  if (m.event === 'appointment.rescheduled' && at(current.start) !== at(m.facts.start))
    return 'appointment-moved';
  return undefined;
}

/**
 * What to do with a due message now (the one decision, made each time the dispatcher takes it up,
 * so a change of preferences, contact data or appointment since it was queued counts): suppress
 * it (opted out, nobody to reach, no longer true), hold it until the recipient's quiet hours end
 * (unless critical: critical messages bypass quiet hours, never an opt-out), or send it.
 */
export function decide(
  m: Pending,
  ctx: {
    now: Date;
    prefs: EffectivePreferences;
    /** undefined: the recipient's record does not exist */
    contact: Contact | undefined;
    appointment?: { status: AppointmentStatus; start: string } | undefined;
  },
): Decision {
  if (optedOut(ctx.prefs.optOut, m.event, m.channel)) return { kind: 'suppress', reason: 'opted-out' };
  if (!ctx.contact) return { kind: 'suppress', reason: 'no-contact' };
  if (!ctx.contact.active) return { kind: 'suppress', reason: 'recipient-inactive' };
  const destination =
    m.channel === 'email' ? ctx.contact.email : ctx.contact.phone && dialable(ctx.contact.phone);
  if (!destination) return { kind: 'suppress', reason: 'no-contact' };
  const stale = appointmentStale(m, ctx.now, ctx.appointment);
  if (stale) return { kind: 'suppress', reason: stale };
  if (!m.critical && ctx.prefs.quietHours) {
    const until = quietUntil(ctx.now, ctx.prefs.timezone, ctx.prefs.quietHours);
    if (until) return { kind: 'hold', until, reason: 'quiet-hours' };
  }
  return { kind: 'send', destination };
}
