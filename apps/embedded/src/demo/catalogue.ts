import type { AppointmentTypeInput, InventoryItemCreate, MedicationInput } from '@hms/contracts';

/**
 * The demo hospital's reference data: what can be booked and what it costs, and the formulary
 * with the stock it is dispensed from. Prices are in minor units of the billing currency
 * (BILLING_CURRENCY, USD unless configured).
 */

export const APPOINTMENT_TYPES: (AppointmentTypeInput & { price: number })[] = [
  { code: 'consult-30', name: 'Consultation', durationMin: 30, price: 12_000 },
  { code: 'follow-up-15', name: 'Follow-up visit', durationMin: 15, price: 6_500 },
  { code: 'wound-care-30', name: 'Wound care', durationMin: 30, price: 8_000 },
  { code: 'vaccination-15', name: 'Vaccination', durationMin: 15, price: 4_500 },
];

/** A formulary entry and the stock item it is dispensed from. */
export interface Stocked {
  item: InventoryItemCreate;
  medication: Omit<MedicationInput, 'inventoryItemId'>;
  /** how a physician writes it */
  sig: { dose: string; route: string; frequency: string; quantity: number; refills: number };
}

const inYears = (today: string, years: number, month: string) =>
  `${Number(today.slice(0, 4)) + years}-${month}`;

/**
 * Six medications with their stock. Salbutamol comes first (the first prescription of the day is
 * for it, and is filled) and starts just above its reorder threshold: that fill takes it below,
 * one `inventory.stock-low.v1`, a stock alert on the dashboard.
 */
export function formulary(today: string): Stocked[] {
  const lots = (prefix: string, quantities: number[]) =>
    quantities.map((quantity, i) => ({
      lotNumber: `${prefix}-${i + 1}`,
      expiry: inYears(today, i + 1, '06-30'),
      quantity,
    }));
  return [
    {
      item: {
        sku: 'SALB-100-INH',
        name: 'Salbutamol 100 mcg inhaler',
        category: 'respiratory',
        unit: 'inhaler',
        reorderThreshold: 10,
        reorderQuantity: 40,
        supplier: 'Northgate Pharma Supply',
        lots: lots('SAL24', [11]),
      },
      medication: {
        code: '745679',
        name: 'Salbutamol 100 mcg/actuation inhaler',
        form: 'inhalation aerosol',
        strength: '100 mcg/actuation',
        unit: 'inhaler',
        ingredients: ['salbutamol'],
        drugClasses: ['beta2 agonists'],
      },
      sig: {
        dose: '2 puffs',
        route: 'inhaled',
        frequency: 'as needed, up to 4 times a day',
        quantity: 2,
        refills: 2,
      },
    },
    {
      item: {
        sku: 'AMOX-500-CAP',
        name: 'Amoxicillin 500 mg capsules',
        category: 'antibiotics',
        unit: 'capsule',
        reorderThreshold: 100,
        reorderQuantity: 500,
        supplier: 'Northgate Pharma Supply',
        lots: lots('AMX24', [300, 400]),
      },
      medication: {
        code: '308191',
        name: 'Amoxicillin 500 mg oral capsule',
        form: 'capsule',
        strength: '500 mg',
        unit: 'capsule',
        ingredients: ['amoxicillin'],
        drugClasses: ['penicillins'],
      },
      sig: { dose: '500 mg', route: 'oral', frequency: 'three times a day', quantity: 21, refills: 0 },
    },
    {
      item: {
        sku: 'IBU-400-TAB',
        name: 'Ibuprofen 400 mg tablets',
        category: 'analgesics',
        unit: 'tablet',
        reorderThreshold: 100,
        reorderQuantity: 1000,
        supplier: 'Northgate Pharma Supply',
        lots: lots('IBU24', [600]),
      },
      medication: {
        code: '310965',
        name: 'Ibuprofen 400 mg oral tablet',
        form: 'tablet',
        strength: '400 mg',
        unit: 'tablet',
        ingredients: ['ibuprofen'],
        drugClasses: ['NSAIDs'],
      },
      sig: { dose: '400 mg', route: 'oral', frequency: 'every 8 hours as needed', quantity: 20, refills: 1 },
    },
    {
      item: {
        sku: 'ATOR-20-TAB',
        name: 'Atorvastatin 20 mg tablets',
        category: 'cardiovascular',
        unit: 'tablet',
        reorderThreshold: 60,
        reorderQuantity: 600,
        supplier: 'Harbourline Medical',
        lots: lots('ATV24', [360]),
      },
      medication: {
        code: '617310',
        name: 'Atorvastatin 20 mg oral tablet',
        form: 'tablet',
        strength: '20 mg',
        unit: 'tablet',
        ingredients: ['atorvastatin'],
        drugClasses: ['statins'],
      },
      sig: { dose: '20 mg', route: 'oral', frequency: 'once daily at night', quantity: 30, refills: 5 },
    },
    {
      item: {
        sku: 'METF-500-TAB',
        name: 'Metformin 500 mg tablets',
        category: 'antidiabetics',
        unit: 'tablet',
        reorderThreshold: 120,
        reorderQuantity: 1000,
        supplier: 'Harbourline Medical',
        lots: lots('MET24', [500, 500]),
      },
      medication: {
        code: '861007',
        name: 'Metformin 500 mg oral tablet',
        form: 'tablet',
        strength: '500 mg',
        unit: 'tablet',
        ingredients: ['metformin'],
        drugClasses: ['biguanides'],
      },
      sig: { dose: '500 mg', route: 'oral', frequency: 'twice daily with meals', quantity: 60, refills: 3 },
    },
    {
      item: {
        sku: 'CETI-10-TAB',
        name: 'Cetirizine 10 mg tablets',
        category: 'antihistamines',
        unit: 'tablet',
        reorderThreshold: 50,
        reorderQuantity: 300,
        supplier: 'Harbourline Medical',
        lots: lots('CET24', [250]),
      },
      medication: {
        code: '1014678',
        name: 'Cetirizine 10 mg oral tablet',
        form: 'tablet',
        strength: '10 mg',
        unit: 'tablet',
        ingredients: ['cetirizine'],
        drugClasses: ['antihistamines'],
      },
      sig: { dose: '10 mg', route: 'oral', frequency: 'once daily', quantity: 30, refills: 1 },
    },
  ];
}
