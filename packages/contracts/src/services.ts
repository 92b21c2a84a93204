/**
 * The platform's services: the path prefixes each one owns under /api/v1 (the gateway routes by
 * them) and the port it listens on by default. In embedded mode a service listens on
 * `PORT + offset` (gateway on PORT, 8080 by default).
 */
export const SERVICES = {
  gateway: { offset: 0, prefixes: [] },
  auth: { offset: 1, prefixes: ['/api/v1/auth', '/.well-known/jwks.json'] },
  patient: { offset: 2, prefixes: ['/api/v1/patients'] },
  appointment: { offset: 3, prefixes: ['/api/v1/appointments'] },
  staff: { offset: 4, prefixes: ['/api/v1/staff'] },
  pharmacy: { offset: 5, prefixes: ['/api/v1/prescriptions', '/api/v1/medications'] },
  inventory: { offset: 6, prefixes: ['/api/v1/inventory'] },
  billing: { offset: 7, prefixes: ['/api/v1/invoices', '/api/v1/claims', '/api/v1/billing'] },
  audit: { offset: 8, prefixes: ['/api/v1/audit'] },
  notification: { offset: 9, prefixes: ['/api/v1/notifications'] },
  analytics: { offset: 10, prefixes: ['/api/v1/analytics'] },
} as const satisfies Record<string, { offset: number; prefixes: readonly string[] }>;

export type ServiceName = keyof typeof SERVICES;

/**
 * The services whose module exists: `services/<name>`, the package `@hms/<name>` exporting its
 * module as `<name>Service`. Adding a service is adding its name here (and its entry in SERVICES
 * above, if it is new there): the embedded launcher starts what this lists, the test aliases
 * follow the folders, and `apps/embedded/test/registration.test.ts` fails when a folder, a
 * package name, a TypeScript project reference or a launcher dependency disagrees with it.
 */
export const IMPLEMENTED_SERVICES = [
  'auth',
  'patient',
  'staff',
  'appointment',
  'inventory',
  'pharmacy',
  'billing',
  'audit',
  'notification',
  'analytics',
  'gateway',
] as const satisfies readonly ServiceName[];
