import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  LOG_SINK_ENV,
  noteSeededPatient,
  phiIn,
  readSeeded,
  scanForPhi,
  testLogger,
} from '../src/phi-guard.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'phi-test-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const patient = {
  givenName: 'Marguerite',
  familyName: "O'Donnell-Vasquez",
  birthDate: '1958-03-14',
  phone: '+44 20 7946 0958',
  email: 'Marguerite.OD@example.org',
  emergencyContact: { name: 'Teodor Vasquez', relation: 'spouse', phone: '+44 20 7946 0111' },
};

describe('the PHI log guard', () => {
  it('notes the patient fields of a body, emergency contact included', () => {
    const dir = tempDir();
    noteSeededPatient(dir, { items: [patient] });
    const seeded = readSeeded(dir);
    expect([...seeded.names].sort()).toEqual(["O'Donnell-Vasquez", 'Marguerite', 'Teodor', 'Vasquez'].sort());
    expect([...seeded.birthDates]).toEqual(['1958-03-14']);
    expect([...seeded.phones].sort()).toEqual(['442079460111', '442079460958']);
    expect([...seeded.emails]).toEqual(['marguerite.od@example.org']);
  });

  it('finds each kind in a log line, a phone however it is spaced and an email whatever its case', () => {
    const dir = tempDir();
    noteSeededPatient(dir, patient);
    const seeded = readSeeded(dir);
    expect(phiIn('{"msg":"registered Marguerite"}', seeded)).toEqual(['name']);
    expect(phiIn('{"dob":"1958-03-14"}', seeded)).toEqual(['birthDate']);
    expect(phiIn('{"to":"+442079460958"}', seeded)).toEqual(['phone']);
    expect(phiIn('{"to":"marguerite.od@EXAMPLE.org"}', seeded)).toEqual(['email']);
    expect(phiIn('{"contact":"Teodor Vasquez +44 20 7946 0111"}', seeded).sort()).toEqual(['name', 'phone']);
  });

  it('does not flag a name inside a longer word, another date or another number', () => {
    const dir = tempDir();
    noteSeededPatient(dir, {
      givenName: 'Ann',
      familyName: 'Lee',
      birthDate: '1990-01-02',
      phone: '+1 555 0100',
    });
    const seeded = readSeeded(dir);
    expect(
      phiIn('{"msg":"Announcement for Leeds","time":"1990-01-03T00:00:00Z","n":"+1 555 0101"}', seeded),
    ).toEqual([]);
    // two-letter names are not looked for at all: they occur inside ordinary words
    noteSeededPatient(dir, { givenName: 'Al' });
    expect(readSeeded(dir).names.has('Al')).toBe(false);
  });

  it('takes a name with a unique suffix of letters and digits as one word, whole', () => {
    const dir = tempDir();
    // a test's name: a word and a base-36 time, whose letter runs are no names of their own
    noteSeededPatient(dir, { givenName: 'Ada7', familyName: 'Lovelacemxc3req5' });
    const seeded = readSeeded(dir);
    expect([...seeded.names].sort()).toEqual(['Ada7', 'Lovelacemxc3req5']);
    expect(phiIn('{"req":{"method":"GET"},"msg":"request","id":"mxc3req5"}', seeded)).toEqual([]);
    expect(phiIn('{"msg":"registered Lovelacemxc3req5"}', seeded)).toEqual(['name']);
    expect(phiIn('{"holder":"Ada7 Lovelacemxc3req5"}', seeded)).toEqual(['name']);
  });

  it('scans every worker file and names the file, line and kind, never the line itself', () => {
    const dir = tempDir();
    noteSeededPatient(dir, patient);
    writeFileSync(
      join(dir, 'log-1.ndjson'),
      [
        JSON.stringify({ service: 'patient', msg: 'patient registered', id: 'p-1' }),
        JSON.stringify({ service: 'billing', msg: 'account opened', holder: 'Marguerite' }),
        JSON.stringify({ service: 'billing', msg: 'sent to Marguerite' }),
      ].join('\n') + '\n',
    );
    const report = scanForPhi(dir);
    expect(report.lines).toBe(3);
    expect(report.services).toEqual(['billing', 'patient']);
    expect(report.findings).toEqual([
      { file: 'log-1.ndjson', line: 2, kind: 'name', service: 'billing', msg: 'account opened' },
      {
        file: 'log-1.ndjson',
        line: 3,
        kind: 'name',
        service: 'billing',
        msg: '[the message itself carries it]',
      },
    ]);
  });

  it('gives services a logger at trace that writes into this worker’s sink', () => {
    const dir = process.env[LOG_SINK_ENV];
    expect(dir, 'vitest.config.ts wires the guard into every worker').toBeTruthy();
    const marker = `marker-${Math.random().toString(36).slice(2)}`;
    testLogger('guard-test').trace({ marker }, 'a trace line');
    const written = readFileSync(join(dir as string, `log-${process.pid}.ndjson`), 'utf8');
    expect(written).toContain(marker);
  });
});
