/** What the bench process and its consumer process say to each other over the IPC channel. */

export interface ChildConfig {
  /** `service`: the receiving HMS service (inbox + effect); `baseline`: a bare amqplib consumer. */
  mode: 'service' | 'baseline';
  amqpUrl: string;
  /** The receiving service's own database (service mode). */
  databaseUrl: string;
  /** Exchange and queue prefix (service mode) or the queue name (baseline). */
  namespace: string;
  logFile: string;
}

export type ToChild = { kind: 'expect'; count: number } | { kind: 'collect' } | { kind: 'stop' };

export type FromChild =
  | { kind: 'ready' }
  | { kind: 'reached'; count: number }
  | { kind: 'samples'; ids: string[]; at: number[] }
  | { kind: 'stopped' };
