import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  AnalyticsDashboard,
  AnalyticsEvent,
  Appointment,
  AuditRecord,
  EventEnvelope,
  Invoice,
  NotificationSummary,
  Patient,
} from '@hms/contracts';
import { auditService } from '@hms/audit';
import { billingService } from '@hms/billing';
import { notificationService } from '@hms/notification';
import { buildEnvelope, uuidv7 } from '@hms/platform';
import {
  LOG_SINK_ENV,
  createTestBus,
  createTestKeys,
  noteSeededPatient,
  qs,
  startService,
  type RunningService,
  type TestBus,
} from '@hms/testkit';
import { readAllPages, useStarted } from '@hms/testkit/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyticsService } from '../src/service.js';

/**
 * Issue #15's "Must show": one `appointment.created.v1` on real RabbitMQ reaches the four services
 * that consume it (Billing, Audit, Notification, Analytics), each on its own queue of one topic
 * exchange, and each applies it exactly once, also when the broker hands the same envelope over
 * again. Every effect is read back through the services' HTTP APIs with real tokens; the counts
 * expected are written here by hand.
 */
const CONSUMERS = ['billing', 'audit', 'notification', 'analytics'] as const;
type Consumer = (typeof CONSUMERS)[number];

interface World {
  bus: TestBus;
  svc: Record<Consumer, RunningService>;
  tokens: { billing: string; auditor: string; desk: string; manager: string };
  close(): Promise<void>;
}

const world = useStarted<World>(async () => {
  const bus = await createTestBus({ kind: 'rabbitmq' });
  const keys = await createTestKeys();
  // Audit keeps its signing key and checkpoints, Notification its outgoing mail, under the data dir
  const env = {
    HMS_DATA_DIR: mkdtempSync(join(tmpdir(), 'hms-fan-out-')),
    AUDIT_CHECKPOINT_MS: '3600000',
    AUDIT_VERIFY_MS: '3600000',
    NOTIFY_DISPATCH_INTERVAL_MS: '100',
  };
  const started: RunningService[] = [];
  try {
    for (const mod of [billingService, auditService, notificationService, analyticsService])
      started.push(await startService(mod, { bus: bus.bus, keys, env }));
  } catch (err) {
    for (const s of started) await s.close();
    await bus.close();
    throw err;
  }
  const [billing, audit, notification, analytics] = started as [
    RunningService,
    RunningService,
    RunningService,
    RunningService,
  ];
  return {
    bus,
    svc: { billing, audit, notification, analytics },
    tokens: {
      billing: await keys.mint({ roles: ['billing'] }),
      auditor: await keys.mint({ roles: ['auditor'] }),
      desk: await keys.mint({ roles: ['receptionist'] }),
      manager: await keys.mint({ roles: ['manager'] }),
    },
    async close() {
      for (const s of started) await s.close();
      await bus.close();
    },
  };
}, 90_000);

let w: World;
beforeAll(() => {
  w = world();
});

// ---- the facts, as Patient and Appointment would publish them

const AT = new Date().toISOString();
const START = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10) + 'T10:00:00.000Z';
const PRICE = 12_050;

const patient: Patient = {
  id: uuidv7(),
  mrn: 'MRN-FAN-0001',
  givenName: 'Orla',
  familyName: 'Fenwick-Quist',
  birthDate: '1979-04-18',
  sex: 'female',
  email: 'orla.fenwick-quist@example.org',
  phone: '+44 20 7946 0177',
  allergies: [],
  conditions: [],
  status: 'active',
  version: 1,
  createdAt: AT,
  updatedAt: AT,
};

const appointment = (id: string, start: string): Appointment => ({
  id,
  patientId: patient.id,
  staffId: uuidv7(),
  type: 'consult-30',
  start,
  end: new Date(Date.parse(start) + 30 * 60_000).toISOString(),
  bufferBeforeMin: 0,
  bufferAfterMin: 0,
  location: 'Room 4',
  status: 'scheduled',
  history: [{ at: AT, action: 'booked', by: 'user-desk' }],
  version: 1,
  createdAt: AT,
  updatedAt: AT,
});

const created = (a: Appointment): EventEnvelope =>
  buildEnvelope('appointment', { type: 'appointment.created.v1', subject: a.id, data: { appointment: a } });

// ---- what each service shows of one appointment, through its HTTP API

async function get<T>(svc: RunningService, path: string, token: string): Promise<T> {
  const res = await svc.request<T>('GET', path, { token });
  expect(res.status, `GET ${path}: ${JSON.stringify(res.body)}`).toBe(200);
  return res.body;
}

interface Seen {
  invoices: Pick<Invoice, 'status' | 'total' | 'patientId'>[];
  auditRecords: Pick<AuditRecord, 'eventId' | 'type' | 'subject'>[];
  bookingMessages: Pick<NotificationSummary, 'event' | 'eventKey' | 'sourceEventId' | 'channel'>[];
  analyticsEvents: Pick<AnalyticsEvent, 'id' | 'type' | 'subject'>[];
  scheduledThatDay: number;
}

async function seen(e: EventEnvelope): Promise<Seen> {
  const a = (e.data as { appointment: Appointment }).appointment;
  const day = a.start.slice(0, 10); // the facility's zone is UTC here
  const [invoices, audit, messages, events, dashboard] = await Promise.all([
    readAllPages<Invoice>(w.svc.billing, '/api/v1/invoices', w.tokens.billing, { appointmentId: a.id }),
    readAllPages<AuditRecord>(w.svc.audit, '/api/v1/audit/events', w.tokens.auditor, {
      type: 'appointment.created.v1',
      resource: a.id,
    }),
    readAllPages<NotificationSummary>(w.svc.notification, '/api/v1/notifications', w.tokens.desk, {
      recipientId: patient.id,
      event: 'appointment.booked',
    }),
    readAllPages<AnalyticsEvent>(w.svc.analytics, '/api/v1/analytics/events', w.tokens.manager, {
      type: 'appointment.created.v1',
      subject: a.id,
    }),
    get<AnalyticsDashboard>(
      w.svc.analytics,
      `/api/v1/analytics/dashboard${qs({ from: day, to: day })}`,
      w.tokens.manager,
    ),
  ]);
  return {
    invoices: invoices.items.map(({ status, total, patientId }) => ({ status, total, patientId })),
    auditRecords: audit.items.map(({ eventId, type, subject }) => ({ eventId, type, subject })),
    bookingMessages: messages.items
      .filter((m) => m.eventKey === `appointment:${a.id}:booked`)
      .map(({ event, eventKey, sourceEventId, channel }) => ({ event, eventKey, sourceEventId, channel }))
      .sort((x, y) => x.channel.localeCompare(y.channel)),
    analyticsEvents: events.items.map(({ id, type, subject }) => ({ id, type, subject })),
    scheduledThatDay: dashboard.appointments.scheduled,
  };
}

/** What each of the four shows once it has applied `e`, the one appointment booked that day. */
const appliedOnce = (e: EventEnvelope): Seen => ({
  invoices: [{ status: 'draft', total: PRICE, patientId: patient.id }],
  auditRecords: [{ eventId: e.id, type: 'appointment.created.v1', subject: e.subject }],
  // one message per channel the patient can be reached on (email and phone), in channel order
  bookingMessages: (['email', 'sms'] as const).map((channel) => ({
    event: 'appointment.booked' as const,
    eventKey: `appointment:${e.subject}:booked`,
    sourceEventId: e.id,
    channel,
  })),
  analyticsEvents: [{ id: e.id, type: 'appointment.created.v1', subject: e.subject }],
  scheduledThatDay: 1,
});

/** The redeliveries of `type` a consumer's inbox skipped, from its `/metrics`. */
async function duplicatesSkipped(svc: RunningService, consumer: Consumer, type: string): Promise<number> {
  const res = await svc.manage<string>('GET', '/metrics');
  const line = new RegExp(
    `^events_duplicate_total\\{(?=[^}]*consumer="${consumer}")(?=[^}]*type="${type}")[^}]*\\} (\\d+)$`,
    'gm',
  );
  return [...res.body.matchAll(line)].reduce((sum, m) => sum + Number(m[1]), 0);
}

async function inboxRows(svc: RunningService, consumer: Consumer, eventId: string): Promise<number> {
  const { rows } = await svc.db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM inbox WHERE consumer = $1 AND event_id = $2',
    [consumer, eventId],
  );
  return rows[0]?.n ?? 0;
}

describe.skipIf(!process.env.TEST_AMQP_URL)(
  'one appointment.created.v1 reaches billing, audit, notification and analytics, each once',
  () => {
    it('each applies it exactly once, and a redelivery of the same envelope changes nothing', async () => {
      // Billing prices the type; Notification learns the patient's address from Patient's event
      const fee = await w.svc.billing.request('PUT', '/api/v1/billing/fee-schedule/consult-30', {
        token: w.tokens.billing,
        body: { description: 'Consultation, 30 minutes', unitPrice: PRICE, currency: 'USD' },
      });
      expect(fee.status, JSON.stringify(fee.body)).toBe(201);
      const sink = process.env[LOG_SINK_ENV];
      if (sink) noteSeededPatient(sink, patient); // the PHI log guard looks for these fields
      await w.bus.bus.publish([
        buildEnvelope('patient', { type: 'patient.registered.v1', subject: patient.id, data: { patient } }),
      ]);
      await expect
        .poll(
          async () =>
            (
              await w.svc.notification.request(
                'GET',
                `/api/v1/notifications/config${qs({ recipientType: 'patient', recipientId: patient.id })}`,
                { token: w.tokens.desk },
              )
            ).status,
          { timeout: 15_000, interval: 50 },
        )
        .toBe(200);

      const booked = created(appointment(uuidv7(), START));
      await w.bus.bus.publish([booked]);
      await expect.poll(() => seen(booked), { timeout: 20_000, interval: 100 }).toEqual(appliedOnce(booked));
      for (const c of CONSUMERS) expect(await inboxRows(w.svc[c], c, booked.id), c).toBe(1);

      // the broker hands the very same envelope over again: each inbox skips it, once
      await w.bus.bus.publish([booked]);
      for (const c of CONSUMERS)
        await expect
          .poll(() => duplicatesSkipped(w.svc[c], c, 'appointment.created.v1'), { timeout: 15_000 })
          .toBe(1);
      expect(await seen(booked)).toEqual(appliedOnce(booked));
      for (const c of CONSUMERS) expect(await inboxRows(w.svc[c], c, booked.id), c).toBe(1);
    });
  },
);
