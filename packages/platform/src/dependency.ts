import { CONNECTION_ERRORS, errorCode } from './http/resilience.js';

/*
 * Whether an error a handler did not expect means that a dependency (the database, Redis, the
 * broker, another service) cannot be reached right now, which a request may try again shortly:
 * 503 with Retry-After (DESIGN.md §4), not a 500 that says the service is broken. Read from what
 * the drivers throw, since none of them marks it: Node's and undici's connection error codes,
 * PostgreSQL's SQLSTATE classes, and the messages of pg, pg-pool and ioredis that carry no code.
 */

/** Thrown by the kit's own adapters when their server is not connected (the broker, Redis). */
export class DependencyUnavailableError extends Error {
  constructor(readonly dependency: string) {
    super(`${dependency} unavailable`);
    this.name = 'DependencyUnavailableError';
  }
}

/** SQLSTATE: connection exception (class 08), the server shutting down or starting, too many connections. */
const PG_UNAVAILABLE = /^(08[0-9A-Z]{3}|57P0[1-3]|53300)$/;

const DOWN_MESSAGES: readonly RegExp[] = [
  /^Connection terminated/, // pg: the server or the network dropped the connection
  /^timeout exceeded when trying to connect/, // pg-pool: no connection within connectionTimeoutMillis
  /^Client has encountered a connection error/, // pg: a query on a client whose connection broke
  /^Command timed out/, // ioredis: commandTimeout
  /^Connection is closed/, // ioredis
  /^(Channel|Connection) closed/, // amqplib: an operation on a channel or connection that went away
];

export function isDependencyUnavailable(err: unknown): boolean {
  if (err instanceof DependencyUnavailableError) return true;
  const code = errorCode(err);
  if (code !== undefined && (CONNECTION_ERRORS.has(code) || PG_UNAVAILABLE.test(code))) return true;
  const message = err instanceof Error ? err.message : '';
  return DOWN_MESSAGES.some((m) => m.test(message));
}
