import type { ConfigRecipient, NotificationConfig, NotificationConfigInput, OptOut } from '@hms/contracts';
import {
  CommonErrors,
  authorize,
  checkVersion,
  invalid,
  isTimeZone,
  type Caller,
  type ProblemField,
} from '@hms/platform';
import type { NotificationContext } from './context.js';
import { isWindow } from './domain/quiet-hours.js';
import { NotificationErrors } from './errors.js';
import * as store from './store.js';

/**
 * A recipient's preferences: which (event, channel) pairs they do not want, their quiet hours,
 * time zone and language. Absent ones are the defaults (everything sent, no quiet hours, a staff
 * member's own zone or the facility's, the facility's language): GET answers them as version 0.
 */

/** The recipient's record (read through to its owner on a miss): 404 when there is none. */
async function recipientRecord(ctx: NotificationContext, r: ConfigRecipient) {
  const found = r.type === 'patient' ? await ctx.copies.patients.get(r.id) : await ctx.copies.staff.get(r.id);
  if (!found) throw NotificationErrors.recipient_not_found(`no ${r.type} ${r.id}`);
  return found as { timezone?: string };
}

function effective(
  ctx: NotificationContext,
  recipient: ConfigRecipient,
  stored: store.StoredPreferences | undefined,
  record: { timezone?: string },
): NotificationConfig {
  return {
    recipient,
    timezone: stored?.timezone ?? record.timezone ?? ctx.facility.timezone,
    locale: stored?.locale ?? ctx.facility.locale,
    ...(stored?.quietHours ? { quietHours: stored.quietHours } : {}),
    optOut: stored?.optOut ?? [],
    version: stored?.version ?? 0,
    ...(stored ? { updatedAt: stored.updatedAt } : {}),
  };
}

export async function getConfig(
  ctx: NotificationContext,
  caller: Caller,
  recipient: ConfigRecipient,
): Promise<NotificationConfig> {
  authorize(caller, 'notifications:read');
  const record = await recipientRecord(ctx, recipient);
  return effective(ctx, recipient, await store.getPreferences(ctx.db, recipient), record);
}

function problemsOf(input: NotificationConfigInput): ProblemField[] {
  const problems: ProblemField[] = [];
  if (input.timezone !== undefined && !isTimeZone(input.timezone))
    problems.push({ path: '/body/timezone', message: 'is not an IANA time zone' });
  if (input.quietHours && !isWindow(input.quietHours))
    problems.push({ path: '/body/quietHours/end', message: 'must differ from start' });
  const seen = new Set<string>();
  input.optOut.forEach((o, i) => {
    const key = `${o.event}/${o.channel}`;
    if (seen.has(key)) problems.push({ path: `/body/optOut/${i}`, message: 'is listed twice' });
    seen.add(key);
  });
  return problems;
}

/**
 * Replaces a recipient's preferences whole. If-Match names the version read (`"v0"` when there
 * were none: it creates them; `*`: whatever is there). Answers them and whether they were new.
 */
export async function putConfig(
  ctx: NotificationContext,
  caller: Caller,
  input: NotificationConfigInput,
  expected: number | '*',
): Promise<{ config: NotificationConfig; created: boolean }> {
  authorize(caller, 'notifications:manage');
  const problems = problemsOf(input);
  if (problems.length > 0) invalid(problems);
  const record = await recipientRecord(ctx, input.recipient);
  const now = ctx.clock.now();
  const optOut: OptOut[] = input.optOut.map((o) => ({ event: o.event, channel: o.channel }));
  return ctx.db.transaction(async (tx) => {
    const current = await store.getPreferences(tx, input.recipient, true);
    checkVersion(expected, current?.version ?? 0);
    const next = {
      recipient: input.recipient,
      timezone: input.timezone,
      locale: input.locale,
      quietHours: input.quietHours,
      optOut,
      version: (current?.version ?? 0) + 1,
    };
    if (!(await store.savePreferences(tx, next, caller.id, now)))
      throw CommonErrors.precondition_failed(
        'the preferences were changed at the same time; read them again',
      );
    return {
      config: effective(ctx, input.recipient, { ...next, updatedAt: now.toISOString() }, record),
      created: current === undefined,
    };
  });
}
