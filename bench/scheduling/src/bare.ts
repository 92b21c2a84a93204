/**
 * The baseline of the booking measurement: the same write with bare `pg` and nothing else. One
 * transaction per booking, on one of `connections` pooled connections: BEGIN; INSERT the
 * appointment (the exclusion constraints and indexes check it); INSERT its outbox row (an
 * `appointment.created.v1` envelope shaped as the service's); COMMIT. Named (prepared)
 * statements, four round trips, no validation, no HTTP, no reads.
 */
import { dataSchemaUri } from '@hms/contracts';
import { uuidv7 } from '@hms/platform';
import pg from 'pg';
import { BARE_SCHEMA, BOOKING_TYPE, type BookingPlan } from './seed.js';

const MINUTE = 60_000;
const BY = 'bench-user';

const INSERT_APPOINTMENT = `INSERT INTO appointments (id, patient_id, staff_id, type, starts_at, ends_at,
    buffer_before_min, buffer_after_min, busy_from, busy_to, status, history, version, created_at, updated_at)
  VALUES ($1, $2, $3, $4, $5, $6, 0, 0, $5, $6, 'scheduled', $7, 1, $8, $8)`;
const INSERT_OUTBOX = 'INSERT INTO outbox (id, type, subject, envelope) VALUES ($1, $2, $3, $4)';

export class BareBookings {
  private readonly pool: pg.Pool;

  constructor(
    url: string,
    private readonly connections: number,
    private readonly plan: BookingPlan,
  ) {
    this.pool = new pg.Pool({
      connectionString: url,
      max: connections,
      application_name: 'hms-bench-bare',
      options: `-c search_path=${BARE_SCHEMA},public`,
    });
  }

  /** One booking, committed. */
  async book(): Promise<number> {
    const { staffId, patientId, start } = this.plan.next();
    const now = new Date().toISOString();
    const id = uuidv7();
    const startIso = new Date(start).toISOString();
    const endIso = new Date(start + BOOKING_TYPE.durationMin * MINUTE).toISOString();
    const history = [{ at: now, action: 'booked', by: BY }];
    const envelope = {
      specversion: '1.0',
      id: uuidv7(),
      type: 'appointment.created.v1',
      source: '/hms/appointment',
      time: now,
      subject: id,
      dataschema: dataSchemaUri('appointment.created.v1'),
      datacontenttype: 'application/json',
      data: {
        appointment: {
          id,
          patientId,
          staffId,
          type: BOOKING_TYPE.code,
          start: startIso,
          end: endIso,
          bufferBeforeMin: 0,
          bufferAfterMin: 0,
          status: 'scheduled',
          history,
          version: 1,
          createdAt: now,
          updatedAt: now,
        },
      },
    };
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query({
        name: 'bare-appointment',
        text: INSERT_APPOINTMENT,
        values: [id, patientId, staffId, BOOKING_TYPE.code, startIso, endIso, JSON.stringify(history), now],
      });
      await client.query({
        name: 'bare-outbox',
        text: INSERT_OUTBOX,
        values: [envelope.id, envelope.type, id, JSON.stringify(envelope)],
      });
      await client.query('COMMIT');
      client.release();
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release(true);
      throw err;
    }
    return 1;
  }

  /** Opens every connection before the first measured slice. */
  async open(): Promise<void> {
    const clients = await Promise.all(Array.from({ length: this.connections }, () => this.pool.connect()));
    for (const c of clients) c.release();
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
