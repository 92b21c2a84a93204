import { loggerOptions } from '@hms/platform';
import { pino, type Logger } from 'pino';
import { teeToSink } from './phi-guard.js';

/** One JSON line a logger wrote, parsed. */
export type LogLine = Record<string, unknown> & { level: string; msg?: string };

/**
 * A logger with the kit's options (redaction, serializers, the trace id) whose JSON lines a test
 * reads back: pass it to `startService(mod, { logger })` or to the kit function under test.
 */
export function captureLogs(service = 'test', level = 'info'): { logger: Logger; lines: () => LogLine[] } {
  const written: string[] = [];
  const logger = pino(loggerOptions(service, level), {
    write: teeToSink((line: string) => void written.push(line)),
  });
  return { logger, lines: () => written.map((l) => JSON.parse(l) as LogLine) };
}
