import { defineErrors } from '@hms/platform';

/** Every error the Patient service answers beyond the kit's common ones (STYLE.md §7). */
export const PatientErrors = defineErrors({
  patient_not_found: { status: 404, title: 'Patient not found' },
  duplicate_patient: {
    status: 409,
    title: 'A patient with the same name and birth date is already registered',
  },
  invalid_patient: { status: 400, title: 'The patient record is not valid' },
  search_criteria_required: { status: 400, title: 'Give at least one search criterion' },
});
