import { AuditRecord } from '@hms/contracts';
import { canonicalJson, sha256Hex } from './canonical.js';

/** A record before it takes its place in the chain: everything but its position and links. */
export type RecordDraft = Omit<AuditRecord, 'seq' | 'prevHash' | 'hash'>;

/** A record's fields as hashed: the record without its own hash. */
export type HashedFields = Omit<AuditRecord, 'hash'>;

/** The `prevHash` of the first record. */
export const GENESIS_HASH = '0'.repeat(64);

/** The chain's last record (seq 0 and the genesis hash when it is empty). */
export interface ChainHead {
  seq: number;
  hash: string;
}

export const EMPTY_HEAD: ChainHead = { seq: 0, hash: GENESIS_HASH };

/**
 * The fields a record's hash covers, in canonical (sorted) order: every field of the schema but
 * `hash`, so a field added to AuditRecord is hashed without a change here.
 */
const HASHED = Object.keys(AuditRecord.properties)
  .filter((k) => k !== 'hash')
  .sort()
  .map((key) => ({ key, quoted: `${JSON.stringify(key)}:` }));

/**
 * The canonical form of a record at `seq`: what `canonicalJson` makes of its fields without the
 * hash (a unit test holds the two equal), written field by field in the known order rather than
 * sorting each record's keys: the verifier does this for every record it walks.
 */
function canonicalRecord(fields: HashedFields | AuditRecord, seq: number): string {
  const values = fields as unknown as Record<string, unknown>;
  let out = '';
  for (const { key, quoted } of HASHED) {
    const value = key === 'seq' ? seq : values[key];
    if (value === undefined || value === null) continue;
    const json = typeof value === 'string' ? JSON.stringify(value) : canonicalJson(value);
    out += `${out === '' ? '' : ','}${quoted}${json}`;
  }
  return `{${out}}`;
}

/** SHA-256 of the canonical form of every field but `hash` (its seq and prevHash included). */
export function hashRecord(fields: HashedFields | AuditRecord): string {
  return sha256Hex(canonicalRecord(fields, fields.seq));
}

/** The hash a record would have at another position: how the verifier tells a moved record. */
export function hashAt(record: AuditRecord, seq: number): string {
  return sha256Hex(canonicalRecord(record, seq));
}

/** Places drafts after `head`, in order: consecutive seqs, each linked to the one before. */
export function link(head: ChainHead, drafts: readonly RecordDraft[]): AuditRecord[] {
  let { seq, hash } = head;
  return drafts.map((draft) => {
    const fields: HashedFields = { ...draft, seq: seq + 1, prevHash: hash };
    seq = fields.seq;
    hash = hashRecord(fields);
    return { ...fields, hash };
  });
}
