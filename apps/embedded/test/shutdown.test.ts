import { spawn, execFileSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

/**
 * `npm start` stops within SHUTDOWN_TIMEOUT_MS of SIGTERM whatever became of its stdout: the
 * reader gone (a closed terminal, a dead log shipper) or no longer reading (a full pipe). Before
 * issue #10 a broken stdout kept the embedded platform running after SIGTERM for good, its ports
 * closed (pino's exit flush retried the failing write forever). The launcher runs as it ships:
 * the built `apps/embedded/dist/main.js` (built here if the tree is not).
 */
const root = fileURLToPath(new URL('../../../', import.meta.url));
const main = join(root, 'apps/embedded/dist/main.js');
const SHUTDOWN_TIMEOUT_MS = 3000;
/** Starting the platform on a fresh PGlite takes long on a busy machine. */
const START_MS = 120_000;

let child: ChildProcessWithoutNullStreams | undefined;
let dataDir: string | undefined;

beforeAll(() => {
  execFileSync(
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'tsconfig.build.json'],
    {
      cwd: root,
      stdio: 'ignore',
    },
  );
}, START_MS);

afterEach(() => {
  child?.kill('SIGKILL');
  child = undefined;
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/**
 * Starts `npm start`'s launcher. With `readerGone`, the test's end of its stdout is closed at
 * once (before the launcher writes its banner), and readiness is told by the gateway's port.
 */
async function startPlatform(
  readerGone = false,
): Promise<{ child: ChildProcessWithoutNullStreams; port: number }> {
  dataDir = mkdtempSync(join(tmpdir(), 'hms-shutdown-'));
  // below Linux's ephemeral range (32768–60999): the platform takes PORT … PORT+10, and tests
  // running beside this one hold ephemeral ports there (a clash ended a CI run with EADDRINUSE)
  const port = 20_000 + randomInt(12_000);
  const started = spawn(process.execPath, [main], {
    cwd: dataDir,
    env: {
      PATH: process.env.PATH,
      HMS_DATA_DIR: join(dataDir, '.data'),
      PORT: String(port),
      LOG_LEVEL: 'info',
      SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      HMS_ADMIN_PASSWORD: randomBytes(18).toString('base64url'),
    },
  });
  child = started;
  const died = new Promise<never>((_, reject) =>
    started.once('exit', (code) => reject(new Error(`the platform exited (${code}) before it was ready`))),
  );
  if (readerGone) {
    started.stdout.destroy();
    const ready = async () => {
      for (;;) {
        const ok = await fetch(`http://127.0.0.1:${port}/health/live`, { signal: AbortSignal.timeout(2000) })
          .then((r) => r.ok)
          .catch(() => false);
        if (ok) return;
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    await Promise.race([ready(), died]);
    return { child: started, port };
  }
  let seen = '';
  await Promise.race([
    new Promise<void>((resolve) => {
      const onData = (chunk: Buffer) => {
        seen += chunk.toString('utf8');
        if (seen.includes('platform ready')) {
          started.stdout.off('data', onData);
          resolve();
        }
      };
      started.stdout.on('data', onData);
    }),
    died,
  ]);
  return { child: started, port };
}

const exited = (c: ChildProcessWithoutNullStreams) =>
  new Promise<number | null>((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) resolve(c.exitCode);
    else c.once('exit', (code) => resolve(code));
  });

/** Some requests, so that every service has log lines to write to the stdout that cannot take them. */
async function traffic(port: number, n: number): Promise<void> {
  for (let i = 0; i < n; i++)
    await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(5000) }).then((r) =>
      r.text(),
    );
}

/** SIGTERM, then the process is gone within SHUTDOWN_TIMEOUT_MS and a margin (a hang fails at 20 s). */
async function expectStopsOnSigterm(c: ChildProcessWithoutNullStreams): Promise<void> {
  const stoppedAt = Date.now();
  c.kill('SIGTERM');
  const code = await Promise.race([
    exited(c),
    new Promise((r) => setTimeout(() => r('still running'), 20_000)),
  ]);
  expect(code).not.toBe('still running');
  expect(Date.now() - stoppedAt).toBeLessThan(SHUTDOWN_TIMEOUT_MS + 5000);
}

describe('npm start stops within SHUTDOWN_TIMEOUT_MS whatever became of its stdout', () => {
  it(
    'when the reader of its output went away (EPIPE)',
    async () => {
      const { child: c, port } = await startPlatform(true); // the terminal closed
      await traffic(port, 20);
      await expectStopsOnSigterm(c);
    },
    START_MS + 30_000,
  );

  it(
    'when the reader of its output stopped reading (a full pipe)',
    async () => {
      const { child: c, port } = await startPlatform();
      c.stdout.pause(); // the log shipper hangs: the pipe fills, writes wait
      await traffic(port, 400);
      await expectStopsOnSigterm(c);
    },
    START_MS + 60_000,
  );
});
