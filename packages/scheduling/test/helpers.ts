import type { Interval } from '@hms/scheduling';

/** Expected instants are literals in UTC, never computed with the library under test. */
export const at = (iso: string): number => Date.parse(iso);
export const iv = (start: string, end: string): Interval => ({ start: at(start), end: at(end) });
export const hours = (i: Interval): number => (i.end - i.start) / 3_600_000;
