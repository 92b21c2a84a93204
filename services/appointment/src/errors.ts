import { defineErrors } from '@hms/platform';

/** Every error the Appointment service answers beyond the kit's common ones (STYLE.md §7). */
export const AppointmentErrors = defineErrors({
  appointment_not_found: { status: 404, title: 'Appointment not found' },
  appointment_type_not_found: { status: 404, title: 'Appointment type not found' },
  appointment_type_exists: { status: 409, title: 'An appointment type with that code exists' },
  appointment_conflict: {
    status: 409,
    title: 'The slot overlaps another active appointment of the staff member or the patient',
  },
  slot_unavailable: { status: 409, title: "The slot is not in the staff member's availability" },
  illegal_transition: { status: 409, title: 'The appointment cannot make that transition from its status' },
  patient_inactive: { status: 409, title: 'The patient is not active' },
  staff_inactive: { status: 409, title: 'The staff member is not active' },
  appointment_type_inactive: { status: 409, title: 'The appointment type is not offered any more' },
});
