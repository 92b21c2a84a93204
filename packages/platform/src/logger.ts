import { destination, pino, type Logger, type LoggerOptions } from 'pino';
import { currentContext } from './context.js';

/**
 * Paths never written to a log. Request and response bodies are not logged at all (Fastify logs
 * neither by default and we add no serializer that does); these catch PHI and secrets that might
 * sit in an object someone logs by mistake.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'password',
  'token',
  'access_token',
  'refresh_token',
  '*.password',
  '*.token',
  '*.authorization',
  'body',
  '*.body',
  ...[
    'givenName',
    'familyName',
    'fullName',
    'name',
    'birthDate',
    'phone',
    'email',
    'address',
    'emergencyContact',
    'insurance',
    'memberId',
    'allergies',
    'conditions',
  ].flatMap((f) => [f, `*.${f}`]),
];

export function loggerOptions(service: string, level: string): LoggerOptions {
  return {
    level,
    base: { service },
    messageKey: 'msg',
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
    // Fastify's request logger already carries reqId; the trace id comes from the work context
    mixin() {
      const tp = currentContext()?.traceparent;
      return tp ? { traceId: tp.slice(3, 35) } : {};
    },
    serializers: {
      err: serializeError,
      error: serializeError,
      req: (req: { method: string; url: string; id: string }) => ({
        method: req.method,
        // the query string may hold search criteria (names, birth dates): log the path only
        url: req.url.split('?')[0],
        id: req.id,
      }),
    },
  };
}

/** Log lines are held until this many bytes are pending… */
const LOG_BUFFER_BYTES = 4096;
/** …or this long, whichever comes first. */
const LOG_FLUSH_MS = 50;

/**
 * Where a service's JSON lines go (stdout, or a file by path), written asynchronously and in
 * batches: lines are held until 4 KiB are pending or 50 ms have passed, so a busy service makes
 * one system call for dozens of requests' lines instead of one for each (a visible share of a
 * simple request's CPU), and a quiet one shows each line within 50 ms. pino writes what is
 * pending when the process exits; a process killed outright (SIGKILL) loses at most the last
 * 50 ms of lines.
 */
export function logDestination(dest: number | string = 1): LogDestination {
  const stream = destination({ dest, sync: false, minLength: LOG_BUFFER_BYTES, periodicFlush: LOG_FLUSH_MS });
  destinations.add(stream);
  // the reader is gone (a closed terminal, a dead log shipper: EPIPE) or the file cannot be
  // written: what is written from now on is dropped. Without a listener the error would be
  // thrown, and the exit that follows would try to write what is pending to the broken pipe
  // forever (sonic-boom's flushSync retries every error, not only EAGAIN).
  stream.on('error', () => abandon(stream));
  return stream;
}

type LogDestination = ReturnType<typeof destination>;
const destinations = new Set<LogDestination>();

/** Makes a destination drop everything: nothing written to it, nothing flushed at exit. */
function abandon(stream: LogDestination): void {
  destinations.delete(stream);
  stream.write = () => true;
  stream.flush = (cb?: (err?: Error) => void) => cb?.();
  stream.flushSync = () => undefined;
  stream.end = () => undefined;
}

/**
 * Before the process exits: writes what the log destinations hold, waiting at most `timeoutMs`,
 * then drops whatever could not be written (a reader that stopped reading leaves a pipe full),
 * so the exit that follows never waits on a log line. Later lines are dropped.
 */
export async function releaseLogs(timeoutMs = 1000): Promise<void> {
  const pending = [...destinations].map(
    (stream) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        timer.unref();
        try {
          stream.flush(() => {
            clearTimeout(timer);
            resolve();
          });
        } catch {
          clearTimeout(timer);
          resolve();
        }
      }),
  );
  await Promise.all(pending);
  dropLogs();
}

/** Drops what every log destination holds and everything written later (an exit that cannot wait). */
export function dropLogs(): void {
  for (const stream of [...destinations]) abandon(stream);
}

/** A logger writing JSON lines to stdout (`logDestination`). */
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino(loggerOptions(service, level), logDestination(1));
}

/**
 * Errors are logged by type, code and stack frames only: a driver's message can quote the values
 * it was given (patient data), so messages of database errors are never logged.
 */
export function serializeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { type: typeof err };
  const e = err as Error & { code?: unknown; constraint?: unknown; statusCode?: unknown };
  const isDbError = typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code);
  const frames = (e.stack ?? '').split('\n').filter((l) => l.trimStart().startsWith('at '));
  return {
    type: e.name,
    code: e.code,
    statusCode: e.statusCode,
    constraint: isDbError ? e.constraint : undefined,
    message: isDbError ? undefined : e.message,
    stack: frames.slice(0, 12).join('\n'),
  };
}

export type { Logger };
