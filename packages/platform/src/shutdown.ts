import type { Logger } from 'pino';
import { dropLogs, releaseLogs } from './logger.js';

/**
 * On SIGTERM/SIGINT: stop accepting, finish in-flight work, close resources, exit. The exit is
 * bounded whatever happens: after `timeoutMs` the process exits with 1 whatever is still pending
 * (open connections, a handler that does not finish), and log lines that cannot be written (a
 * reader of stdout that went away or stopped reading) never hold it up.
 */
export function installShutdown(logger: Logger, timeoutMs: number, close: () => Promise<void>): void {
  let stopping = false;
  const exit = (code: number) => {
    // what the logs hold gets a moment to be written; then it is dropped, so exit cannot block
    void releaseLogs(Math.min(1000, timeoutMs)).then(() => process.exit(code));
  };
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error('shutdown timed out; exiting');
      dropLogs();
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    close().then(
      () => exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
