/**
 * Roles and permissions, defined once for the whole platform (DOMAIN.md "Roles and permissions").
 * The gateway and every service enforce the same table; tokens carry the resulting permissions
 * in `scope`, and the guard also re-derives them from `roles` so a change here applies at once.
 */
export const PERMISSIONS = [
  'patients:read',
  'patients:write',
  'appointments:read',
  'appointments:write',
  'staff:read',
  'staff:write',
  'prescriptions:read',
  'prescriptions:write',
  'prescriptions:fill',
  'medications:read',
  'medications:write',
  'medications:dispense',
  'inventory:read',
  'inventory:write',
  'inventory:approve',
  'billing:read',
  'billing:write',
  'billing:collect',
  'claims:adjudicate',
  'audit:read',
  'audit:manage',
  'analytics:read',
  'analytics:manage',
  'notifications:read',
  'notifications:manage',
  'users:manage',
  'events:manage',
  'tokens:introspect',
] as const;

export type Permission = (typeof PERMISSIONS)[number];

export const ROLES = {
  admin: PERMISSIONS,
  physician: [
    'patients:read',
    'patients:write',
    'appointments:read',
    'appointments:write',
    'staff:read',
    'prescriptions:read',
    'prescriptions:write',
    'medications:read',
    'inventory:read',
    'notifications:read',
  ],
  nurse: [
    'patients:read',
    'patients:write',
    'appointments:read',
    'appointments:write',
    'staff:read',
    'prescriptions:read',
    'medications:read',
    'inventory:read',
    'notifications:read',
  ],
  receptionist: [
    'patients:read',
    'patients:write',
    'appointments:read',
    'appointments:write',
    'staff:read',
    'billing:read',
    'billing:collect',
    'notifications:read',
    'notifications:manage',
  ],
  pharmacist: [
    'patients:read',
    'prescriptions:read',
    'prescriptions:fill',
    'medications:read',
    'medications:write',
    'medications:dispense',
    'inventory:read',
    'inventory:write',
    'inventory:approve',
  ],
  billing: ['patients:read', 'billing:read', 'billing:write', 'billing:collect', 'claims:adjudicate'],
  auditor: ['audit:read', 'analytics:read'],
  manager: [
    'staff:read',
    'staff:write',
    'inventory:read',
    'inventory:write',
    'inventory:approve',
    'analytics:read',
    'notifications:read',
    'notifications:manage',
  ],
} as const satisfies Record<string, readonly Permission[]>;

export type Role = keyof typeof ROLES;
export const ROLE_NAMES = Object.keys(ROLES) as Role[];

export function isRole(value: string): value is Role {
  return Object.hasOwn(ROLES, value);
}

export function isPermission(value: string): value is Permission {
  return (PERMISSIONS as readonly string[]).includes(value);
}

/** The union of the permissions of the given roles; unknown role names grant nothing. */
export function permissionsOf(roles: readonly string[]): Set<Permission> {
  const granted = new Set<Permission>();
  for (const role of roles) {
    if (isRole(role)) for (const p of ROLES[role]) granted.add(p);
  }
  return granted;
}

/**
 * Service identities (`svc:<name>`, client-credentials grant): only what each service's own
 * background work needs (event handlers, jobs). Calls a user started carry the user's token.
 */
export const SERVICE_PERMISSIONS = {
  gateway: ['tokens:introspect'],
  auth: [],
  patient: [],
  appointment: ['patients:read', 'staff:read'],
  staff: ['appointments:read'],
  pharmacy: ['patients:read', 'staff:read', 'inventory:read', 'inventory:write'],
  inventory: ['medications:read'],
  billing: ['patients:read', 'appointments:read'],
  audit: [],
  notification: ['patients:read', 'staff:read', 'appointments:read'],
  analytics: [],
} as const satisfies Record<string, readonly Permission[]>;
