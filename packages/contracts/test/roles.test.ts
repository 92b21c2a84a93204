import { describe, expect, test } from 'vitest';
import { isPermission, isRole, PERMISSIONS, permissionsOf, ROLE_NAMES, ROLES } from '@hms/contracts';

describe('roles and permissions', () => {
  test('admin holds every permission', () => {
    expect([...permissionsOf(['admin'])].sort()).toEqual([...PERMISSIONS].sort());
  });

  test('permissionsOf answers the union of the roles given', () => {
    const both = permissionsOf(['billing', 'auditor']);
    expect(both).toEqual(new Set([...ROLES.billing, ...ROLES.auditor]));
    expect(both.has('claims:adjudicate')).toBe(true);
    expect(both.has('audit:read')).toBe(true);
    expect(both.has('patients:write')).toBe(false);
  });

  test('a physician reads and writes patients but does not fill prescriptions or manage users', () => {
    const p = permissionsOf(['physician']);
    expect(p.has('patients:read')).toBe(true);
    expect(p.has('patients:write')).toBe(true);
    expect(p.has('prescriptions:fill')).toBe(false);
    expect(p.has('users:manage')).toBe(false);
  });

  test('unknown role names, and names of Object.prototype members, grant nothing', () => {
    expect(permissionsOf(['superuser', 'toString', '__proto__', 'constructor'])).toEqual(new Set());
    expect(permissionsOf([])).toEqual(new Set());
    expect(isRole('toString')).toBe(false);
    expect(isRole('nurse')).toBe(true);
  });

  test('every role grants only declared permissions, and no role is empty', () => {
    for (const role of ROLE_NAMES) {
      expect(ROLES[role].length).toBeGreaterThan(0);
      for (const p of ROLES[role]) expect(isPermission(p)).toBe(true);
    }
    expect(new Set(PERMISSIONS).size).toBe(PERMISSIONS.length);
    for (const p of PERMISSIONS) expect(p).toMatch(/^[a-z]+:[a-z]+$/);
    expect(isPermission('patients:delete')).toBe(false);
  });
});
