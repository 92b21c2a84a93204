import { defineErrors } from '@hms/platform';

/** Every error the Pharmacy service answers beyond the kit's common ones (STYLE.md §7). */
export const PharmacyErrors = defineErrors({
  medication_not_found: { status: 404, title: 'Medication not found' },
  prescription_not_found: { status: 404, title: 'Prescription not found' },
  medication_code_exists: { status: 409, title: 'A medication with that code exists' },
  medication_inactive: { status: 409, title: 'The medication is withdrawn from the formulary' },
  patient_inactive: { status: 409, title: 'The patient is not active' },
  prescriber_not_eligible: {
    status: 409,
    title: 'The prescriber is not an active staff member with the physician role',
  },
  prescriber_not_self: {
    status: 403,
    title: 'A caller linked to a staff record prescribes as themselves',
  },
  allergy_conflict: {
    status: 409,
    title: "A prescribed medication matches one of the patient's allergies",
  },
  invalid_transition: { status: 409, title: "The prescription's status does not allow this" },
  not_fillable: {
    status: 409,
    title: 'The prescription cannot be filled (not active or filled, past its validUntil, or no fills left)',
  },
  medication_not_stocked: { status: 409, title: 'The medication names no inventory item to dispense from' },
  fill_rejected: {
    status: 409,
    title: 'The fill was rejected (short stock, a reservation timeout…) and every step compensated',
  },
});
