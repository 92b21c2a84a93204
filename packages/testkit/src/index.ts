export * from './bus.js';
export * from './database.js';
export * from './keys.js';
export * from './service.js';
export * from './store.js';
export * from './load.js';
