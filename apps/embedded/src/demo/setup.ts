import type {
  AppointmentType,
  FeeScheduleEntry,
  InventoryItem,
  Medication,
  Patient,
  PatientInput,
  Staff,
} from '@hms/contracts';
import { APPOINTMENT_TYPES, formulary, type Stocked } from './catalogue.js';
import { inPool, type Caller } from './http.js';
import { syntheticPatients, syntheticStaff } from './people.js';
import type { Random } from './random.js';
import type { BookableType } from './schedule.js';

/** The demo users the seeding acts as, one per role it needs. */
export interface Actors {
  desk: Caller;
  manager: Caller;
  physician: Caller;
  nurse: Caller;
  pharmacist: Caller;
  billing: Caller;
}

/** Requests at once: enough to overlap the HTTP round trips, few enough for the one embedded PGlite. */
export const CONCURRENCY = 4;

export interface Clinic {
  clinicians: { staff: Staff; types: BookableType[] }[];
  patients: { id: string; input: PatientInput }[];
  formulary: { medication: Medication; stocked: Stocked }[];
}

const bookable = (codes: readonly string[]): BookableType[] =>
  codes.map((code) => {
    const t = APPOINTMENT_TYPES.find((x) => x.code === code);
    if (!t) throw new Error(`no appointment type ${code} in the catalogue`);
    return { code, durationMin: t.durationMin };
  });

/**
 * The hospital before its first patient: staff onboarded by the manager, appointment types set
 * up by the front desk and priced by billing, stock received and the formulary written by the
 * pharmacist, and the patients registered at the desk.
 */
export async function openClinic(
  as: Actors,
  random: Random,
  opts: { timezone: string; today: string; patients: number },
): Promise<Clinic> {
  const staff = syntheticStaff(opts.timezone);
  const [clinicians, , , stock, patients] = await Promise.all([
    inPool(staff.clinicians, CONCURRENCY, async (c) => ({
      staff: await as.manager.post<Staff>('/api/v1/staff', c.input),
      types: bookable(c.types),
    })),
    inPool(staff.others, CONCURRENCY, (input) => as.manager.post<Staff>('/api/v1/staff', input)),
    inPool(APPOINTMENT_TYPES, CONCURRENCY, async ({ price, ...type }) => {
      await as.desk.post<AppointmentType>('/api/v1/appointments/types', type);
      return as.billing.put<FeeScheduleEntry>(`/api/v1/billing/fee-schedule/${type.code}`, {
        description: type.name,
        unitPrice: price,
      });
    }),
    inPool(formulary(opts.today), CONCURRENCY, async (stocked) => {
      const item = await as.pharmacist.post<InventoryItem>('/api/v1/inventory', stocked.item);
      const medication = await as.pharmacist.post<Medication>('/api/v1/medications', {
        ...stocked.medication,
        inventoryItemId: item.id,
      });
      return { medication, stocked };
    }),
    inPool(syntheticPatients(random, opts.patients), CONCURRENCY, async (input) => ({
      id: (await as.desk.post<Patient>('/api/v1/patients', input)).id,
      input,
    })),
  ]);
  return { clinicians, patients, formulary: stock };
}
