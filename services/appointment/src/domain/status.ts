import type { AppointmentStatus } from '@hms/contracts';

/** The appointment's life (DOMAIN.md "Appointment") as a pure state machine: no I/O here. */
export type AppointmentAction = 'check-in' | 'complete' | 'no-show' | 'cancel' | 'reschedule' | 'update';

const NEXT: Record<AppointmentStatus, Partial<Record<AppointmentAction, AppointmentStatus>>> = {
  scheduled: {
    'check-in': 'checked-in',
    'no-show': 'no-show',
    cancel: 'cancelled',
    reschedule: 'scheduled',
    update: 'scheduled',
  },
  'checked-in': { complete: 'completed', update: 'checked-in' },
  completed: {},
  cancelled: {},
  'no-show': {},
};

/** The status after `action`, or undefined when the action is not allowed from `status`. */
export function transition(
  status: AppointmentStatus,
  action: AppointmentAction,
): AppointmentStatus | undefined {
  return NEXT[status][action];
}

/** Statuses that hold the slot: the overlap constraints apply to them. */
export const ACTIVE_STATUSES: readonly AppointmentStatus[] = ['scheduled', 'checked-in'];
