import type { PatientInput, StaffInput, WeeklyShift } from '@hms/contracts';
import { WEEKDAYS } from '@hms/contracts';
import type { Random } from './random.js';

/**
 * The demo hospital's people, invented: names put together from word lists (no real person is
 * meant), phone numbers from Ofcom's range reserved for drama (+44 20 7946 0xxx), addresses at
 * example.org and example.com, insurers with made-up names.
 */

const GIVEN = {
  female: ['Amara', 'Brynn', 'Calla', 'Delphine', 'Elowen', 'Farah', 'Greta', 'Hollis', 'Ines', 'Juno'],
  male: ['Anselm', 'Bastian', 'Cormac', 'Dario', 'Emrys', 'Felix', 'Gideon', 'Hamish', 'Idris', 'Jarek'],
} as const;
const FAMILY = [
  'Ashdown',
  'Birchwood',
  'Calloway',
  'Dunmore',
  'Elderfield',
  'Fairbrook',
  'Glenholm',
  'Hartwell',
  'Ivesdale',
  'Kestrel',
  'Larkspur',
  'Merriweather',
  'Northcote',
  'Oakhurst',
  'Pemberly',
  'Quillfeather',
  'Rowanberry',
  'Stonebridge',
  'Thistlewood',
  'Underhill',
] as const;
export const PAYERS = ['Northwind Health', 'Contoso Mutual', 'Fabrikam Care'] as const;
const ALLERGIES = [
  { substance: 'penicillin', reaction: 'rash', severity: 'moderate' },
  { substance: 'latex', reaction: 'hives', severity: 'mild' },
  { substance: 'sulfonamides', reaction: 'swelling', severity: 'severe' },
] as const;
const CITIES = ['Riverton', 'Millbrook', 'Ashford Vale', 'Kingsmere'] as const;

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** `count` patients with distinct names; about 60 % insured, some with an allergy or an address. */
export function syntheticPatients(random: Random, count: number): PatientInput[] {
  const patients: PatientInput[] = [];
  const used = new Set<string>();
  while (patients.length < count) {
    const sex = random.chance(0.5) ? 'female' : 'male';
    const givenName = random.pick(GIVEN[sex]);
    const familyName = random.pick(FAMILY);
    if (used.has(`${givenName} ${familyName}`)) continue; // the duplicate guard would ask to confirm
    used.add(`${givenName} ${familyName}`);
    const n = patients.length;
    const email = `${givenName}.${familyName}@${n % 2 ? 'example.com' : 'example.org'}`.toLowerCase();
    const p: PatientInput = {
      givenName,
      familyName,
      birthDate: `${random.int(1938, 2019)}-${pad(random.int(1, 12), 2)}-${pad(random.int(1, 28), 2)}`,
      sex,
      email,
      ...(random.chance(0.8) ? { phone: `+44 20 7946 0${pad(100 + n, 3)}` } : {}),
    };
    if (random.chance(0.6))
      p.insurance = {
        payer: random.pick(PAYERS),
        memberId: `M-${pad(random.int(100_000, 999_999), 6)}`,
        groupNumber: `G-${random.int(10, 99)}`,
      };
    if (random.chance(0.2)) p.allergies = [{ ...random.pick(ALLERGIES) }];
    if (random.chance(0.5))
      p.address = {
        line1: `${random.int(1, 120)} ${random.pick(FAMILY)} Lane`,
        city: random.pick(CITIES),
        postalCode: `ZZ${random.int(1, 9)} ${random.int(1, 9)}XX`,
        country: 'GB',
      };
    patients.push(p);
  }
  return patients;
}

/** Five working days a week, the two days off moving along the week with `offset`. */
function fiveDays(offset: number, start: string, end: string): WeeklyShift[] {
  const off = new Set([WEEKDAYS[offset % 7], WEEKDAYS[(offset + 1) % 7]]);
  return WEEKDAYS.filter((day) => !off.has(day)).map((day) => ({ day, start, end }));
}

/** Who sees patients: their record, and the appointment types they are booked for. */
export interface Clinician {
  input: StaffInput;
  /** the types a booking with them takes, the longest first (slots are asked for it) */
  types: readonly string[];
}

/**
 * The staff: four physicians and three nurses who see patients (every day has at least two of
 * each at work, so a demo run on any day has a clinic), and a pharmacist. Working hours are in
 * the facility's time zone.
 */
export function syntheticStaff(timezone: string): { clinicians: Clinician[]; others: StaffInput[] } {
  const physician = (
    i: number,
    givenName: string,
    familyName: string,
    department: string,
    specialty: string,
  ) => ({
    input: {
      givenName,
      familyName,
      role: 'physician' as const,
      department,
      specialties: [specialty],
      licenseNumber: `GMC-DEMO-${pad(i + 1, 4)}`,
      email: `dr.${familyName.toLowerCase()}@clinic.example.org`,
      timezone,
      weeklyHours: fiveDays(2 * i, '08:00', '18:00'),
    },
    types: ['consult-30', 'follow-up-15'],
  });
  const nurse = (i: number, givenName: string, familyName: string, start: string, end: string) => ({
    input: {
      givenName,
      familyName,
      role: 'nurse' as const,
      department: 'Outpatient Nursing',
      specialties: ['wound care', 'immunisation'],
      licenseNumber: `NMC-DEMO-${pad(i + 1, 4)}`,
      email: `nurse.${familyName.toLowerCase()}@clinic.example.org`,
      timezone,
      weeklyHours: fiveDays(2 * i + 1, start, end),
    },
    types: ['wound-care-30', 'vaccination-15'],
  });
  return {
    clinicians: [
      physician(0, 'Morwenna', 'Ashgrove', 'General Medicine', 'family medicine'),
      physician(1, 'Tobias', 'Wrenfield', 'Cardiology', 'cardiology'),
      physician(2, 'Ysolde', 'Carrow', 'Paediatrics', 'paediatrics'),
      physician(3, 'Lucan', 'Fenwright', 'Dermatology', 'dermatology'),
      nurse(0, 'Petra', 'Holloway', '07:00', '15:00'),
      nurse(1, 'Caspian', 'Reedmoor', '11:00', '19:00'),
      nurse(2, 'Saffron', 'Elmsworth', '08:00', '16:00'),
    ],
    others: [
      {
        givenName: 'Oswin',
        familyName: 'Bramblecote',
        role: 'pharmacist',
        department: 'Pharmacy',
        licenseNumber: 'GPHC-DEMO-0001',
        email: 'pharmacy@clinic.example.org',
        timezone,
        weeklyHours: fiveDays(0, '08:00', '17:00'),
      },
    ],
  };
}
