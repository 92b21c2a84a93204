import type { EventEnvelope } from '@hms/contracts';
import { buildEnvelope } from '@hms/platform';
import pg from 'pg';
import { backends, startCpu, type CpuPerEvent } from './cpu.js';
import { registration } from './events.js';
import { wallMs } from './stats.js';

/**
 * The floor: the full path's two database transactions written directly with `pg`, no kit, each
 * in ONE round trip (pg's pipeline mode, the statements prepared, the socket corked so that a
 * transaction is one write), with the envelopes built beforehand. Not a design to adopt (the
 * inbox cannot know which events are new before it applies them; nothing here checks a schema,
 * traces or logs): the least CPU this machine can spend on each event's database work, so the
 * notes can say whether the target is reachable at all. The broker's share is the baseline's.
 *
 * - producer: BEGIN; INSERT admissions; INSERT outbox (the envelope as jsonb); COMMIT, from
 *   `producers` connections in a closed loop;
 * - consumer: per batch of `batch` events, BEGIN; the inbox rows (one unnest INSERT … ON CONFLICT
 *   DO NOTHING); each event's upsert of the patient copy; COMMIT, from two connections (the
 *   inbox's two transactions at once).
 */
export interface FloorSide {
  events: number;
  eventsPerSec: number;
  cpu: CpuPerEvent;
}

const ADMIT = { name: 'floor_admit', text: 'INSERT INTO admissions (patient_id, ward) VALUES ($1, $2)' };
const OUTBOX = {
  name: 'floor_outbox',
  text: 'INSERT INTO outbox (id, type, subject, envelope) VALUES ($1, $2, $3, $4)',
};
const INBOX = {
  name: 'floor_inbox',
  text: `INSERT INTO inbox (consumer, event_id, type)
         SELECT $1, e.id, e.type FROM unnest($2::uuid[], $3::text[]) AS e(id, type)
         ON CONFLICT DO NOTHING`,
};
const COPY = {
  name: 'floor_copy',
  text: `INSERT INTO patient_copies (id, version, data) VALUES ($1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, data = EXCLUDED.data
         WHERE patient_copies.version < EXCLUDED.version`,
};

async function clients(url: string, schema: string, n: number): Promise<pg.Client[]> {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const c = new pg.Client({
        connectionString: url,
        options: `-c search_path=${schema},public`,
        application_name: 'floor',
        pipeline: true,
      });
      await c.connect();
      return c;
    }),
  );
}

/** Sends the statements as one write; resolves with the last one's answer. */
function inOneWrite(client: pg.Client, send: () => Promise<unknown>[]): Promise<unknown> {
  const stream = (client as unknown as { connection: { stream: { cork(): void; uncork(): void } } })
    .connection.stream;
  stream.cork();
  let answers: Promise<unknown>[];
  try {
    answers = send();
  } finally {
    stream.uncork();
  }
  return Promise.all(answers);
}

async function closedLoop(
  conns: pg.Client[],
  jobs: number,
  step: (c: pg.Client, i: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    conns.map(async (c) => {
      while (next < jobs) await step(c, next++);
    }),
  );
}

export async function floor(opts: {
  serverUrl: string;
  emitterUrl: string;
  receiverUrl: string;
  emitterDatabase: string;
  receiverDatabase: string;
  events: number;
  producers: number;
  batch?: number;
}): Promise<{ producer: FloorSide; consumer: FloorSide }> {
  const batch = opts.batch ?? 32;
  const envelopes: EventEnvelope[] = Array.from({ length: opts.events }, () =>
    buildEnvelope('patient', registration()),
  );
  const texts = envelopes.map((e) => JSON.stringify(e));
  const own = (groups: Record<string, number[]>) => ({ 'bench process (floor)': [process.pid], ...groups });

  // producer
  const producers = await clients(opts.emitterUrl, 'emitter', opts.producers);
  let cpu = startCpu(own(await backends(opts.serverUrl, [opts.emitterDatabase])));
  let t0 = wallMs();
  await closedLoop(producers, opts.events, (c, i) => {
    const e = envelopes[i] as EventEnvelope;
    return inOneWrite(c, () => [
      c.query('BEGIN'),
      c.query({ ...ADMIT, values: [e.subject, 'A&E'] }),
      c.query({ ...OUTBOX, values: [e.id, e.type, e.subject, texts[i]] }),
      c.query('COMMIT'),
    ]);
  });
  const producer = {
    events: opts.events,
    eventsPerSec: opts.events / ((wallMs() - t0) / 1000),
    cpu: cpu.stop(opts.events),
  };
  await Promise.all(producers.map((c) => c.end()));

  // consumer
  const consumers = await clients(opts.receiverUrl, 'receiver', 2);
  const batches = Math.ceil(opts.events / batch);
  cpu = startCpu(own(await backends(opts.serverUrl, [opts.receiverDatabase])));
  t0 = wallMs();
  await closedLoop(consumers, batches, (c, b) => {
    const slice = envelopes.slice(b * batch, (b + 1) * batch);
    return inOneWrite(c, () => [
      c.query('BEGIN'),
      c.query({ ...INBOX, values: ['floor', slice.map((e) => e.id), slice.map((e) => e.type)] }),
      ...slice.map((e) => {
        const { patient } = e.data as { patient: { id: string; version: number } };
        return c.query({ ...COPY, values: [patient.id, patient.version, JSON.stringify(patient)] });
      }),
      c.query('COMMIT'),
    ]);
  });
  const consumer = {
    events: opts.events,
    eventsPerSec: opts.events / ((wallMs() - t0) / 1000),
    cpu: cpu.stop(opts.events),
  };
  await Promise.all(consumers.map((c) => c.end()));
  return { producer, consumer };
}
