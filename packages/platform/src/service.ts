/*
 * A service as the kit runs it, in four parts: the module contract (`module.ts`), the runtime
 * that starts a module on its infrastructure (`runtime.ts`), the events' configuration keys
 * (`events/config.ts`) and the bounded shutdown on a signal (`shutdown.ts`). `start.ts` assembles
 * the infrastructure from configuration and runs a module standalone.
 */
export * from './module.js';
export * from './runtime.js';
export * from './events/config.js';
export * from './shutdown.js';
