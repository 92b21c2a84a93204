import type { Prescription, PrescriptionFill } from '@hms/contracts';
import type { Visit } from './clinic.js';
import { inPool } from './http.js';
import { CONCURRENCY, type Actors, type Clinic } from './setup.js';

export interface Dispensing {
  prescribed: number;
  filled: number;
}

/** Does a medication name (as ingredient or drug class) one of the patient's allergy substances? */
function matchesAllergy(terms: readonly string[], allergies: readonly { substance: string }[]): boolean {
  const lower = terms.map((t) => t.toLowerCase());
  return allergies.some((a) => lower.some((t) => t.includes(a.substance.toLowerCase())));
}

/**
 * The day at the pharmacy: the physician of each completed visit prescribes (the medications in
 * turn through the formulary, never one the patient is allergic to), and the pharmacist fills two
 * prescriptions in three at once, each through the dispensing saga with Inventory.
 */
export async function runPharmacy(as: Actors, clinic: Clinic, visits: Visit[]): Promise<Dispensing> {
  const seen = visits.filter((v) => v.outcome === 'completed' && v.role === 'physician');
  const patientOf = new Map(clinic.patients.map((p) => [p.id, p.input]));
  const orders = seen.flatMap((v, i) => {
    const allergies = patientOf.get(v.appointment.patientId)?.allergies ?? [];
    const safe = clinic.formulary.filter(
      (f) =>
        !matchesAllergy(
          [...f.stocked.medication.ingredients, ...(f.stocked.medication.drugClasses ?? [])],
          allergies,
        ),
    );
    const chosen = safe[i % Math.max(safe.length, 1)];
    return chosen ? [{ visit: v, chosen, fill: i % 3 !== 2 }] : [];
  });
  const outcomes = await inPool(orders, CONCURRENCY, async ({ visit, chosen, fill }) => {
    const prescription = await as.physician.post<Prescription>('/api/v1/prescriptions', {
      patientId: visit.appointment.patientId,
      prescriberId: visit.appointment.staffId,
      items: [{ medicationId: chosen.medication.id, ...chosen.stocked.sig }],
    });
    if (!fill) return false;
    await as.pharmacist.post<PrescriptionFill>(`/api/v1/prescriptions/${prescription.id}/fill`);
    return true;
  });
  return { prescribed: orders.length, filled: outcomes.filter(Boolean).length };
}
