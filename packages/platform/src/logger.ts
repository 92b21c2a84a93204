import { pino, type Logger, type LoggerOptions } from 'pino';
import sonicBoom from 'sonic-boom';
import { currentContext } from './context.js';
import { AppError } from './errors.js';

// sonic-boom is CommonJS: its class is a property of what it exports
const { SonicBoom } = sonicBoom;

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
 * simple request's CPU), and a quiet one shows each line within 50 ms. What is pending is written
 * when the process exits; a process killed outright (SIGKILL) loses at most the last 50 ms of lines.
 *
 * Logging never holds the process up. When the reader goes away (a closed terminal, a dead log
 * shipper: EPIPE) or the file cannot be written, later lines are dropped. A reader that merely
 * stops reading leaves writes waiting while the process runs (retried, without blocking), but at
 * exit what cannot be written at once is dropped. (pino's own destination, sonic-boom 4, retries
 * a write that fails for any reason forever inside its exit-time flush, so a broken stdout kept
 * the process from ever exiting; sonic-boom 5 gives up, and the exit flush here is the kit's.)
 */
export function logDestination(dest: number | string = 1): LogDestination {
  const stream = new SonicBoom({
    dest,
    sync: false,
    minLength: LOG_BUFFER_BYTES,
    periodicFlush: LOG_FLUSH_MS,
    retryEAGAIN: () => !exiting,
  });
  stream.on('error', () => abandon(stream));
  destinations.add(stream);
  if (!exitHooked) {
    exitHooked = true;
    process.once('exit', flushAtExit);
    // the launcher's own lines to stdout: a reader gone is not a reason to crash
    if (dest === 1) process.stdout.on('error', () => undefined);
  }
  return stream;
}

type LogDestination = InstanceType<typeof SonicBoom>;
const destinations = new Set<LogDestination>();
let exiting = false;
let exitHooked = false;

/** At exit: writes what each destination holds, once, without waiting; what cannot go is lost. */
function flushAtExit(): void {
  exiting = true;
  for (const stream of destinations) {
    try {
      stream.flushSync();
    } catch {
      // the reader is gone or full: nothing more can be done for these lines
    }
  }
}

/** Makes a destination drop everything: nothing written to it, nothing flushed at exit. */
function abandon(stream: LogDestination): void {
  destinations.delete(stream);
  stream.write = () => true;
  stream.flush = (cb?: (err?: Error) => unknown) => void cb?.();
  stream.flushSync = () => undefined;
  stream.end = () => undefined;
}

/**
 * Before the process exits: writes what the log destinations hold, waiting at most `timeoutMs`,
 * then drops whatever could not be written (a reader that stopped reading leaves a pipe full),
 * so the exit that follows never waits on a log line. Later lines are dropped.
 */
export async function releaseLogs(timeoutMs = 1000): Promise<void> {
  await Promise.all(
    [...destinations].map(
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
    ),
  );
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
 * Errors are logged by type, code and stack frames (code locations, never data). A message is
 * kept only where its text comes from code: the kit's own errors (their catalogue title) and Node's system errors
 * (`ECONNREFUSED`, `ERR_…`). Any other message may quote what it was handed: a driver's the
 * values of a row (`Key (name)=(…)`), an application's a name it interpolated, JSON.parse a piece
 * of its input; the suite-wide PHI log guard caught such a line (issue #14).
 */
export function serializeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { type: typeof err };
  const e = err as Error & { code?: unknown; constraint?: unknown; statusCode?: unknown };
  const isDbError = typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code);
  const isSystemError = typeof e.code === 'string' && /^(E[A-Z0-9]+|ERR_[A-Z0-9_]+)$/.test(e.code);
  const frames = (e.stack ?? '').split('\n').filter((l) => l.trimStart().startsWith('at '));
  return {
    type: e.name,
    code: e.code,
    statusCode: e.statusCode,
    constraint: isDbError ? e.constraint : undefined,
    message: e instanceof AppError ? e.title : isSystemError ? e.message : undefined,
    stack: frames.slice(0, 12).join('\n'),
  };
}

export type { Logger };
