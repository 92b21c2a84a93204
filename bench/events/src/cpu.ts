import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';

/**
 * CPU time per process group over a measured phase, from /proc (Linux; the bench only targets
 * loopback servers, so every process of the path is on this machine). Times are user + system,
 * in the kernel's clock ticks (100 Hz here: 10 ms resolution, small against a phase's seconds).
 * `machine` is every core's busy time from /proc/stat (steal excluded), `kernel irq` its interrupt
 * time (charged to no process), and what neither a group nor interrupts account for (other work on
 * a shared machine, kernel threads, processes started during the phase) is `unaccounted`.
 */
const TICK_MS = 10;

export type Groups = Record<string, number[]>;

export interface CpuPerEvent {
  /** Milliseconds of CPU per event, by group, then `machine` and `unaccounted`. */
  msPerEvent: Record<string, number>;
  /** The groups' sum: the path's own CPU per event, whatever else the machine ran. */
  accountedMsPerEvent: number;
  /** Wall time of the phase and the cores' capacity in it. */
  seconds: number;
  /** The machine's busy share during the phase (1 = every core busy). */
  busy: number;
}

function ticksOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is the state (field 3); utime and stime are fields 14 and 15
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined; // the process has gone
  }
}

function machineTicks(): { busy: number; total: number; irq: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  // user nice system idle iowait irq softirq steal (guest time is inside user)
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const at = (k: number) => v[k] ?? 0;
  const total = v.reduce((a, b) => a + b, 0) - at(7); // time the VM was given, not stolen from it
  return { busy: total - at(3) - at(4), total, irq: at(5) + at(6) };
}

/** Pids whose command name is one of `names` (e.g. `postgres`, `beam.smp`). */
export function pidsNamed(...names: string[]): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (names.includes(readFileSync(`/proc/${entry}/comm`, 'utf8').trim())) pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids;
}

/** Backend pids of the given databases, by application name (`<name> backends`). */
export async function backends(serverUrl: string, databases: readonly string[]): Promise<Groups> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number; datname: string; app: string }>(
      `SELECT pid, datname, application_name AS app FROM pg_stat_activity
        WHERE datname = ANY($1::text[]) AND pid <> pg_backend_pid()`,
      [databases],
    );
    const groups: Groups = {};
    for (const r of rows) (groups[`${r.app || r.datname} backends`] ??= []).push(r.pid);
    return groups;
  } finally {
    await client.end();
  }
}

/**
 * Starts measuring `groups` (pids resolved now: the processes of a phase live through it; a
 * backend that ends during the phase loses its share, a pool keeps its connections). Every other
 * PostgreSQL process (WAL writer, checkpointer, …) is `postgres other`, RabbitMQ's VM `rabbitmq`.
 */
export function startCpu(groups: Groups): { stop(events: number): CpuPerEvent } {
  const named = new Set(Object.values(groups).flat());
  const all: Groups = {
    ...groups,
    'postgres other': pidsNamed('postgres').filter((p) => !named.has(p)),
    rabbitmq: pidsNamed('beam.smp', 'erl_child_setup', 'epmd'),
  };
  const sample = () =>
    Object.fromEntries(Object.entries(all).map(([g, pids]) => [g, pids.map((p) => ticksOf(p))] as const));
  const before = sample();
  const m0 = machineTicks();
  const t0 = performance.now();
  return {
    stop(events) {
      const after = sample();
      const m1 = machineTicks();
      const seconds = (performance.now() - t0) / 1000;
      const msPerEvent: Record<string, number> = {};
      let accounted = 0;
      for (const [g, ticks] of Object.entries(after)) {
        let sum = 0;
        ticks.forEach((t, k) => {
          const b = before[g]?.[k];
          if (t !== undefined && b !== undefined) sum += t - b;
        });
        accounted += sum;
        msPerEvent[g] = (sum * TICK_MS) / events;
      }
      const busy = m1.busy - m0.busy;
      // interrupt time (loopback TCP's receive processing runs as a softirq) is charged to no process
      const irq = m1.irq - m0.irq;
      msPerEvent.machine = (busy * TICK_MS) / events;
      msPerEvent['kernel irq'] = (irq * TICK_MS) / events;
      msPerEvent.unaccounted = ((busy - irq - accounted) * TICK_MS) / events;
      return {
        msPerEvent,
        accountedMsPerEvent: (accounted * TICK_MS) / events,
        seconds,
        busy: busy / Math.max(1, m1.total - m0.total),
      };
    },
  };
}

export function formatCpu(cpu: CpuPerEvent): string {
  const parts = Object.entries(cpu.msPerEvent)
    .filter(([g]) => !['machine', 'kernel irq', 'unaccounted'].includes(g))
    .filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([g, v]) => `${g} ${v.toFixed(3)}`);
  return (
    `CPU ms/event ${cpu.accountedMsPerEvent.toFixed(3)} = ${parts.join(', ')}` +
    ` (machine ${cpu.msPerEvent.machine?.toFixed(3)}, busy ${(100 * cpu.busy).toFixed(0)} %; interrupts ${cpu.msPerEvent['kernel irq']?.toFixed(3)}; other processes ${cpu.msPerEvent.unaccounted?.toFixed(3)})`
  );
}
