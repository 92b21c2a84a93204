import { createHash } from 'node:crypto';
import type { AuditRecord, ChainBreak } from '@hms/contracts';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../src/domain/canonical.js';
import { GENESIS_HASH, hashAt, hashRecord, link, type RecordDraft } from '../src/domain/chain.js';
import { accessDrafts, eventDraft, factsOf, outcomeOf } from '../src/domain/facts.js';
import { BreakList, ChainWalker, checkpointBreaks } from '../src/domain/walker.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('the canonical form (RFC 8785 for the values a record holds)', () => {
  it('sorts keys by code unit at every depth, without whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 'x'], c: true }, A: 'z' })).toBe(
      '{"A":"z","a":{"c":true,"d":[3,"x"]},"b":1}',
    );
  });

  it('escapes strings as JSON does and writes numbers in their shortest form', () => {
    expect(canonicalJson({ s: 'é"\n\u0001', n: 1e21, f: 0.1, i: -0, big: 100 })).toBe(
      '{"big":100,"f":0.1,"i":0,"n":1e+21,"s":"é\\"\\n\\u0001"}',
    );
  });

  it('leaves out keys whose value is null or undefined, so a NULL column hashes like an unset field', () => {
    expect(canonicalJson({ a: null, b: undefined, c: 1 })).toBe('{"c":1}');
  });

  it('refuses numbers JSON cannot carry', () => {
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(/non-finite/);
  });
});

const draft = (n: number): RecordDraft => ({
  id: `0190a000-0000-7000-8000-${String(n).padStart(12, '0')}`,
  recordedAt: '2025-03-01T10:00:00.000Z',
  category: 'event',
  type: 'patient.updated.v1',
  eventId: `0190a000-0000-7000-9000-${String(n).padStart(12, '0')}`,
  item: 0,
  source: 'patient',
  subject: `p-${n}`,
  at: '2025-03-01T09:59:59.000Z',
  resource: { type: 'patient', ids: [`p-${n}`] },
  patientIds: [`p-${n}`],
  changedFields: ['phone'],
  dataDigest: sha(`data-${n}`),
});

describe('the chain', () => {
  it('hashes SHA-256 over the canonical form of every field but the hash, seq and prevHash included', () => {
    const [first] = link({ seq: 0, hash: GENESIS_HASH }, [draft(1)]);
    const { hash, ...fields } = first as AuditRecord;
    // recomputed here by hand: sorted keys, no whitespace
    const expected = sha(
      `{"at":"2025-03-01T09:59:59.000Z","category":"event","changedFields":["phone"],"dataDigest":"${sha('data-1')}",` +
        `"eventId":"0190a000-0000-7000-9000-000000000001","id":"0190a000-0000-7000-8000-000000000001","item":0,` +
        `"patientIds":["p-1"],"prevHash":"${GENESIS_HASH}","recordedAt":"2025-03-01T10:00:00.000Z",` +
        `"resource":{"ids":["p-1"],"type":"patient"},"seq":1,"source":"patient","subject":"p-1","type":"patient.updated.v1"}`,
    );
    expect(hash).toBe(expected);
    expect(hashRecord(fields)).toBe(expected);
  });

  it('numbers drafts from the head and links each to the one before', () => {
    const records = link({ seq: 41, hash: 'f'.repeat(64) }, [draft(1), draft(2)]);
    expect(records.map((r) => r.seq)).toEqual([42, 43]);
    expect(records[0]?.prevHash).toBe('f'.repeat(64));
    expect(records[1]?.prevHash).toBe(records[0]?.hash);
  });

  it('gives a record moved to another seq another hash', () => {
    const [r] = link({ seq: 0, hash: GENESIS_HASH }, [draft(1)]);
    expect(hashAt(r as AuditRecord, 2)).not.toBe(r?.hash);
    expect(hashAt(r as AuditRecord, 1)).toBe(r?.hash);
  });
});

/** A chain of n records, 1…n. */
const chainOf = (n: number) =>
  link(
    { seq: 0, hash: GENESIS_HASH },
    Array.from({ length: n }, (_, i) => draft(i + 1)),
  );

/** Re-links records from index `i` on (what an attacker who recomputes the chain does). */
function relinkFrom(rows: AuditRecord[], i: number, renumber: boolean): AuditRecord[] {
  const out = rows.slice(0, i);
  let prev = out[out.length - 1] ?? { seq: 0, hash: GENESIS_HASH };
  for (const r of rows.slice(i)) {
    const seq = renumber ? prev.seq + 1 : r.seq;
    const fields = { ...r, seq, prevHash: prev.hash };
    const next = { ...fields, hash: hashRecord(fields) };
    out.push(next);
    prev = next;
  }
  return out;
}

function walk(rows: AuditRecord[], checkpoint?: { seq: number; hash: string }): ChainBreak[] {
  const list = new BreakList();
  const walker = new ChainWalker(hashAt, { seq: 0, hash: GENESIS_HASH }, list.add, checkpoint?.seq);
  for (const r of [...rows].sort((a, b) => a.seq - b.seq)) walker.push(r);
  const end = walker.finish();
  if (checkpoint) for (const b of checkpointBreaks(checkpoint, end.last, end.watchedHash)) list.add(b);
  return list.listed.map(({ kind, seq, toSeq }) => ({ kind, seq, ...(toSeq ? { toSeq } : {}), detail: '' }));
}

const kinds = (breaks: ChainBreak[]) => breaks.map(({ kind, seq, toSeq }) => ({ kind, seq, toSeq }));

describe('the verifier names every break of a hand-built chain', () => {
  it('finds nothing in an intact chain', () => {
    const rows = chainOf(10);
    expect(walk(rows, rows[9])).toEqual([]);
  });

  it('an altered field: the record no longer matches its hash', () => {
    const rows = chainOf(10);
    rows[4] = { ...(rows[4] as AuditRecord), actor: { kind: 'user', id: 'someone-else' } };
    expect(kinds(walk(rows))).toEqual([{ kind: 'altered', seq: 5, toSeq: undefined }]);
  });

  it('an altered record whose own hash was recomputed: the next record names the old hash', () => {
    const rows = chainOf(10);
    const changed = { ...(rows[4] as AuditRecord), subject: 'x' };
    rows[4] = { ...changed, hash: hashRecord(changed) };
    expect(kinds(walk(rows))).toEqual([{ kind: 'altered', seq: 5, toSeq: undefined }]);
  });

  it('an interior record deleted: one missing seq', () => {
    const rows = chainOf(10).filter((r) => r.seq !== 4);
    expect(kinds(walk(rows))).toEqual([{ kind: 'missing', seq: 4, toSeq: undefined }]);
  });

  it('a run deleted: one missing range', () => {
    const rows = chainOf(10).filter((r) => r.seq < 3 || r.seq > 7);
    expect(kinds(walk(rows))).toEqual([{ kind: 'missing', seq: 3, toSeq: 7 }]);
  });

  it('a deletion with the chain recomputed across the gap: relinked, and the checkpoint after it rewritten', () => {
    const original = chainOf(10);
    const checkpoint = original[7] as AuditRecord;
    const rows = relinkFrom(
      original.filter((r) => r.seq !== 4),
      3,
      false,
    );
    expect(kinds(walk(rows, checkpoint))).toEqual([
      { kind: 'relinked', seq: 4, toSeq: undefined },
      { kind: 'rewritten', seq: 8, toSeq: undefined },
    ]);
  });

  it('a deletion with the rest renumbered and recomputed: only the checkpoint shows it', () => {
    const original = chainOf(10);
    const rows = relinkFrom(
      original.filter((r) => r.seq !== 4),
      3,
      true,
    );
    expect(kinds(walk(rows))).toEqual([]);
    expect(kinds(walk(rows, original[7]))).toEqual([{ kind: 'rewritten', seq: 8, toSeq: undefined }]);
    expect(kinds(walk(rows, original[9]))).toEqual([{ kind: 'truncated', seq: 10, toSeq: undefined }]);
  });

  it('a deletion with the rest renumbered but not recomputed: missing, and nothing after it', () => {
    const rows = chainOf(10)
      .filter((r) => r.seq !== 4)
      .map((r) => (r.seq > 4 ? { ...r, seq: r.seq - 1 } : r));
    expect(kinds(walk(rows))).toEqual([{ kind: 'missing', seq: 4, toSeq: undefined }]);
  });

  it('a forged record inserted with the rest renumbered: inserted, the rest still verifies', () => {
    const original = chainOf(10);
    const shifted = original.map((r) => (r.seq > 5 ? { ...r, seq: r.seq + 1 } : r));
    const forged = link({ seq: 5, hash: (original[4] as AuditRecord).hash }, [draft(99)]);
    expect(kinds(walk([...shifted, ...forged], original[9]))).toEqual([
      { kind: 'inserted', seq: 6, toSeq: undefined },
    ]);
  });

  it('a garbage record inserted: inserted', () => {
    const original = chainOf(10);
    const shifted = original.map((r) => (r.seq > 5 ? { ...r, seq: r.seq + 1 } : r));
    const garbage = {
      ...(original[0] as AuditRecord),
      seq: 6,
      prevHash: 'a'.repeat(64),
      hash: 'b'.repeat(64),
    };
    expect(kinds(walk([...shifted, garbage]))).toEqual([{ kind: 'inserted', seq: 6, toSeq: undefined }]);
  });

  it('two adjacent records swapped: reordered', () => {
    const rows = chainOf(10).map((r) =>
      r.seq === 5 ? { ...r, seq: 6 } : r.seq === 6 ? { ...r, seq: 5 } : r,
    );
    expect(kinds(walk(rows))).toEqual([{ kind: 'reordered', seq: 5, toSeq: 6 }]);
  });

  it('the last records deleted: truncated against the checkpoint', () => {
    const original = chainOf(10);
    expect(kinds(walk(original.slice(0, 7), original[9]))).toEqual([
      { kind: 'truncated', seq: 8, toSeq: 10 },
    ]);
  });

  it('every record deleted: truncated from 1', () => {
    const original = chainOf(10);
    expect(kinds(walk([], original[9]))).toEqual([{ kind: 'truncated', seq: 1, toSeq: 10 }]);
  });

  it('names every break, not only the first', () => {
    const rows = chainOf(20);
    rows[2] = { ...(rows[2] as AuditRecord), subject: 'x' };
    const afterDeletes = rows.filter((r) => r.seq !== 9 && r.seq !== 15);
    expect(kinds(walk(afterDeletes))).toEqual([
      { kind: 'altered', seq: 3, toSeq: undefined },
      { kind: 'missing', seq: 9, toSeq: undefined },
      { kind: 'missing', seq: 15, toSeq: undefined },
    ]);
  });

  it('lists a run of one kind once and keeps at most its maximum of entries, counting them all', () => {
    const list = new BreakList(2);
    for (const seq of [1, 2, 3, 7, 9, 11]) list.add({ kind: 'altered', seq, detail: 'd' });
    expect(list.listed.map((b) => [b.seq, b.toSeq])).toEqual([
      [1, 3],
      [7, undefined],
    ]);
    expect(list.count).toBe(4);
  });
});

describe('what the trail keeps of an event', () => {
  const envelope = (type: string, data: unknown, subject = 's-1') => ({
    specversion: '1.0' as const,
    id: '0190a000-0000-7000-8000-0000000000aa',
    type,
    source: 'svc',
    time: '2025-03-01T10:00:00.123456+01:00',
    subject,
    dataschema: `urn:hms:event:${type}`,
    datacontenttype: 'application/json' as const,
    data,
  });
  const stamp = { id: () => '0190a000-0000-7000-8000-0000000000bb', recordedAt: '2025-03-01T10:00:01.000Z' };

  it('keeps metadata, changed field names and a digest of the data, never its values', () => {
    const data = {
      patient: { id: 'p-1', givenName: 'Ada', phone: '+44 20 7946 0958' },
      changedFields: ['phone'],
    };
    const d = eventDraft(envelope('patient.updated.v1', data, 'p-1'), stamp);
    expect(d).toMatchObject({
      category: 'event',
      type: 'patient.updated.v1',
      at: '2025-03-01T09:00:00.123Z',
      patientIds: ['p-1'],
      changedFields: ['phone'],
      resource: { type: 'patient', ids: ['p-1'] },
      dataDigest: sha(canonicalJson(data)),
    });
    expect(JSON.stringify(d)).not.toMatch(/Ada|7946/);
  });

  it('finds the patient and the actor where a type keeps them, and a patientId anywhere for any type', () => {
    const appointment = { patientId: 'p-2', history: [{ by: 'u-1' }, { by: 'u-2' }] };
    expect(factsOf('appointment.updated.v1', 'a-1', { appointment })).toMatchObject({
      actor: 'u-2',
      patientIds: ['p-2'],
    });
    expect(
      factsOf('billing.invoice-issued.v1', 'i-1', {
        invoice: { lines: [{ patientId: 'p-3' }] },
        actor: 'u-3',
      }),
    ).toEqual({
      actor: 'u-3',
      patientIds: ['p-3'],
      changedFields: [],
    });
    // the envelope's actor (the verified caller) when the type has no better knowledge
    expect(factsOf('patient.updated.v1', 'p-5', { patient: { id: 'p-5' } }, 'u-5')).toMatchObject({
      actor: 'u-5',
    });
    expect(factsOf('appointment.updated.v1', 'a-1', { appointment }, 'svc:appointment').actor).toBe('u-2');
    expect(factsOf('auth.login-succeeded.v1', 'u-6', { userId: 'u-6' }, 'svc:auth').actor).toBe('u-6');
    expect(factsOf('auth.login-failed.v2', 'u-4', { userMatched: true, userId: 'u-4' })).toMatchObject({
      actor: 'u-4',
      outcome: 'refused',
    });
  });

  it('makes one record per access record, with its outcome from the status', () => {
    const at = '2025-03-01T10:00:00.000Z';
    const base = {
      at,
      service: 'patient',
      requestId: 'r',
      action: 'read' as const,
      method: 'GET',
      route: '/x',
    };
    const records = [
      {
        ...base,
        actor: { kind: 'user' as const, id: 'u-1' },
        resource: { type: 'patient', ids: ['p-1'] },
        patientIds: ['p-1'],
        status: 200,
      },
      {
        ...base,
        actor: { kind: 'anonymous' as const },
        resource: { type: 'patient', ids: [] },
        patientIds: [],
        status: 401,
      },
    ];
    const drafts = accessDrafts(envelope('access.recorded.v1', { records }), records, stamp);
    expect(drafts.map((d) => [d.item, d.outcome, d.actor])).toEqual([
      [0, 'granted', { kind: 'user', id: 'u-1' }],
      [1, 'refused', { kind: 'anonymous' }],
    ]);
    expect([200, 304, 401, 403, 429, 404, 500].map(outcomeOf)).toEqual([
      'granted',
      'granted',
      'refused',
      'refused',
      'refused',
      'failed',
      'failed',
    ]);
  });
});

describe('the hashed form of a record', () => {
  it('is the canonical JSON of every field but the hash, whichever fields are set', () => {
    const records = link({ seq: 7, hash: 'c'.repeat(64) }, [
      draft(1),
      {
        ...draft(2),
        actor: { kind: 'user', id: 'u-1' },
        action: 'read',
        outcome: 'granted',
        status: 200,
        clientIp: '::1',
      },
      { ...draft(3), dataDigest: undefined, changedFields: [] },
    ]);
    for (const r of records) {
      const { hash, ...fields } = r;
      expect(hash).toBe(sha(canonicalJson(fields)));
      expect(hashAt(r, 99)).toBe(sha(canonicalJson({ ...fields, seq: 99 })));
    }
  });
});
