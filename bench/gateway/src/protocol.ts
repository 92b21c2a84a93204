/** What the bench process and its server processes say to each other over the IPC channel. */

export interface ChildConfig {
  /**
   * `bare`: Fastify + pg only; `patient`: the Patient service; `gateway`: the API gateway;
   * `proxy`: the least a Node hop can do (node:http in, undici out, nothing checked).
   */
  role: 'bare' | 'patient' | 'gateway' | 'proxy';
  /** The benchmark database (the patients table is in schema `patient`). */
  databaseUrl: string;
  redisUrl: string;
  /** Key prefix in Redis of this run (deny-list, registry, rate-limit counters). */
  redisPrefix: string;
  jwksUrl: string;
  /** The gateway's environment (PATIENT_URL, RATE_LIMIT_*); the proxy's PATIENT_URL. */
  env: Record<string, string>;
  logFile: string;
}

export type ToChild = { kind: 'stop' };

export type FromChild = { kind: 'ready'; url: string } | { kind: 'stopped' };
