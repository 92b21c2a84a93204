/**
 * The verification of the audit benchmark, in a process of its own so that its memory is its
 * own: connects, settles, takes its idle RSS, resets the kernel's peak (VmHWM), walks the whole
 * chain as GET /audit/verify does, and reports the time and the peak above idle on stdout.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { walkChain } from '@hms/audit/chain';
import { PostgresDb } from '@hms/platform';

const url = process.argv[2] ?? '';
const db = new PostgresDb({ url, schema: 'audit' });
await db.query('SELECT count(*) FROM audit_records WHERE seq <= 10');
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
await sleep(500);
const idle = process.memoryUsage().rss;
let reset = true;
try {
  writeFileSync('/proc/self/clear_refs', '5'); // VmHWM := current RSS
} catch {
  reset = false;
}
let sampled = idle;
const sampler = setInterval(() => (sampled = Math.max(sampled, process.memoryUsage().rss)), 10);
const started = performance.now();
const report = await walkChain(db, 1, undefined, undefined);
const seconds = (performance.now() - started) / 1000;
clearInterval(sampler);
const hwmKb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
const peak = reset ? Math.max(sampled, hwmKb * 1024) : sampled;
process.stdout.write(
  `${JSON.stringify({
    seconds,
    checked: report.checked,
    breakCount: report.breakCount,
    idleMiB: idle / 2 ** 20,
    peakAboveIdleMiB: (peak - idle) / 2 ** 20,
    vmHwmReset: reset,
  })}\n`,
);
await db.close();
