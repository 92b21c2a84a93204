import { defineErrors } from '@hms/platform';

/** Every error the Audit service answers beyond the kit's common ones (STYLE.md §7). */
export const AuditErrors = defineErrors({
  record_not_found: { status: 404, title: 'Audit record not found' },
  checkpoint_not_found: { status: 404, title: 'No exported checkpoint signs that seq' },
  trail_empty: { status: 409, title: 'The trail holds no record to sign a checkpoint of' },
});
