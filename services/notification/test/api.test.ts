import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccessRecord, EventEnvelope, NotificationConfig, NotificationSummary } from '@hms/contracts';
import { uuidv7 } from '@hms/platform';
import { startService, type RunningService } from '@hms/testkit';
import {
  expectAccessMatrix,
  expectErrorCatalogue,
  expectProblem,
  expectValidationErrors,
  useStarted,
} from '@hms/testkit/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import { notificationService } from '../src/service.js';
import { eventually, invoice, messagesOf, patient, publish } from './helpers.js';

/**
 * The HTTP edge: the guard of every route, the error catalogue, bad input to the preferences
 * (400 naming each field, nothing stored), versions (428, 412), access records naming the
 * patient, and embedded mode: without providers, messages are written under HMS_DATA_DIR.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'hms-notify-data-'));
const CONFIG = '/api/v1/notifications/config';

/** The patient service as a read-through finds it: it knows no patient but those the events named. */
const world = useStarted(async () => {
  const owner = createServer((_req, res) =>
    res.writeHead(404, { 'content-type': 'application/problem+json' }).end('{}'),
  );
  await new Promise<void>((resolve) => owner.listen(0, '127.0.0.1', resolve));
  const svc = await startService(notificationService, {
    env: {
      HMS_DATA_DIR: dataDir,
      NOTIFY_DISPATCH_INTERVAL_MS: '40',
      PATIENT_URL: `http://127.0.0.1:${(owner.address() as AddressInfo).port}`,
    },
  });
  return {
    svc,
    async close() {
      await svc.close();
      await new Promise((resolve) => owner.close(resolve));
    },
  };
}, 60_000);

let svc: RunningService;
let desk: string;
let nurse: string;
const p = patient();
let messageId: string;
const envelopes: EventEnvelope[] = [];
const records = () =>
  envelopes
    .flatMap((e) => (e.data as { records: AccessRecord[] }).records)
    .filter((r) => r.service === 'notification');

beforeAll(async () => {
  svc = world().svc;
  desk = await svc.keys.mint({ roles: ['receptionist'] });
  nurse = await svc.keys.mint({ roles: ['nurse'] });
  await svc.bus.subscribe({
    consumer: 'audit-probe',
    types: ['access.recorded.v1'],
    handler: async (envelope) => void envelopes.push(envelope),
  });
  await publish(svc.bus, 'patient.registered.v1', p.id, { patient: p });
  const inv = invoice(p);
  await publish(svc.bus, 'billing.invoice-generated.v1', inv.id, { invoice: inv });
  let sent: NotificationSummary[] = [];
  await eventually(async () => {
    sent = await messagesOf(svc, desk, { recipientId: p.id, status: 'sent' });
    return sent.length === 2;
  }, 'the invoice messages');
  messageId = (sent[0] as NotificationSummary).id;
});

const stored = async () =>
  (
    await svc.db.query(
      'SELECT recipient_type, recipient_id, version, opt_out FROM preferences ORDER BY recipient_id',
    )
  ).rows;

describe('embedded mode', () => {
  it('writes each message to a file under HMS_DATA_DIR instead of sending it', async () => {
    const dir = join(dataDir, 'notifications', 'outgoing');
    const files = readdirSync(dir).sort();
    const mine = (await messagesOf(svc, desk, { recipientId: p.id }))
      .map((m) => `${m.id}.${m.channel}.json`)
      .sort();
    expect(files).toEqual(mine);
    const email = JSON.parse(
      readFileSync(join(dir, mine.find((f) => f.endsWith('.email.json')) as string), 'utf8'),
    ) as {
      to: string;
      subject: string;
    };
    expect(email.to).toBe(p.email);
    expect(email.subject).toMatch(/^Invoice INV-2027-\d+$/);
    expect((await messagesOf(svc, desk, { recipientId: p.id })).map((m) => m.provider)).toEqual([
      'file',
      'file',
    ]);
  });
});

describe('the guard and the catalogue', () => {
  it('guards every route with its permission', async () => {
    await expectAccessMatrix(svc, { params: { id: messageId }, untouched: stored });
  });

  it('publishes every error the source throws', async () => {
    await expectErrorCatalogue(svc, new URL('../src/', import.meta.url));
  });

  it('lets a nurse read messages but not change preferences', async () => {
    expect((await svc.request('GET', `/api/v1/notifications/${messageId}`, { token: nurse })).status).toBe(
      200,
    );
    const res = await svc.request('PUT', CONFIG, {
      token: nurse,
      headers: { 'if-match': '"v0"' },
      body: { recipient: { type: 'patient', id: p.id }, optOut: [] },
    });
    expect(expectProblem(res, 403).detail).toContain('notifications:manage');
  });
});

describe('preferences over HTTP', () => {
  it('answers the defaults as version 0 before any are stored', async () => {
    const res = await svc.request<NotificationConfig>(
      'GET',
      `${CONFIG}?recipientType=patient&recipientId=${p.id}`,
      {
        token: desk,
      },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"v0"');
    expect(res.body).toEqual({
      recipient: { type: 'patient', id: p.id },
      timezone: 'UTC',
      locale: 'en',
      optOut: [],
      version: 0,
    });
  });

  it('refuses bad preferences naming each field, and stores nothing', async () => {
    const before = await stored();
    const res = await svc.request('PUT', CONFIG, {
      token: desk,
      headers: { 'if-match': '"v0"' },
      body: {
        recipient: { type: 'patient', id: p.id },
        timezone: 'Mars/Olympus',
        quietHours: { start: '22:00', end: '22:00' },
        optOut: [
          { event: 'appointment.reminder', channel: 'sms' },
          { event: 'appointment.reminder', channel: 'sms' },
        ],
      },
    });
    expect(
      expectValidationErrors(res)
        .map((e) => e.path)
        .sort(),
    ).toEqual(['/body/optOut/1', '/body/quietHours/end', '/body/timezone']);
    const schema = await svc.request('PUT', CONFIG, {
      token: desk,
      headers: { 'if-match': '"v0"' },
      body: {
        recipient: { type: 'ward', id: 'x' },
        quietHours: { start: '25:00', end: '06:00' },
        optOut: [{ event: 'x', channel: 'fax' }],
      },
    });
    expect(expectValidationErrors(schema).length).toBeGreaterThanOrEqual(3);
    expect(await stored()).toEqual(before);
  });

  it('creates with "v0", then needs the version read: 428 without If-Match, 412 when stale', async () => {
    const body = { recipient: { type: 'patient', id: p.id }, locale: 'de', optOut: [] };
    expect(expectProblem(await svc.request('PUT', CONFIG, { token: desk, body }), 428).code).toBe(
      'precondition_required',
    );
    const created = await svc.request<NotificationConfig>('PUT', CONFIG, {
      token: desk,
      body,
      headers: { 'if-match': '"v0"' },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('etag')).toBe('"v1"');
    expect(created.body).toMatchObject({ version: 1, locale: 'de', timezone: 'UTC' });
    const stale = await svc.request('PUT', CONFIG, { token: desk, body, headers: { 'if-match': '"v0"' } });
    expect(expectProblem(stale, 412).code).toBe('precondition_failed');
    const replaced = await svc.request<NotificationConfig>('PUT', CONFIG, {
      token: desk,
      body: { ...body, quietHours: { start: '21:00', end: '07:00' } },
      headers: { 'if-match': '"v1"' },
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ version: 2, quietHours: { start: '21:00', end: '07:00' } });
  });

  it('answers 404 for a recipient the owner does not know', async () => {
    const res = await svc.request('PUT', CONFIG, {
      token: desk,
      headers: { 'if-match': '"v0"' },
      body: { recipient: { type: 'patient', id: uuidv7() }, optOut: [] },
    });
    expect(expectProblem(res, 404).code).toBe('recipient_not_found');
  });
});

describe('reading messages', () => {
  it('answers 404 for an unknown message and 400 for a foreign cursor', async () => {
    expect(
      expectProblem(await svc.request('GET', `/api/v1/notifications/${uuidv7()}`, { token: desk }), 404).code,
    ).toBe('notification_not_found');
    const bad = await svc.request('GET', '/api/v1/notifications?cursor=bm9wZQ', { token: desk });
    expect(expectValidationErrors(bad).map((e) => e.path)).toEqual(['/querystring/cursor']);
  });

  it('records every read of a patient’s messages and preferences as an access to that patient', async () => {
    const list = await svc.request('GET', `/api/v1/notifications?recipientId=${p.id}`, { token: desk });
    const one = await svc.request('GET', `/api/v1/notifications/${messageId}`, { token: desk });
    const config = await svc.request('GET', `${CONFIG}?recipientType=patient&recipientId=${p.id}`, {
      token: desk,
    });
    for (const [res, action, type] of [
      [list, 'search', 'notification'],
      [one, 'read', 'notification'],
      [config, 'read', 'notification-config'],
    ] as const) {
      const requestId = res.headers.get('x-request-id');
      await expect
        .poll(() => records().filter((r) => r.requestId === requestId).length, { timeout: 10_000 })
        .toBe(1);
      expect(records().find((r) => r.requestId === requestId)).toMatchObject({
        action,
        resource: { type },
        patientIds: [p.id],
        status: 200,
      });
    }
  });
});
