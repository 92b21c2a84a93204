import type { EventEnvelope, Patient, Staff, TimeOff } from '@hms/contracts';
import {
  CommonErrors,
  type Clock,
  type Db,
  type EventConsumer,
  type LocalCopy,
  type ServiceDeps,
  type Tx,
  type UpstreamClient,
} from '@hms/platform';
import type { WorkSchedule } from '@hms/scheduling';
import * as store from './store.js';

/**
 * What Appointment keeps of other services' data, so that a booking makes no HTTP call when the
 * copies are warm (DESIGN.md §5): the staff record's schedule and status and the patient's status
 * (kit local copies, read through on a miss), and Staff's time off and facility closures (tables
 * of this service, fed by Staff's events and filled from Staff once per staff member / once in
 * all when this service has never seen them). No PHI is kept: of a patient, only whether active.
 */
export interface StaffEntry extends WorkSchedule {
  active: boolean;
  department: string;
  specialties: string[];
}
export interface PatientEntry {
  active: boolean;
}

const isStaff = (b: unknown): b is Staff =>
  typeof b === 'object' &&
  b !== null &&
  typeof (b as Staff).version === 'number' &&
  typeof (b as Staff).active === 'boolean' &&
  typeof (b as Staff).timezone === 'string' &&
  Array.isArray((b as Staff).weeklyHours) &&
  Array.isArray((b as Staff).overrides);
const isPatient = (b: unknown): b is Patient =>
  typeof b === 'object' &&
  b !== null &&
  typeof (b as Patient).version === 'number' &&
  typeof (b as Patient).status === 'string';

const staffEntry = (s: Staff): StaffEntry => ({
  active: s.active,
  timezone: s.timezone,
  weeklyHours: s.weeklyHours,
  overrides: s.overrides,
  department: s.department,
  specialties: s.specialties,
});

const PAGE = 100;
/** Time off that ended before this long ago cannot matter to a booking (starts are at most 24 h past). */
const PAST_MS = 2 * 86_400_000;

export class Copies {
  readonly staff: LocalCopy<StaffEntry>;
  readonly patients: LocalCopy<PatientEntry>;
  private readonly staffService: UpstreamClient;

  constructor(
    deps: Pick<ServiceDeps, 'localCopy' | 'upstream'>,
    private readonly db: Db,
    private readonly clock: Clock,
  ) {
    this.staff = deps.localCopy<StaffEntry>({
      kind: 'staff',
      owner: 'staff',
      path: (id) => `/api/v1/staff/${id}`,
      fromOwner: (b) => (isStaff(b) ? { version: b.version, data: staffEntry(b) } : undefined),
    });
    this.patients = deps.localCopy<PatientEntry>({
      kind: 'patient',
      owner: 'patient',
      path: (id) => `/api/v1/patients/${id}`,
      fromOwner: (b) =>
        isPatient(b) ? { version: b.version, data: { active: b.status === 'active' } } : undefined,
    });
    this.staffService = deps.upstream('staff');
  }

  /**
   * The staff member's schedule and status, with their time off and the facility's closures
   * ready to read: from the copies, else filled from Staff first (503 with Retry-After when it
   * cannot answer). Undefined when Staff has no such staff member.
   */
  async staffMember(id: string): Promise<StaffEntry | undefined> {
    const [member, timeOffSynced, closuresSynced] = await Promise.all([
      this.staff.get(id),
      store.isSynced(this.db, 'time-off', id),
      store.isSynced(this.db, 'closures', '*'),
    ]);
    if (!member) return undefined;
    const since = new Date(this.clock.now().getTime() - PAST_MS).toISOString();
    if (!closuresSynced)
      await this.fill('closures', '*', `/api/v1/staff/closures?from=${since.slice(0, 10)}`, (tx, item) =>
        store.applyClosure(tx, item as { id: string; date: string }, false),
      );
    if (!timeOffSynced) {
      await this.fill(
        'time-off',
        id,
        `/api/v1/staff/${id}/time-off?from=${encodeURIComponent(since)}`,
        (tx, item) => store.applyTimeOff(tx, item as TimeOff, false),
      );
    }
    return member;
  }

  /** Reads every page of an owner's list and keeps its items, then marks the copy filled. */
  private async fill(
    kind: string,
    id: string,
    path: string,
    keep: (tx: Tx, item: unknown) => Promise<void>,
  ): Promise<void> {
    const items: unknown[] = [];
    let cursor: string | null = null;
    do {
      const sep = path.includes('?') ? '&' : '?';
      const url: string = `${path}${sep}limit=${PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res = await this.staffService.request<{ items?: unknown[]; nextCursor?: string | null }>(
        'GET',
        url,
        {
          asService: true,
        },
      );
      if (res.status !== 200 || !Array.isArray(res.body?.items))
        throw CommonErrors.unavailable(`staff could not list its ${kind}`, {
          headers: { 'retry-after': '5' },
          extensions: { upstream: 'staff' },
        });
      items.push(...res.body.items);
      cursor = res.body.nextCursor ?? null;
    } while (cursor);
    await this.db.transaction(async (tx) => {
      for (const item of items) await keep(tx, item);
      await store.markSynced(tx, kind, id, this.clock.now());
    });
  }
}

/** The events Appointment consumes: each keeps a copy current (idempotent, newest version wins). */
export function appointmentConsumers(copies: Copies): EventConsumer[] {
  return [
    {
      types: [
        'staff.onboarded.v1',
        'staff.updated.v1',
        'patient.registered.v1',
        'patient.updated.v1',
        'staff.time-off-recorded.v1',
        'staff.time-off-removed.v1',
        'staff.closure-added.v1',
        'staff.closure-removed.v1',
      ],
      handle: (tx, envelope) => apply(copies, tx, envelope),
    },
  ];
}

async function apply(copies: Copies, tx: Tx, e: EventEnvelope): Promise<void> {
  const data = e.data as Record<string, unknown>;
  switch (e.type) {
    case 'staff.onboarded.v1':
    case 'staff.updated.v1': {
      const s = data.staff as Staff;
      await copies.staff.apply(tx, s.id, { version: s.version, data: staffEntry(s) });
      return;
    }
    case 'patient.registered.v1':
    case 'patient.updated.v1': {
      const p = data.patient as Patient;
      await copies.patients.apply(tx, p.id, { version: p.version, data: { active: p.status === 'active' } });
      return;
    }
    case 'staff.time-off-recorded.v1':
    case 'staff.time-off-removed.v1':
      await store.applyTimeOff(tx, data.timeOff as TimeOff, e.type === 'staff.time-off-removed.v1');
      return;
    case 'staff.closure-added.v1':
    case 'staff.closure-removed.v1':
      await store.applyClosure(
        tx,
        data.closure as { id: string; date: string },
        e.type === 'staff.closure-removed.v1',
      );
      return;
  }
}
