import type {
  Medication,
  MedicationInput,
  PatientInput,
  Prescription,
  Staff,
  StaffInput,
} from '@hms/contracts';
import { inventoryService } from '@hms/inventory';
import { patientService } from '@hms/patient';
import { staffService } from '@hms/staff';
import type { Clock } from '@hms/platform';
import {
  createTestBus,
  createTestKeys,
  startService,
  type RunningService,
  type TestKeys,
} from '@hms/testkit';
import { postCreated, useStarted } from '@hms/testkit/vitest';
import { expect } from 'vitest';
import { pharmacyService } from '../src/service.js';

export const MEDICATIONS = '/api/v1/medications';
export const PRESCRIPTIONS = '/api/v1/prescriptions';

/**
 * Staff, Patient and Pharmacy on one bus with one set of keys: Pharmacy hears their events and
 * reads through to them (STAFF_URL, PATIENT_URL) on a miss.
 */
export interface World {
  staff: RunningService;
  patient: RunningService;
  pharmacy: RunningService;
  /** Inventory, on the same bus: the saga reserves there and it consumes medication.dispensed.v1. */
  inventory: RunningService;
  keys: TestKeys;
  /** An active physician's staff record, and a token of a user linked to it. */
  physician: Staff;
  tokens: {
    /** physician linked to `physician`: prescriptions:read|write, medications:read */
    physician: string;
    /** admin, linked to no staff record: every permission; prescribes naming the prescriber */
    admin: string;
    /** pharmacist: prescriptions:read|fill, medications:read|write|dispense */
    pharmacist: string;
    /** nurse: prescriptions:read, medications:read */
    nurse: string;
    /** receptionist: patients:read|write */
    desk: string;
    /** manager: staff:read|write */
    manager: string;
  };
  close(): Promise<void>;
}

export async function startWorld(
  opts: { pharmacyEnv?: NodeJS.ProcessEnv; pharmacyClock?: Clock } = {},
): Promise<World> {
  const keys = await createTestKeys();
  const bus = await createTestBus();
  const staff = await startService(staffService, { keys, bus: bus.bus });
  const patient = await startService(patientService, { keys, bus: bus.bus });
  const inventory = await startService(inventoryService, { keys, bus: bus.bus });
  const pharmacy = await startService(pharmacyService, {
    keys,
    bus: bus.bus,
    env: {
      STAFF_URL: staff.url,
      PATIENT_URL: patient.url,
      INVENTORY_URL: inventory.url,
      ...opts.pharmacyEnv,
    },
    ...(opts.pharmacyClock ? { clock: opts.pharmacyClock } : {}),
  });
  const manager = await keys.mint({ roles: ['manager'] });
  const physician = await postCreated<Staff>(staff, '/api/v1/staff', manager, staffInput());
  return {
    staff,
    patient,
    pharmacy,
    inventory,
    keys,
    physician,
    tokens: {
      physician: await keys.mint({ roles: ['physician'], staffId: physician.id }),
      admin: await keys.mint({ roles: ['admin'] }),
      pharmacist: await keys.mint({ roles: ['pharmacist'] }),
      nurse: await keys.mint({ roles: ['nurse'] }),
      desk: await keys.mint({ roles: ['receptionist'] }),
      manager,
    },
    async close() {
      await pharmacy.close();
      await inventory.close();
      await patient.close();
      await staff.close();
      await bus.close();
    },
  };
}

/** The world for this test file. */
export const useWorld = (opts: Parameters<typeof startWorld>[0] = {}) =>
  useStarted(() => startWorld(opts), 60_000);

let n = 0;
export const unique = () => `${Date.now().toString(36)}${(n += 1)}`;

export function staffInput(overrides: Partial<StaffInput> = {}): StaffInput {
  return {
    givenName: 'Gregory',
    familyName: `House${unique()}`,
    role: 'physician',
    department: 'Internal medicine',
    timezone: 'Europe/London',
    ...overrides,
  };
}

export function patientInput(overrides: Partial<PatientInput> = {}): PatientInput {
  return {
    givenName: 'Ada',
    familyName: `Lovelace${unique()}`,
    birthDate: '1985-12-10',
    sex: 'female',
    ...overrides,
  };
}

/** Amoxicillin 500 mg capsules (RxNorm 308191), of the class `penicillins`, with a unique code. */
export function amoxicillin(overrides: Partial<MedicationInput> = {}): MedicationInput {
  return {
    code: `308191-${unique()}`,
    name: 'Amoxicillin 500 mg oral capsule',
    form: 'capsule',
    strength: '500 mg',
    unit: 'capsule',
    ingredients: ['amoxicillin'],
    drugClasses: ['penicillins', 'beta-lactam antibacterials'],
    ...overrides,
  };
}

/** Paracetamol 500 mg tablets: matches none of the allergies the tests record. */
export function paracetamol(overrides: Partial<MedicationInput> = {}): MedicationInput {
  return {
    code: `198440-${unique()}`,
    name: 'Acetaminophen 500 mg oral tablet',
    form: 'tablet',
    strength: '500 mg',
    unit: 'tablet',
    ingredients: ['acetaminophen'],
    drugClasses: ['analgesics'],
    ...overrides,
  };
}

export const onboard = (w: World, input: Partial<StaffInput> = {}) =>
  postCreated<Staff>(w.staff, '/api/v1/staff', w.tokens.manager, staffInput(input));

export const register = (w: World, input: Partial<PatientInput> = {}) =>
  postCreated<{ id: string; version: number }>(
    w.patient,
    '/api/v1/patients?confirmDuplicate=true',
    w.tokens.desk,
    patientInput(input),
  );

export const addMedication = (w: World, input: MedicationInput = paracetamol()) =>
  postCreated<Medication>(w.pharmacy, MEDICATIONS, w.tokens.pharmacist, input);

/** One item of a medication: 1 capsule three times a day, 21 units, no refills unless told. */
export const item = (medicationId: string, overrides: Record<string, unknown> = {}) => ({
  medicationId,
  dose: '1 capsule',
  route: 'oral',
  frequency: 'three times a day',
  quantity: 21,
  ...overrides,
});

export const prescribe = (w: World, body: Record<string, unknown>, token = w.tokens.physician) =>
  w.pharmacy.request<Prescription & Record<string, unknown>>('POST', PRESCRIPTIONS, { token, body });

/** Prescribes and fails the test unless 201. */
export async function prescribed(
  w: World,
  body: Record<string, unknown>,
  token?: string,
): Promise<Prescription> {
  const res = await prescribe(w, body, token);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

/** What Pharmacy's database holds: a refused request must change none of it. */
export async function counts(svc: RunningService) {
  const { rows } = await svc.db.query<Record<string, number>>(
    `SELECT (SELECT count(*) FROM medications)::int AS medications,
            (SELECT coalesce(sum(version), 0) FROM medications)::int AS "medicationVersions",
            (SELECT count(*) FROM prescriptions)::int AS prescriptions,
            (SELECT coalesce(sum(version), 0) FROM prescriptions)::int AS "prescriptionVersions",
            (SELECT count(*) FROM prescription_items)::int AS items,
            (SELECT count(*) FROM outbox)::int AS outbox`,
  );
  return rows[0] as Record<string, number>;
}

/** A clock a test moves by hand: `set(iso)`; `now()` answers the instant last set. */
export function settableClock(iso: string): Clock & { set(iso: string): void } {
  let at = Date.parse(iso);
  return {
    now: () => new Date(at),
    set(next: string) {
      at = Date.parse(next);
    },
  };
}

/** Polls `check` until it answers true (or fails the test after `timeoutMs`). */
export async function eventually(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
