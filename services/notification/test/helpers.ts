import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  Appointment,
  Claim,
  EventType,
  InventoryItem,
  Invoice,
  Notification,
  NotificationSummary,
  Patient,
  Staff,
} from '@hms/contracts';
import { buildEnvelope, uuidv7, type Clock, type EventBus } from '@hms/platform';
import {
  LOG_SINK_ENV,
  captureLogs,
  noteSeededPatient,
  startService,
  type LogLine,
  type RunningService,
} from '@hms/testkit';
import { readAllPages, useStarted } from '@hms/testkit/vitest';
import { SMTPServer } from 'smtp-server';
import { notificationService } from '../src/service.js';

/** A clock a test moves by hand. */
export function settableClock(iso: string): Clock & { set(iso: string): void } {
  let now = Date.parse(iso);
  return {
    now: () => new Date(now),
    set(next: string) {
      now = Date.parse(next);
    },
  };
}

export async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 20_000) {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 40));
  }
}

// ---- a real SMTP server, in the test

export interface Mail {
  from: string;
  to: string[];
  messageId: string;
  subject: string;
  text: string;
}

/** Quoted-printable as nodemailer writes non-ASCII text. */
function decodeQp(text: string): string {
  const bytes = text.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, h: string) => `%${h}`);
  return decodeURIComponent(bytes.replace(/%(?![0-9A-F]{2})/g, '%25'));
}

function parseMail(raw: string, from: string, to: string[]): Mail {
  const [head = '', ...rest] = raw.split(/\r?\n\r?\n/);
  const header = (name: string) =>
    new RegExp(`^${name}:\\s*(.*(?:\\r?\\n[ \\t].*)*)`, 'im').exec(head)?.[1]?.replace(/\r?\n[ \t]/g, ' ') ??
    '';
  const body = rest.join('\n\n').replace(/\r?\n$/, '');
  const qp = /quoted-printable/i.test(header('Content-Transfer-Encoding'));
  return {
    from,
    to,
    messageId: header('Message-ID'),
    subject: header('Subject'),
    text: qp ? decodeQp(body) : body,
  };
}

/** SMTP on 127.0.0.1 that requires AUTH PLAIN/LOGIN with the given credentials and keeps what it accepts. */
export class SmtpSink {
  readonly mails: Mail[] = [];
  /** the next replies to DATA, instead of accepting: e.g. [451] once, then accepted */
  readonly refuse: number[] = [];
  private readonly server: SMTPServer;

  private constructor(user: string, pass: string) {
    this.server = new SMTPServer({
      authMethods: ['PLAIN', 'LOGIN'],
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onAuth(auth, _session, cb) {
        if (auth.username === user && auth.password === pass) cb(null, { user });
        else cb(new Error('invalid credentials'));
      },
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const code = this.refuse.shift();
          if (code) {
            const err = new Error(`refused by the test (${code})`) as Error & { responseCode: number };
            err.responseCode = code;
            return cb(err);
          }
          const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
          const to = session.envelope.rcptTo.map((r) => r.address);
          this.mails.push(parseMail(Buffer.concat(chunks).toString('utf8'), from, to));
          cb();
        });
      },
    });
  }

  static async start(user: string, pass: string): Promise<SmtpSink> {
    const sink = new SmtpSink(user, pass);
    await new Promise<void>((resolve) => sink.server.listen(0, '127.0.0.1', resolve));
    return sink;
  }

  get url(): string {
    return `smtp://127.0.0.1:${(this.server.server.address() as AddressInfo).port}`;
  }

  to(address: string): Mail[] {
    return this.mails.filter((m) => m.to.includes(address));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

// ---- a local SMS provider stub

export interface Sms {
  authorization: string | undefined;
  idempotencyKey: string | undefined;
  to: string;
  text: string;
  encoding: string;
  reference: string;
}

/** The SMS API on 127.0.0.1: answers `{ id }`, or the statuses queued in `fail`; `onAccept` runs before it answers. */
export class SmsStub {
  readonly messages: Sms[] = [];
  readonly fail: number[] = [];
  onAccept: ((sms: Sms) => Promise<void>) | undefined;
  private readonly server: Server;

  private constructor() {
    this.server = createServer((req: IncomingMessage, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
      req.on('end', () => void this.answer(req, raw, res));
    });
  }

  private async answer(req: IncomingMessage, raw: string, res: ServerResponse): Promise<void> {
    const status = this.fail.shift();
    if (status) {
      res.writeHead(status, { 'content-type': 'application/json' }).end('{"error":"test"}');
      return;
    }
    const body = JSON.parse(raw) as Omit<Sms, 'authorization' | 'idempotencyKey'>;
    const sms: Sms = {
      ...body,
      authorization: req.headers.authorization,
      idempotencyKey: req.headers['idempotency-key'] as string | undefined,
    };
    this.messages.push(sms);
    await this.onAccept?.(sms);
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ id: `sms-${this.messages.length}` }));
  }

  static async start(): Promise<SmsStub> {
    const stub = new SmsStub();
    await new Promise<void>((resolve) => stub.server.listen(0, '127.0.0.1', resolve));
    return stub;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1/messages`;
  }

  to(number: string): Sms[] {
    return this.messages.filter((m) => m.to === number);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

// ---- the service with both providers

export const SMS_TOKEN = 'sms-test-token';

/** The environment of a Notification that sends to `smtp` (credentials from files) and `sms`. */
export function providerEnv(smtp: SmtpSink, sms: SmsStub): NodeJS.ProcessEnv {
  const dir = mkdtempSync(join(tmpdir(), 'hms-notify-'));
  writeFileSync(join(dir, 'smtp-user'), 'hms-mailer\n');
  writeFileSync(join(dir, 'smtp-password'), 's3cret-mail\n');
  writeFileSync(join(dir, 'sms-token'), `${SMS_TOKEN}\n`);
  return {
    SMTP_URL: smtp.url,
    SMTP_USER_FILE: join(dir, 'smtp-user'),
    SMTP_PASSWORD_FILE: join(dir, 'smtp-password'),
    NOTIFY_EMAIL_FROM: 'Clinic <no-reply@clinic.test>',
    SMS_API_URL: sms.url,
    SMS_API_TOKEN_FILE: join(dir, 'sms-token'),
    NOTIFY_DISPATCH_INTERVAL_MS: '40',
    NOTIFY_SEND_TIMEOUT_MS: '5000',
    NOTIFY_RETRY_DELAYS_SEC: '60,300',
    NOTIFY_MAX_ATTEMPTS: '3',
  };
}

export interface World {
  svc: RunningService;
  smtp: SmtpSink;
  sms: SmsStub;
  /** every line the service logged, at trace */
  logs: () => LogLine[];
  close(): Promise<void>;
}

export function useWorld(opts: { clock: Clock; env?: NodeJS.ProcessEnv }) {
  return useStarted(async (): Promise<World> => {
    const smtp = await SmtpSink.start('hms-mailer', 's3cret-mail');
    const sms = await SmsStub.start();
    const captured = captureLogs('notification', 'trace');
    const svc = await startService(notificationService, {
      clock: opts.clock,
      logger: captured.logger,
      env: { ...providerEnv(smtp, sms), ...opts.env },
    });
    return {
      svc,
      smtp,
      sms,
      logs: captured.lines,
      async close() {
        await svc.close();
        await smtp.close();
        await sms.close();
      },
    };
  }, 60_000);
}

// ---- events, as their owners publish them

let n = 0;
const unique = () => `${Date.now().toString(36)}${(n += 1)}`;

export async function publish<T extends EventType>(bus: EventBus, type: T, subject: string, data: unknown) {
  const envelope = buildEnvelope(type.split('.')[0] ?? 'test', { type, subject, data } as never);
  await bus.publish([envelope]);
  return envelope;
}

export function patient(over: Partial<Patient> = {}): Patient {
  const id = uuidv7();
  const p: Patient = {
    id,
    mrn: `MRN-${unique()}`,
    givenName: 'Ada',
    familyName: `Lovelace${unique()}`,
    birthDate: '1985-12-10',
    sex: 'female',
    phone: `+49 30 ${String(1_000_000 + (n % 8_000_000))}`,
    email: `ada.${unique()}@example.org`,
    allergies: [],
    conditions: [],
    status: 'active',
    version: 1,
    createdAt: '2027-01-01T00:00:00.000Z',
    updatedAt: '2027-01-01T00:00:00.000Z',
    ...over,
  };
  // the PHI log guard looks for this patient's name, birth date, phone and email in every log line
  const sink = process.env[LOG_SINK_ENV];
  if (sink) noteSeededPatient(sink, p);
  return p;
}

export function staff(over: Partial<Staff> = {}): Staff {
  return {
    id: uuidv7(),
    givenName: 'Grace',
    familyName: `Hopper${unique()}`,
    role: 'physician',
    department: 'Cardiology',
    specialties: [],
    email: `grace.${unique()}@clinic.test`,
    phone: `+49 30 ${String(2_000_000 + (n % 8_000_000))}`,
    active: true,
    timezone: 'Europe/Berlin',
    weeklyHours: [],
    overrides: [],
    version: 1,
    createdAt: '2027-01-01T00:00:00.000Z',
    updatedAt: '2027-01-01T00:00:00.000Z',
    ...over,
  };
}

export function appointment(
  p: Patient,
  s: Staff,
  start: string,
  over: Partial<Appointment> = {},
): Appointment {
  return {
    id: uuidv7(),
    patientId: p.id,
    staffId: s.id,
    type: 'consult-30',
    start,
    end: new Date(Date.parse(start) + 30 * 60_000).toISOString(),
    bufferBeforeMin: 0,
    bufferAfterMin: 0,
    location: 'Room 3',
    status: 'scheduled',
    history: [],
    version: 1,
    createdAt: '2027-01-01T00:00:00.000Z',
    updatedAt: '2027-01-01T00:00:00.000Z',
    ...over,
  };
}

export function invoice(p: Patient, over: Partial<Invoice> = {}): Invoice {
  return {
    id: uuidv7(),
    number: `INV-2027-${String(100_000 + (n += 1)).slice(1)}`,
    patientId: p.id,
    currency: 'EUR',
    status: 'issued',
    lines: [
      {
        line: 1,
        code: 'consult-30',
        description: 'Consultation',
        quantity: 1,
        unitPrice: 12050,
        amount: 12050,
        adjusted: 0,
      },
    ],
    total: 12050,
    paid: 0,
    adjusted: 0,
    balance: 12050,
    needsPricing: false,
    refundDue: 0,
    payments: [],
    adjustments: [],
    issuedAt: '2027-03-01T09:00:00.000Z',
    dueAt: '2027-03-31',
    createdBy: 'user-1',
    version: 2,
    createdAt: '2027-03-01T09:00:00.000Z',
    updatedAt: '2027-03-01T09:00:00.000Z',
    ...over,
  };
}

export function deniedClaim(p: Patient, invoiceId: string): Claim {
  return {
    id: uuidv7(),
    invoiceId,
    patientId: p.id,
    payer: 'Acme Health',
    memberId: 'M-1',
    amount: 9000,
    currency: 'EUR',
    status: 'denied',
    denialReason: 'not covered',
    denialCode: 'CO-50',
    history: [],
    createdBy: 'user-1',
    version: 3,
    createdAt: '2027-03-01T09:00:00.000Z',
    updatedAt: '2027-03-02T09:00:00.000Z',
  };
}

export function stockItem(over: Partial<InventoryItem> = {}): InventoryItem {
  return {
    id: uuidv7(),
    sku: `AMOX-${unique()}`,
    name: 'Amoxicillin 500 mg capsules',
    category: 'antibiotics',
    unit: 'capsule',
    reorderThreshold: 50,
    reorderQuantity: 200,
    quantityOnHand: 12,
    reserved: 0,
    available: 12,
    lots: [],
    version: 1,
    createdAt: '2027-01-01T00:00:00.000Z',
    updatedAt: '2027-01-01T00:00:00.000Z',
    ...over,
  };
}

// ---- reading what the service recorded, through its API

export async function messagesOf(svc: RunningService, token: string, params: Record<string, string> = {}) {
  return (await readAllPages<NotificationSummary>(svc, '/api/v1/notifications', token, params)).items;
}

export async function messageDetail(svc: RunningService, token: string, id: string): Promise<Notification> {
  const res = await svc.request<Notification>('GET', `/api/v1/notifications/${id}`, { token });
  if (res.status !== 200) throw new Error(`GET notification ${id}: ${res.status}`);
  return res.body;
}
