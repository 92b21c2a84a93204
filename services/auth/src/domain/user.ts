import { permissionsOf } from '@hms/contracts';
import type { User, UserPatch } from '../schemas.js';

/** Pure rules of user records (STYLE.md §3). */

/** The fields an administrator manages; a change to any of them is a new version and an event. */
export const MANAGED_FIELDS = ['roles', 'status', 'fullName', 'email', 'staffId'] as const;
export type ManagedField = (typeof MANAGED_FIELDS)[number];

export interface Managed {
  roles: string[];
  status: User['status'];
  fullName: string;
  email?: string | undefined;
  staffId?: string | undefined;
}

/** RFC 7396 merge patch of the managed fields: `null` removes an optional one. */
export function applyPatch(current: Managed, patch: UserPatch): Managed {
  const next: Managed = { ...current };
  if (patch.roles !== undefined) next.roles = [...patch.roles];
  if (patch.status !== undefined) next.status = patch.status;
  if (patch.fullName !== undefined) next.fullName = patch.fullName.trim();
  if (patch.email !== undefined) next.email = patch.email ?? undefined;
  if (patch.staffId !== undefined) next.staffId = patch.staffId ?? undefined;
  return next;
}

const sameRoles = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && [...a].sort().join(' ') === [...b].sort().join(' ');

export function changedFields(before: Managed, after: Managed): ManagedField[] {
  return MANAGED_FIELDS.filter((f) =>
    f === 'roles' ? !sameRoles(before.roles, after.roles) : (before[f] ?? null) !== (after[f] ?? null),
  );
}

/**
 * Whether a change must end the user's sessions at once rather than when their access tokens
 * expire: the user may no longer log in, lost a permission, or now acts as another staff member.
 */
export function sessionsMustEnd(before: Managed, after: Managed): boolean {
  if (after.status !== 'active') return before.status === 'active';
  const kept = permissionsOf(after.roles);
  if ([...permissionsOf(before.roles)].some((p) => !kept.has(p))) return true;
  return (before.staffId ?? null) !== (after.staffId ?? null);
}

export const isActiveAdmin = (u: Pick<Managed, 'roles' | 'status'>) =>
  u.status === 'active' && u.roles.includes('admin');

/** The space-separated `scope` claim of a set of roles, in a stable order. */
export function scopeOf(roles: readonly string[]): string {
  return [...permissionsOf(roles)].sort().join(' ');
}
