import { defineErrors } from '@hms/platform';

/** Every error the Analytics service answers beyond the kit's common ones (STYLE.md §7). */
export const AnalyticsErrors = defineErrors({
  rebuild_not_found: { status: 404, title: 'Rebuild not found' },
});
