import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { scanForPhi } from './phi-guard.js';

/**
 * vitest `globalSetup`: makes the PHI sink before any worker starts and, when every test file has
 * run, fails the run (exit code 1) if a service logged a noted patient's name, birth date, phone or email.
 */
export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'hms-phi-'));
  project.provide('phiLogSink', dir);
  return () => {
    const { lines, seeded, services, findings } = scanForPhi(dir);
    // HMS_PHI_KEEP=1 keeps the sink for a look at what was found
    if (!process.env.HMS_PHI_KEEP) rmSync(dir, { recursive: true, force: true });
    else console.log(`PHI log guard: sink kept in ${dir}`);
    console.log(
      `PHI log guard: ${lines} log lines at trace from ${services.length} loggers, ${seeded} patient values noted, ${findings.length} lines carry them`,
    );
    // vitest reports an error thrown here but still exits 0: the exit code is set instead
    if (seeded > 0 && lines === 0) {
      console.error('PHI log guard FAILED: patients were sent but no service logged into the sink');
      process.exitCode = 1;
    }
    if (findings.length > 0) {
      const shown = findings
        .slice(0, 20)
        .map((f) => `  ${f.file}:${f.line} ${f.service} "${f.msg}" carries a patient's ${f.kind}`);
      console.error(`PHI log guard FAILED: log lines carry patient data\n${shown.join('\n')}`);
      process.exitCode = 1;
    }
  };
}
