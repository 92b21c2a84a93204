/** What the bench process and its service processes say to each other over the IPC channel. */

export type Role = 'staff' | 'patient' | 'inventory' | 'pharmacy' | 'gateway';

export interface ChildConfig {
  role: Role;
  /** The benchmark database; each service keeps its tables in a schema of its name. */
  databaseUrl: string;
  amqpUrl: string;
  /** Prefix of this run's RabbitMQ exchange and queues (every service of the run shares it). */
  amqpNamespace: string;
  redisUrl: string;
  /** Key prefix in Redis of this run (deny-list, registry, rate-limit counters). */
  redisPrefix: string;
  jwksUrl: string;
  /**
   * The test keys' private key and id, so the service can mint its own client-credentials token
   * (what the auth service's grant would give it: `svc:<name>` with SERVICE_PERMISSIONS).
   */
  signingKey: { jwk: Record<string, unknown>; kid: string };
  /** The service's environment on top of the process's (`<SERVICE>_URL`, RATE_LIMIT_*). */
  env: Record<string, string>;
  logFile: string;
}

export type ToChild = { kind: 'stop' };

export type FromChild = { kind: 'ready'; url: string } | { kind: 'stopped' };
