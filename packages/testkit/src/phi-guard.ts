import { appendFileSync, closeSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger, loggerOptions } from '@hms/platform';
import { multistream, pino, type DestinationStream, type Level, type Logger, type StreamEntry } from 'pino';

/**
 * The PHI log guard (issue #14): across the whole test suite every service a test starts logs at
 * `trace` into a sink (one file per test worker), every patient a test sends to the API is noted
 * (one file per worker), and at the suite's end `scanForPhi` reads both and the run fails if any
 * log line carries a noted patient's name, birth date, phone or email. Wired in
 * `vitest.config.ts` (`phi-global.ts`, `phi-setup.ts`); outside vitest (benchmarks) the sink is
 * unset and nothing here changes how services log.
 */
export const LOG_SINK_ENV = 'HMS_TEST_LOG_SINK';

/** The patient fields the guard looks for, and where they sit in a patient body. */
export type PhiKind = 'name' | 'birthDate' | 'phone' | 'email';

export interface Seeded {
  names: Set<string>;
  birthDates: Set<string>;
  /** digits only, so `+44 20 7946 0958` and `+442079460958` are one number */
  phones: Set<string>;
  /** lower case */
  emails: Set<string>;
}

export interface PhiFinding {
  file: string;
  line: number;
  kind: PhiKind;
  /** the line's service and message, never the line itself (it holds the PHI) */
  service: string;
  msg: string;
}

let sinkFd: number | undefined;

/** This worker's log sink file, opened once (appends are synchronous: a worker may exit at any time). */
function sinkStream(dir: string): DestinationStream {
  sinkFd ??= openSync(join(dir, `log-${process.pid}.ndjson`), 'a');
  const fd = sinkFd;
  return { write: (line: string) => void writeSync(fd, line) };
}

/**
 * The logger a test gives a service: at `trace` into the PHI sink when the suite runs with one,
 * and also to stdout at `TEST_LOG_LEVEL` when that is set (silent otherwise), as before.
 */
export function testLogger(service: string): Logger {
  const dir = process.env[LOG_SINK_ENV];
  const stdoutLevel = process.env.TEST_LOG_LEVEL;
  if (!dir) return createLogger(service, stdoutLevel ?? 'silent');
  const streams: StreamEntry[] = [{ level: 'trace', stream: sinkStream(dir) }];
  if (stdoutLevel && stdoutLevel !== 'silent')
    streams.push({ level: stdoutLevel as Level, stream: process.stdout });
  return pino(loggerOptions(service, 'trace'), multistream(streams));
}

/** A copy of what a logger writes into the PHI sink too (for a test's own captured logger). */
export function teeToSink(write: (line: string) => void): (line: string) => void {
  const dir = process.env[LOG_SINK_ENV];
  if (!dir) return write;
  const sink = sinkStream(dir);
  return (line) => {
    sink.write(line);
    write(line);
  };
}

/** Notes the patient fields of a request body sent to a patients route. */
export function noteSeededPatient(dir: string, body: unknown): void {
  const found: Partial<Record<PhiKind, string[]>> = {};
  const add = (kind: PhiKind, v: unknown) => {
    if (typeof v === 'string' && v.length > 0) (found[kind] ??= []).push(v);
  };
  const walk = (o: unknown) => {
    if (!o || typeof o !== 'object') return;
    if (Array.isArray(o)) {
      o.forEach(walk);
      return;
    }
    const r = o as Record<string, unknown>;
    add('name', r.givenName);
    add('name', r.familyName);
    add('birthDate', r.birthDate);
    add('phone', r.phone);
    add('email', r.email);
    if (r.emergencyContact && typeof r.emergencyContact === 'object') {
      const c = r.emergencyContact as Record<string, unknown>;
      add('name', c.name);
      add('phone', c.phone);
    }
    for (const v of Object.values(r)) if (v && typeof v === 'object') walk(v);
  };
  walk(body);
  if (Object.keys(found).length > 0)
    appendFileSync(join(dir, `seeded-${process.pid}.ndjson`), JSON.stringify(found) + '\n');
}

/** Closes this worker's sink (tests of the guard itself). */
export function closeSink(): void {
  if (sinkFd !== undefined) closeSync(sinkFd);
  sinkFd = undefined;
}

// A name shorter than this is not looked for: "Al" or "Li" occur inside ordinary log words.
const MIN_NAME = 3;
// A word runs over letters and digits alike: a test's unique name (`Lovelace` + a base-36 time,
// `Lovelacemxc3req5`) is one word, not `Lovelacemxc` and `req`, and a short run of letters in it
// never stands for a name (a `req` in every request line failed a CI run by chance).
const WORD = /[\p{L}\p{N}][\p{L}\p{N}'’-]*/gu;
const LETTER = /\p{L}/u;
const DATE = /\d{4}-\d{2}-\d{2}/g;
const PHONE = /\+?[0-9][0-9 ()-]{5,30}[0-9]/g;
const EMAIL = /[^\s"'<>(),;:\\]+@[^\s"'<>(),;:\\]+/g;
const digits = (s: string) => s.replace(/[^0-9]/g, '');

export function readSeeded(dir: string): Seeded {
  const seeded: Seeded = { names: new Set(), birthDates: new Set(), phones: new Set(), emails: new Set() };
  for (const file of readdirSync(dir).filter((f) => f.startsWith('seeded-'))) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (!line) continue;
      const found = JSON.parse(line) as Partial<Record<PhiKind, string[]>>;
      for (const n of found.name ?? [])
        for (const w of n.match(WORD) ?? []) if (w.length >= MIN_NAME && LETTER.test(w)) seeded.names.add(w);
      for (const d of found.birthDate ?? []) if (/^\d{4}-\d{2}-\d{2}$/.test(d)) seeded.birthDates.add(d);
      for (const p of found.phone ?? []) if (digits(p).length >= 6) seeded.phones.add(digits(p));
      for (const e of found.email ?? []) if (e.includes('@')) seeded.emails.add(e.toLowerCase());
    }
  }
  return seeded;
}

/** The kinds of noted patient data one log line carries (words are matched whole, case-sensitive). */
export function phiIn(line: string, seeded: Seeded): PhiKind[] {
  const kinds = new Set<PhiKind>();
  for (const w of line.match(WORD) ?? []) if (seeded.names.has(w)) kinds.add('name');
  for (const d of line.match(DATE) ?? []) if (seeded.birthDates.has(d)) kinds.add('birthDate');
  for (const p of line.match(PHONE) ?? []) if (seeded.phones.has(digits(p))) kinds.add('phone');
  for (const e of line.match(EMAIL) ?? []) if (seeded.emails.has(e.toLowerCase())) kinds.add('email');
  return [...kinds];
}

/** Reads every worker's sink and notes: how much was seen, and every line carrying PHI. */
export function scanForPhi(dir: string): {
  lines: number;
  seeded: number;
  services: string[];
  findings: PhiFinding[];
} {
  const seeded = readSeeded(dir);
  const services = new Set<string>();
  const findings: PhiFinding[] = [];
  let lines = 0;
  for (const file of readdirSync(dir).filter((f) => f.startsWith('log-'))) {
    const text = readFileSync(join(dir, file), 'utf8').split('\n');
    text.forEach((line, i) => {
      if (!line) return;
      lines++;
      let parsed: { service?: string; msg?: string } = {};
      try {
        parsed = JSON.parse(line) as typeof parsed;
      } catch {
        // a line that is not JSON is still scanned
      }
      if (parsed.service) services.add(parsed.service);
      const msg = (parsed.msg ?? '').slice(0, 80);
      for (const kind of phiIn(line, seeded))
        findings.push({
          file,
          line: i + 1,
          kind,
          service: parsed.service ?? '?',
          msg: phiIn(msg, seeded).length > 0 ? '[the message itself carries it]' : msg,
        });
    });
  }
  const count = seeded.names.size + seeded.birthDates.size + seeded.phones.size + seeded.emails.size;
  return { lines, seeded: count, services: [...services].sort(), findings };
}
