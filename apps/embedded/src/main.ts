import { performance } from 'node:perf_hooks';
import { ConfigError, installShutdown } from '@hms/platform';
import { readEmbeddedConfig } from './config.js';
import { seedDemo } from './demo.js';
import { startPlatform } from './platform.js';

/**
 * `npm start`: the whole platform in one process, no infrastructure (DESIGN.md §1): one PGlite
 * under HMS_DATA_DIR shared by every service (a schema each), each service on its own
 * 127.0.0.1 port. `--demo` (`npm run demo`) also creates a user per role and seeds a synthetic hospital.
 */
let cfg;
try {
  cfg = readEmbeddedConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(78);
  }
  throw err;
}
const platform = await startPlatform(cfg);
const readyMs = Math.round(performance.now());
const rssMiB = Math.round(process.memoryUsage().rss / 1024 / 1024);
const lines = platform.services.map((s) => `  ${s.name.padEnd(12)} ${s.url}`);
// the gateway is the single entry point; the services' own ports are for diagnosis
const entry = platform.services.find((s) => s.name === 'gateway')?.url ?? platform.authUrl;
// A generated password goes to stdout once, on the start that created the account, and never to the log.
const admin = platform.admin;
const adminLine =
  admin.created && admin.generatedPassword
    ? `First administrator created: ${admin.username} / ${admin.generatedPassword}  (shown once; keep it)\n`
    : '';
process.stdout.write(
  `HMS embedded platform ready in ${(readyMs / 1000).toFixed(1)} s (rss ${rssMiB} MiB), data in ${cfg.HMS_DATA_DIR}\n${lines.join('\n')}\n` +
    `Entry point: ${entry}  (API under /api/v1, docs at ${entry}/docs, health at ${entry}/health)\n` +
    `Management: ${platform.managementUrl}  (/metrics; /admin/events/<service>/dead-letters with events:manage)\n` +
    adminLine +
    `Log in: curl -s -X POST ${entry}/api/v1/auth/login -H 'content-type: application/json' -d '{"username":"…","password":"…"}'\n`,
);
if (process.argv.includes('--demo')) process.stdout.write(await seedDemo(platform));
platform.logger.info({ readyMs, rssMiB, services: platform.services }, 'platform ready');

// SIGTERM/SIGINT drain every service and exit, within SHUTDOWN_TIMEOUT_MS whatever is pending
installShutdown(platform.logger, cfg.SHUTDOWN_TIMEOUT_MS, () => platform.close());
