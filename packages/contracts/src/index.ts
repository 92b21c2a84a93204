import './formats.js';

export * from './access.js';
export * from './analytics.js';
export * from './appointment.js';
export * from './audit.js';
export * from './auth.js';
export * from './billing.js';
export * from './common.js';
export * from './events.js';
export * from './formats.js';
export * from './inventory.js';
export * from './notification.js';
export * from './patient.js';
export * from './pharmacy.js';
export * from './roles.js';
export * from './services.js';
export * from './staff.js';
