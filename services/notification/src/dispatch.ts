import type { RecipientType } from '@hms/contracts';
import type { Contact, Decision, EffectivePreferences } from './domain/decide.js';
import { decide } from './domain/decide.js';
import { render } from './domain/render.js';
import { nextAttemptAt } from './domain/retry.js';
import type { NotificationContext } from './context.js';
import * as store from './store.js';
import { SendError } from './transports/transport.js';

/**
 * The dispatcher (a scheduler job, one replica at a time; claims make two safe anyway): takes up
 * due messages one by one, decides (suppress, hold, send) with the preferences, contact data and
 * appointment as they are now, and sends. Per message:
 *
 * 1. claim it (`sending`, leased) in its own transaction;
 * 2. decide and render, reading the copies (a read-through is a network call: no transaction);
 * 3. record the hand-off (what, where, one more attempt) and commit, THEN call the provider;
 * 4. record the provider's answer.
 *
 * A sender that dies between 3 and 4 leaves a lapsed claim with a hand-off: it may have been sent,
 * so it is failed as `outcome-unknown` for an operator and never sent again (at most once). One
 * that dies before 3 sent nothing and is queued again. Log lines carry ids and codes only.
 */
export async function dispatchDue(ctx: NotificationContext): Promise<void> {
  const recovered = await store.recoverLapsed(ctx.db, ctx.clock.now());
  if (recovered.requeued.length > 0)
    ctx.logger.info({ ids: recovered.requeued }, 'lapsed claims queued again');
  if (recovered.unknown.length > 0)
    ctx.logger.warn({ ids: recovered.unknown }, 'lapsed claims after hand-off: outcome unknown, not re-sent');
  const worker = async () => {
    for (let n = 0; n < 100; n += 1) {
      const now = ctx.clock.now();
      const leaseUntil = new Date(now.getTime() + ctx.config.NOTIFY_SEND_LEASE_SEC * 1000);
      const claimed = await store.claimNext(ctx.db, now, leaseUntil);
      if (!claimed) return;
      await takeUp(ctx, claimed);
    }
  };
  await Promise.all(Array.from({ length: ctx.config.NOTIFY_SEND_CONCURRENCY }, worker));
}

async function takeUp(ctx: NotificationContext, m: store.Claimed): Promise<void> {
  let decision: Decision;
  let prefs: EffectivePreferences;
  try {
    const [contact, stored] = await Promise.all([
      contactOf(ctx, m.recipientType, m.recipientId),
      store.getPreferences(ctx.db, { type: m.recipientType, id: m.recipientId }),
    ]);
    prefs = {
      timezone: stored?.timezone ?? contact?.timezone ?? ctx.facility.timezone,
      locale: stored?.locale ?? ctx.facility.locale,
      quietHours: stored?.quietHours,
      optOut: stored?.optOut ?? [],
    };
    const appointmentId = m.event.startsWith('appointment.') ? m.facts.appointmentId : undefined;
    const appointment = appointmentId
      ? (await ctx.copies.appointments.cached(appointmentId))?.data
      : undefined;
    decision = decide(m, { now: ctx.clock.now(), prefs, contact, appointment });
  } catch (err) {
    // the owner of the contact data could not answer: nothing went out, try again later
    const now = ctx.clock.now();
    const retryAt = new Date(now.getTime() + (ctx.config.retryDelaysSec[0] ?? 60) * 1000);
    await store.settle(
      ctx.db,
      m,
      { status: 'failed', lastError: 'contact data unavailable', nextAttemptAt: retryAt },
      now,
    );
    ctx.logger.warn({ err, notificationId: m.id }, 'recipient lookup failed; retrying later');
    return;
  }
  const now = ctx.clock.now();
  if (decision.kind === 'suppress') {
    await store.settle(ctx.db, m, { status: 'suppressed', reason: decision.reason }, now);
    return;
  }
  if (decision.kind === 'hold') {
    await store.settle(ctx.db, m, { status: 'held', reason: 'quiet-hours', until: decision.until }, now);
    return;
  }
  await send(ctx, m, decision.destination, prefs);
}

async function send(
  ctx: NotificationContext,
  m: store.Claimed,
  destination: string,
  prefs: EffectivePreferences,
) {
  const transport = ctx.transports[m.channel];
  const text = render(
    { event: m.event, channel: m.channel, facts: m.facts, zone: prefs.timezone, locale: prefs.locale },
    ctx.config.NOTIFY_FALLBACK_LOCALE,
  );
  const handed = await store.handOff(
    ctx.db,
    m,
    {
      destination,
      subject: text.subject,
      body: text.body,
      locale: text.locale,
      encoding: text.encoding,
      segments: text.segments,
      provider: transport.name,
    },
    ctx.clock.now(),
  );
  if (!handed) return; // the claim lapsed and was taken back: not ours to send
  let outcome: Parameters<typeof store.recordOutcome>[2];
  try {
    const accepted = await transport.send({
      id: m.id,
      to: destination,
      subject: text.subject,
      body: text.body,
    });
    outcome = { status: 'sent', providerMessageId: accepted.providerMessageId };
  } catch (err) {
    outcome = failure(ctx, m.attempts + 1, err);
    ctx.logger.warn(
      {
        notificationId: m.id,
        channel: m.channel,
        provider: transport.name,
        error: outcome.lastError,
        final: !outcome.nextAttemptAt,
      },
      'hand-off failed',
    );
  }
  const recorded = await store.recordOutcome(ctx.db, m, outcome, ctx.clock.now());
  if (!recorded)
    ctx.logger.warn({ notificationId: m.id }, "the provider's answer came after the claim lapsed");
  else if (outcome.status === 'sent')
    ctx.logger.info({ notificationId: m.id, channel: m.channel }, 'notification sent');
}

function failure(ctx: NotificationContext, attempts: number, err: unknown) {
  const e = err instanceof SendError ? err : new SendError('unknown', 'the transport failed unexpectedly');
  if (e.kind === 'unknown')
    return { status: 'failed' as const, lastError: e.detail, reason: 'outcome-unknown' as const };
  if (e.kind === 'rejected')
    return { status: 'failed' as const, lastError: e.detail, reason: 'rejected' as const };
  const next = nextAttemptAt(ctx.clock.now(), attempts, {
    maxAttempts: ctx.config.NOTIFY_MAX_ATTEMPTS,
    delaysSec: ctx.config.retryDelaysSec,
  });
  return next
    ? { status: 'failed' as const, lastError: e.detail, nextAttemptAt: next }
    : { status: 'failed' as const, lastError: e.detail, reason: 'retries-exhausted' as const };
}

/** How to reach a recipient: their record's copy (read through on a miss), or the address itself. */
async function contactOf(
  ctx: NotificationContext,
  type: RecipientType,
  id: string,
): Promise<(Contact & { timezone?: string }) | undefined> {
  switch (type) {
    case 'patient':
      return ctx.copies.patients.get(id);
    case 'staff':
      return ctx.copies.staff.get(id);
    case 'address':
      return { active: true, email: id };
  }
}
