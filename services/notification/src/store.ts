import type {
  ConfigRecipient,
  Notification,
  NotificationQuery,
  NotificationReason,
  OptOut,
  QuietHours,
  RecipientType,
} from '@hms/contracts';
import { sqlParams, uuidv7, type Queryable } from '@hms/platform';
import type { NewMessage } from './domain/intake.js';
import type { Facts } from './domain/render.js';

/**
 * The only module of the Notification service that speaks SQL (STYLE.md §5). Every time comes
 * from the caller (the service's clock), never from SQL `now()`.
 */

// ---- messages

interface MessageRow {
  id: string;
  event_key: string;
  event: Notification['event'];
  subject_id: string;
  source_event_id: string;
  recipient_type: RecipientType;
  recipient_id: string;
  channel: Notification['channel'];
  critical: boolean;
  facts: Facts;
  status: Notification['status'];
  reason: NotificationReason | null;
  due_at: Date | null;
  attempts: number;
  last_error: string | null;
  claim_id: string | null;
  locale: string | null;
  destination: string | null;
  mail_subject: string | null;
  body: string | null;
  encoding: 'GSM-7' | 'UCS-2' | null;
  segments: number | null;
  provider: string | null;
  provider_message_id: string | null;
  sent_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** A message as the dispatcher works on it. */
export interface Claimed {
  id: string;
  claimId: string;
  event: Notification['event'];
  recipientType: RecipientType;
  recipientId: string;
  channel: Notification['channel'];
  critical: boolean;
  facts: Facts;
  attempts: number;
}

const optional = <K extends string, V>(key: K, value: V | null | undefined) =>
  (value === null || value === undefined ? {} : { [key]: value }) as Partial<Record<K, V>>;
const iso = (d: Date | null) => (d ? d.toISOString() : null);

function toNotification(r: MessageRow, detail: boolean): Notification {
  const due = iso(r.due_at);
  return {
    id: r.id,
    event: r.event,
    eventKey: r.event_key,
    sourceEventId: r.source_event_id,
    recipient: { type: r.recipient_type, id: r.recipient_id },
    channel: r.channel,
    critical: r.critical,
    status: r.status,
    ...optional('reason', r.reason),
    ...optional('holdUntil', r.status === 'held' ? due : null),
    attempts: r.attempts,
    ...optional('nextAttemptAt', r.status === 'failed' ? due : null),
    ...optional('lastError', r.last_error),
    ...optional('locale', r.locale),
    ...optional('encoding', r.encoding),
    ...optional('segments', r.segments),
    ...optional('provider', r.provider),
    ...optional('providerMessageId', r.provider_message_id),
    ...optional('sentAt', iso(r.sent_at)),
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
    ...(detail
      ? {
          ...optional('destination', r.destination),
          ...optional('subject', r.mail_subject),
          ...optional('body', r.body),
        }
      : {}),
  };
}

const INSERT = `INSERT INTO messages (id, event_key, event, subject_id, source_event_id, recipient_type, recipient_id,
  channel, critical, facts, status, reason, due_at, created_at, updated_at)`;

/** The VALUES rows of new messages: queued now, or (reminders) held until their time. */
function valuesOf(messages: readonly NewMessage[], sourceEventId: string, now: Date) {
  const { params, bind } = sqlParams();
  const n = bind(now);
  const source = bind(sourceEventId);
  const rows = messages.map(
    (m) =>
      `(${bind(uuidv7())}, ${bind(m.eventKey)}, ${bind(m.event)}, ${bind(m.subjectId)}, ${source}, ${bind(
        m.recipient.type,
      )}, ${bind(m.recipient.id)}, ${bind(m.channel)}, ${bind(m.critical)}, ${bind(JSON.stringify(m.facts))}, ${bind(
        m.holdUntil ? 'held' : 'queued',
      )}, ${bind(m.holdUntil ? 'reminder' : null)}, ${bind(m.holdUntil ?? m.notBefore ?? now)}, ${n}, ${n})`,
  );
  return { params, values: rows.join(', ') };
}

/**
 * Adds the messages a fact asks for; one that exists (the same fact, recipient and channel) is
 * left alone, except that a pending series message keeps the earliest occurrence it has seen.
 */
export async function insertMessages(
  tx: Queryable,
  messages: readonly NewMessage[],
  sourceEventId: string,
  now: Date,
): Promise<void> {
  if (messages.length === 0) return;
  const { params, values } = valuesOf(messages, sourceEventId, now);
  await tx.query(
    `${INSERT} VALUES ${values}
     ON CONFLICT ON CONSTRAINT messages_once DO UPDATE SET facts = EXCLUDED.facts, updated_at = EXCLUDED.updated_at
      WHERE messages.status IN ('queued', 'held') AND (messages.facts->>'series') = 'true'
        AND (EXCLUDED.facts->>'start')::timestamptz < (messages.facts->>'start')::timestamptz`,
    params,
  );
}

/**
 * Adds an appointment's reminders; one suppressed because the appointment moved away from its
 * time is held again when the appointment moves back to it.
 */
export async function ensureReminders(
  tx: Queryable,
  reminders: readonly NewMessage[],
  sourceEventId: string,
  now: Date,
): Promise<void> {
  if (reminders.length === 0) return;
  const { params, values } = valuesOf(reminders, sourceEventId, now);
  await tx.query(
    `${INSERT} VALUES ${values}
     ON CONFLICT ON CONSTRAINT messages_once DO UPDATE SET status = 'held', reason = 'reminder',
        due_at = EXCLUDED.due_at, updated_at = EXCLUDED.updated_at
      WHERE messages.status = 'suppressed' AND messages.reason = 'appointment-moved'`,
    params,
  );
}

/** Suppresses the pending reminders of an appointment but those it still wants. */
export async function suppressOtherReminders(
  tx: Queryable,
  appointmentId: string,
  keep: readonly string[],
  reason: NotificationReason,
  now: Date,
): Promise<void> {
  await tx.query(
    `UPDATE messages SET status = 'suppressed', reason = $3, due_at = NULL, updated_at = $4
      WHERE subject_id = $1 AND event = 'appointment.reminder' AND due_at IS NOT NULL
        AND NOT (event_key = ANY($2::text[]))`,
    [appointmentId, keep, reason, now],
  );
}

/**
 * Claims the next due message for one sender (`sending`, leased until `leaseUntil`). SKIP LOCKED:
 * two replicas never claim one message, nor wait on each other.
 */
export async function claimNext(db: Queryable, now: Date, leaseUntil: Date): Promise<Claimed | undefined> {
  const { rows } = await db.query<MessageRow>(
    `UPDATE messages SET status = 'sending', claim_id = $3, lease_until = $2, due_at = NULL, updated_at = $1
      WHERE id = (SELECT id FROM messages WHERE due_at <= $1 ORDER BY due_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
      RETURNING id, claim_id, event, recipient_type, recipient_id, channel, critical, facts, attempts`,
    [now, leaseUntil, uuidv7()],
  );
  const r = rows[0];
  return r
    ? {
        id: r.id,
        claimId: r.claim_id as string,
        event: r.event,
        recipientType: r.recipient_type,
        recipientId: r.recipient_id,
        channel: r.channel,
        critical: r.critical,
        facts: r.facts,
        attempts: r.attempts,
      }
    : undefined;
}

const CLAIMED = `id = $1 AND claim_id = $2 AND status = 'sending'`;
const RELEASE = `claim_id = NULL, lease_until = NULL`;

/** Ends a claim without sending: held until `until`, or suppressed. False when the claim had lapsed. */
export async function settle(
  db: Queryable,
  m: Pick<Claimed, 'id' | 'claimId'>,
  outcome:
    | { status: 'held'; reason: 'quiet-hours'; until: Date }
    | { status: 'suppressed'; reason: NotificationReason }
    | { status: 'failed'; lastError: string; nextAttemptAt: Date },
  now: Date,
): Promise<boolean> {
  const due =
    outcome.status === 'held' ? outcome.until : outcome.status === 'failed' ? outcome.nextAttemptAt : null;
  const { rowCount } = await db.query(
    `UPDATE messages SET status = $3, reason = $4, due_at = $5, last_error = COALESCE($6, last_error),
        ${RELEASE}, updated_at = $7
      WHERE ${CLAIMED}`,
    [
      m.id,
      m.claimId,
      outcome.status,
      outcome.status === 'failed' ? null : outcome.reason,
      due,
      outcome.status === 'failed' ? outcome.lastError : null,
      now,
    ],
  );
  return rowCount === 1;
}

export interface HandOff {
  destination: string;
  subject: string;
  body: string;
  locale: string;
  encoding?: 'GSM-7' | 'UCS-2' | undefined;
  segments?: number | undefined;
  provider: string;
}

/**
 * Records, and commits, that the message is about to go to the provider: what it says, where, and
 * one more attempt. From here on a lapsed claim is never sent again. False when the claim had lapsed.
 */
export async function handOff(db: Queryable, m: Pick<Claimed, 'id' | 'claimId'>, h: HandOff, now: Date) {
  const { rowCount } = await db.query(
    `UPDATE messages SET handed_off_at = $3, attempts = attempts + 1, destination = $4, mail_subject = $5,
        body = $6, locale = $7, encoding = $8, segments = $9, provider = $10, updated_at = $3
      WHERE ${CLAIMED}`,
    [
      m.id,
      m.claimId,
      now,
      h.destination,
      h.subject,
      h.body,
      h.locale,
      h.encoding ?? null,
      h.segments ?? null,
      h.provider,
    ],
  );
  return rowCount === 1;
}

/** The provider's answer to a hand-off: accepted, or failed (to retry at `nextAttemptAt`, or for good). */
export async function recordOutcome(
  db: Queryable,
  m: Pick<Claimed, 'id' | 'claimId'>,
  outcome:
    | { status: 'sent'; providerMessageId?: string | undefined }
    | {
        status: 'failed';
        lastError: string;
        nextAttemptAt?: Date | undefined;
        reason?: NotificationReason | undefined;
      },
  now: Date,
): Promise<boolean> {
  const sent = outcome.status === 'sent';
  const { rowCount } = await db.query(
    `UPDATE messages SET status = $3, provider_message_id = $4, sent_at = $5, last_error = COALESCE($6, last_error),
        reason = $7, due_at = $8, handed_off_at = CASE WHEN $8::timestamptz IS NULL THEN handed_off_at END,
        ${RELEASE}, updated_at = $9
      WHERE ${CLAIMED}`,
    [
      m.id,
      m.claimId,
      outcome.status,
      sent ? (outcome.providerMessageId ?? null) : null,
      sent ? now : null,
      sent ? null : outcome.lastError,
      sent ? null : (outcome.reason ?? null),
      sent ? null : (outcome.nextAttemptAt ?? null),
      now,
    ],
  );
  return rowCount === 1;
}

/**
 * Claims whose lease ran out (their sender stopped): one never handed off is queued again at once
 * (nothing left for a provider); one handed off may have been sent, so it is failed as
 * `outcome-unknown` and never sent again. Answers both lists of ids.
 */
export async function recoverLapsed(
  db: Queryable,
  now: Date,
): Promise<{ requeued: string[]; unknown: string[] }> {
  const requeued = await db.query<{ id: string }>(
    `UPDATE messages SET status = 'queued', due_at = $1, ${RELEASE}, updated_at = $1
      WHERE status = 'sending' AND lease_until < $1 AND handed_off_at IS NULL RETURNING id`,
    [now],
  );
  const unknown = await db.query<{ id: string }>(
    `UPDATE messages SET status = 'failed', reason = 'outcome-unknown', due_at = NULL,
        last_error = 'the sender stopped after handing the message to the provider, before recording its answer',
        ${RELEASE}, updated_at = $1
      WHERE status = 'sending' AND lease_until < $1 AND handed_off_at IS NOT NULL RETURNING id`,
    [now],
  );
  return { requeued: requeued.rows.map((r) => r.id), unknown: unknown.rows.map((r) => r.id) };
}

const COLUMNS = `id, event_key, event, subject_id, source_event_id, recipient_type, recipient_id, channel, critical,
  facts, status, reason, due_at, attempts, last_error, claim_id, locale, destination, mail_subject, body, encoding,
  segments, provider, provider_message_id, sent_at, created_at, updated_at`;

export async function getMessage(db: Queryable, id: string): Promise<Notification | undefined> {
  const { rows } = await db.query<MessageRow>(`SELECT ${COLUMNS} FROM messages WHERE id = $1`, [id]);
  return rows[0] ? toNotification(rows[0], true) : undefined;
}

/** Messages in id order (creation order), filtered, keyset-paged; without address and body. */
export async function listMessages(
  db: Queryable,
  f: Omit<NotificationQuery, 'limit' | 'cursor'>,
  page: { after?: string | undefined; limit: number },
): Promise<Notification[]> {
  const { params, bind } = sqlParams();
  const where = ['TRUE'];
  if (f.recipientType !== undefined) where.push(`recipient_type = ${bind(f.recipientType)}`);
  if (f.recipientId !== undefined) where.push(`recipient_id = ${bind(f.recipientId)}`);
  if (f.status !== undefined) where.push(`status = ${bind(f.status)}`);
  if (f.channel !== undefined) where.push(`channel = ${bind(f.channel)}`);
  if (f.event !== undefined) where.push(`event = ${bind(f.event)}`);
  if (page.after) where.push(`id > ${bind(page.after)}::uuid`);
  const { rows } = await db.query<MessageRow>(
    `SELECT ${COLUMNS} FROM messages WHERE ${where.join(' AND ')} ORDER BY id LIMIT ${bind(page.limit + 1)}`,
    params,
  );
  return rows.map((r) => toNotification(r, false));
}

// ---- preferences

export interface StoredPreferences {
  recipient: ConfigRecipient;
  timezone?: string | undefined;
  locale?: string | undefined;
  quietHours?: QuietHours | undefined;
  optOut: OptOut[];
  version: number;
  updatedAt: string;
}

interface PreferencesRow {
  recipient_type: ConfigRecipient['type'];
  recipient_id: string;
  timezone: string | null;
  locale: string | null;
  quiet_start: string | null;
  quiet_end: string | null;
  opt_out: OptOut[];
  version: number;
  updated_at: Date;
}

export async function getPreferences(
  db: Queryable,
  recipient: { type: RecipientType; id: string },
  lock = false,
): Promise<StoredPreferences | undefined> {
  if (recipient.type === 'address') return undefined;
  const { rows } = await db.query<PreferencesRow>(
    `SELECT recipient_type, recipient_id, timezone, locale, quiet_start, quiet_end, opt_out, version, updated_at
       FROM preferences WHERE recipient_type = $1 AND recipient_id = $2${lock ? ' FOR UPDATE' : ''}`,
    [recipient.type, recipient.id],
  );
  const r = rows[0];
  if (!r) return undefined;
  return {
    recipient: { type: r.recipient_type, id: r.recipient_id },
    ...optional('timezone', r.timezone),
    ...optional('locale', r.locale),
    ...(r.quiet_start && r.quiet_end ? { quietHours: { start: r.quiet_start, end: r.quiet_end } } : {}),
    optOut: r.opt_out,
    version: r.version,
    updatedAt: r.updated_at.toISOString(),
  };
}

/**
 * Writes a recipient's preferences whole at `version` (1: the first), if what is stored is still
 * the version before it: false when another writer got there first (two first writes at once).
 */
export async function savePreferences(
  tx: Queryable,
  p: Omit<StoredPreferences, 'updatedAt'>,
  by: string,
  now: Date,
): Promise<boolean> {
  const { rowCount } = await tx.query(
    `INSERT INTO preferences (recipient_type, recipient_id, timezone, locale, quiet_start, quiet_end, opt_out, version,
        updated_by, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (recipient_type, recipient_id) DO UPDATE SET timezone = EXCLUDED.timezone, locale = EXCLUDED.locale,
        quiet_start = EXCLUDED.quiet_start, quiet_end = EXCLUDED.quiet_end, opt_out = EXCLUDED.opt_out,
        version = EXCLUDED.version, updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at
      WHERE preferences.version = EXCLUDED.version - 1`,
    [
      p.recipient.type,
      p.recipient.id,
      p.timezone ?? null,
      p.locale ?? null,
      p.quietHours?.start ?? null,
      p.quietHours?.end ?? null,
      JSON.stringify(p.optOut),
      p.version,
      by,
      now,
    ],
  );
  return rowCount === 1;
}
