import { inject } from 'vitest';
import { LOG_SINK_ENV, noteSeededPatient } from './phi-guard.js';

/**
 * Each test worker (vitest `setupFiles`): points the testkit's loggers at the PHI sink the global
 * setup made, and notes the patient fields of every request body a test sends to a patients
 * route (through `fetch`: the testkit's `svc.request` and the gateway tests alike).
 */
const dir = inject('phiLogSink');
if (dir && !process.env[LOG_SINK_ENV]) {
  process.env[LOG_SINK_ENV] = dir;
  const original = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    try {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      if (/\/api\/v1\/patients(\/|\?|$)/.test(url) && typeof init?.body === 'string')
        noteSeededPatient(dir, JSON.parse(init.body));
    } catch {
      // not JSON: no patient fields to note
    }
    return original(input, init);
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    phiLogSink: string;
  }
}
