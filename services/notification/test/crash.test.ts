import type { Notification, NotificationSummary } from '@hms/contracts';
import { PostgresDb } from '@hms/platform';
import {
  captureLogs,
  createTestBus,
  createTestKeys,
  createTestStore,
  createThrowawayDatabase,
  startService,
  testServerUrl,
  type RunningService,
} from '@hms/testkit';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { notificationService } from '../src/service.js';
import {
  SmsStub,
  SmtpSink,
  eventually,
  invoice,
  patient,
  providerEnv,
  publish,
  settableClock,
} from './helpers.js';

/**
 * The crash between the provider's acceptance and the status write (ADR 0016): Notification
 * hands an SMS to the provider, the provider accepts it, and before its answer is recorded the
 * process loses its database for good (its pool is ended while the provider answers: the status
 * write fails, as after a kill). Started again on the same database once the claim's lease has
 * run out, Notification does NOT send it again: it marks it failed, `outcome-unknown`, for an
 * operator to check with the provider. The provider saw one message, ever.
 */
const server = testServerUrl();

describe.skipIf(!server)('a sender that dies after the provider accepted', () => {
  const closers: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  });

  it('is never sent twice: after the restart it is failed as outcome-unknown', async () => {
    const database = await createThrowawayDatabase(server as string, 'hms_test_notification');
    closers.push(() => database.drop());
    const keys = await createTestKeys();
    // each life has its own broker connection, as a process would, on one namespace
    const namespace = `test_${randomBytes(4).toString('hex')}`;
    const bus = await createTestBus({ namespace });
    const store = await createTestStore();
    closers.push(() => store.close());
    const smtp = await SmtpSink.start('hms-mailer', 's3cret-mail');
    closers.push(() => smtp.close());
    const sms = await SmsStub.start();
    closers.push(() => sms.close());
    const clock = settableClock('2027-03-01T08:00:00Z');
    const env = { ...providerEnv(smtp, sms), NOTIFY_SEND_LEASE_SEC: '60' };
    const deps = { store: store.store, clock, logger: captureLogs('notification', 'trace').logger };

    // the first life: it dies while the provider answers
    const firstDb = new PostgresDb({ url: database.url, schema: 'notification', poolMax: 5 });
    let first: RunningService | undefined = await startService(notificationService, {
      ...deps,
      db: firstDb,
      keys,
      env,
      bus: bus.bus,
    });
    sms.onAccept = async () => {
      await firstDb.close();
    };
    const p = patient({ email: undefined });
    await publish(bus.bus, 'patient.registered.v1', p.id, { patient: p });
    // the patient's copy first: events of different subjects are consumed in no promised order, and
    // an invoice applied before it waits out a retry delay (a loaded CI run timed out on that)
    const desk = await keys.mint({ roles: ['receptionist'] });
    await eventually(async () => {
      const res = await first?.request(
        'GET',
        `/api/v1/notifications/config?recipientType=patient&recipientId=${p.id}`,
        { token: desk },
      );
      return res?.status === 200;
    }, 'the patient copy');
    const inv = invoice(p);
    await publish(bus.bus, 'billing.invoice-generated.v1', inv.id, { invoice: inv });
    await eventually(async () => sms.messages.length === 1, 'the provider accepting the SMS');
    sms.onAccept = undefined;
    await first.close();
    first = undefined;
    await bus.bus.close(); // not destroyed: the queues stay for the second life

    // what it left: claimed, handed off, no answer recorded
    const db = new PostgresDb({ url: database.url, schema: 'notification', poolMax: 2 });
    closers.push(() => db.close());
    const { rows } = await db.query<{ id: string; status: string; attempts: number; handed: boolean }>(
      `SELECT id, status, attempts, handed_off_at IS NOT NULL AS handed FROM messages WHERE recipient_id = $1 AND channel = 'sms'`,
      [p.id],
    );
    expect(rows).toEqual([{ id: sms.messages[0]?.reference, status: 'sending', attempts: 1, handed: true }]);

    // the second life, on the same database, a minute and a second later: the lease has run out
    clock.set('2027-03-01T08:01:01Z');
    const secondDb = new PostgresDb({ url: database.url, schema: 'notification', poolMax: 5 });
    const secondBus = await createTestBus({ namespace });
    closers.push(() => secondBus.close());
    const second = await startService(notificationService, {
      ...deps,
      db: secondDb,
      keys,
      env,
      bus: secondBus.bus,
    });
    closers.push(async () => {
      await second.close();
      await secondDb.close();
    });
    const token = await keys.mint({ roles: ['receptionist'] });
    const read = async () => {
      const res = await fetch(`${second.url}/api/v1/notifications?recipientId=${p.id}&channel=sms`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return ((await res.json()) as { items: NotificationSummary[] }).items;
    };
    await eventually(async () => (await read())[0]?.status === 'failed', 'the lapsed claim recovered');
    const [message] = await read();
    expect(message).toMatchObject({
      status: 'failed',
      reason: 'outcome-unknown',
      attempts: 1,
      channel: 'sms',
    });
    expect(message).not.toHaveProperty('nextAttemptAt');
    const detail = (await (
      await fetch(`${second.url}/api/v1/notifications/${message?.id}`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).json()) as Notification;
    expect(detail.body).toBe(sms.messages[0]?.text);

    // dispatcher rounds later, and later still on the clock: the provider still saw one message
    clock.set('2027-03-02T08:00:00Z');
    await new Promise((r) => setTimeout(r, 400));
    expect(sms.messages).toHaveLength(1);
  }, 60_000); // two lives of the service and three bounded waits
});
