import type { ChainBreak } from '@hms/contracts';

/**
 * The verifier's rules (issue #14): a walk over the records in stored seq order, one at a time,
 * holding at most one undecided record, that names every break and keeps going after it.
 *
 * Each record is checked two ways: its content against its own hash (recomputed at a seq: the
 * hash covers the seq, so a record moved to another position no longer matches at its new one,
 * but does at its old one), and its `prevHash` against the hash of the record accepted before it.
 * A record that does not link is held until the next one says which story fits:
 *
 * - altered: a record whose content no longer matches its hash, or whose hash was recomputed
 *   after a change (the next record still names the old hash);
 * - missing: seqs absent (a range: an emptied stretch is one break), the records after them
 *   still linking to the deleted ones; also when the records after were renumbered down;
 * - relinked: seqs absent while the record after the gap links straight across it (the chain
 *   was recomputed around a deletion);
 * - inserted: a record the chain goes around (the next one links to the record before it),
 *   whether or not the records after it were renumbered up;
 * - reordered: two adjacent records swapped (each matches its hash at the other's seq).
 *
 * Truncation and a rewritten chain are found against a signed checkpoint (see `checkpointBreaks`).
 */
export interface LinkedRow {
  seq: number;
  prevHash: string;
  hash: string;
}

/** Where the walk starts: the record before the range (its hash undefined when it is absent). */
export interface Anchor {
  seq: number;
  hash: string | undefined;
}

interface Tip {
  /** The position in the chain (the seq it was hashed at). */
  seq: number;
  hash: string | undefined;
  /** The seq it is stored under. */
  stored: number;
}

export class ChainWalker<R extends LinkedRow> {
  private tip: Tip;
  /** The hash of the record before the tip, to see the chain go around the tip. */
  private before: string | undefined;
  /** Stored seq − chain seq of the records being read (≠ 0 after a renumbering). */
  private offset = 0;
  private held: R | undefined;
  private watched: string | undefined;

  constructor(
    /** The hash a record would have at a seq (its stored fields otherwise). */
    private readonly hashAt: (row: R, seq: number) => string,
    anchor: Anchor,
    private readonly report: (b: ChainBreak) => void,
    /** A chain seq whose record's hash the caller wants (a checkpoint's). */
    private readonly watch?: number,
  ) {
    this.tip = { seq: anchor.seq, hash: anchor.hash, stored: anchor.seq };
  }

  push(row: R): void {
    const held = this.held;
    this.held = undefined;
    if (held && this.resolve(held, row)) return;
    this.place(row);
  }

  /** Ends the walk: the last chain position reached and the hash of the watched one. */
  finish(): { last: number; watchedHash: string | undefined } {
    const held = this.held;
    this.held = undefined;
    if (held) {
      // the last record does not link to the one before, and nothing after it says more
      this.report({
        kind: 'altered',
        seq: held.seq,
        detail: 'the record does not link to the record before it',
      });
      this.accept(held, held.seq - this.offset);
    }
    return { last: this.tip.seq, watchedHash: this.watched };
  }

  private ok(row: R, seq: number): boolean {
    return this.hashAt(row, seq) === row.hash;
  }

  private accept(row: R, chainSeq: number): void {
    this.before = this.tip.hash;
    this.tip = { seq: chainSeq, hash: row.hash, stored: row.seq };
    if (chainSeq === this.watch) this.watched = row.hash;
  }

  private place(row: R): void {
    const chainSeq = row.seq - this.offset;
    const expected = this.tip.seq + 1;
    if (chainSeq < expected) {
      this.report({
        kind: 'inserted',
        seq: row.seq,
        detail: 'a second record for a position already in the chain',
      });
      return;
    }
    if (chainSeq > expected) {
      const intact = this.ok(row, chainSeq);
      const across = row.prevHash === this.tip.hash && intact;
      this.report({
        kind: across ? 'relinked' : 'missing',
        seq: expected,
        ...(chainSeq - 1 > expected ? { toSeq: chainSeq - 1 } : {}),
        detail: across
          ? 'records deleted and the chain recomputed across the gap'
          : 'records absent from the chain',
      });
      if (!intact)
        this.report({ kind: 'altered', seq: row.seq, detail: 'the record does not match its hash' });
      this.accept(row, chainSeq);
      return;
    }
    if (this.tip.hash === undefined || row.prevHash === this.tip.hash) {
      if (!this.ok(row, chainSeq))
        this.report({ kind: 'altered', seq: row.seq, detail: 'the record does not match its hash' });
      this.accept(row, chainSeq);
      return;
    }
    if (this.before !== undefined && row.prevHash === this.before && this.ok(row, this.tip.seq)) {
      // the chain goes around the tip, which took this record's position: the tip was inserted
      this.report({ kind: 'inserted', seq: this.tip.stored, detail: 'the chain goes around this record' });
      this.offset = row.seq - this.tip.seq;
      this.tip = { seq: this.tip.seq - 1, hash: this.before, stored: this.tip.stored - 1 };
      this.before = undefined;
      this.accept(row, this.tip.seq + 1);
      return;
    }
    this.held = row;
  }

  /** Decides a held record (it did not link) with the record after it; true when both are placed. */
  private resolve(held: R, next: R): boolean {
    const heldSeq = held.seq - this.offset; // the position it was read at: tip.seq + 1
    const tipHash = this.tip.hash;
    if (
      next.seq === held.seq + 1 &&
      this.ok(held, heldSeq + 1) &&
      this.ok(next, heldSeq) &&
      next.prevHash === tipHash &&
      held.prevHash === next.hash
    ) {
      this.report({
        kind: 'reordered',
        seq: held.seq,
        toSeq: next.seq,
        detail: 'two records swapped places',
      });
      this.accept(next, heldSeq);
      this.accept(held, heldSeq + 1);
      return true;
    }
    if (next.prevHash === tipHash) {
      this.report({ kind: 'inserted', seq: held.seq, detail: 'the chain goes around this record' });
      // the records after it were renumbered up when the next one matches at the held position
      if (this.ok(next, this.tip.seq + 1)) this.offset = next.seq - (this.tip.seq + 1);
      return false;
    }
    if (next.prevHash === held.hash && !this.ok(held, heldSeq) && this.ok(held, heldSeq + 1)) {
      this.report({
        kind: 'missing',
        seq: heldSeq,
        detail: 'a record absent from the chain, the records after it renumbered',
      });
      this.offset -= 1;
      this.accept(held, heldSeq + 1);
      return false;
    }
    if (next.prevHash === held.hash && this.ok(held, heldSeq)) {
      // the held record is intact and the next links to it: the tip's hash is not the one it had
      this.report({
        kind: 'altered',
        seq: this.tip.stored,
        detail: 'the record was changed and its hash recomputed (the record after it names the old hash)',
      });
    } else {
      this.report({
        kind: 'altered',
        seq: held.seq,
        detail: 'the record does not match its hash or its link',
      });
    }
    this.accept(held, heldSeq);
    return false;
  }
}

/**
 * The breaks a signed checkpoint shows once the walk is done: the trail ends before the
 * checkpoint's seq (truncated: the last records deleted, or all of them), or the record at that
 * position no longer has the signed hash (rewritten: the chain was recomputed before it).
 */
export function checkpointBreaks(
  checkpoint: { seq: number; hash: string },
  last: number,
  watchedHash: string | undefined,
): ChainBreak[] {
  if (last < checkpoint.seq)
    return [
      {
        kind: 'truncated',
        seq: last + 1,
        ...(checkpoint.seq > last + 1 ? { toSeq: checkpoint.seq } : {}),
        detail: 'the trail ends before the signed checkpoint',
      },
    ];
  if (watchedHash !== checkpoint.hash)
    return [
      {
        kind: 'rewritten',
        seq: checkpoint.seq,
        detail: 'the record at the checkpoint does not have the signed hash: the chain was recomputed',
      },
    ];
  return [];
}

/**
 * The breaks of a walk as the report lists them: a run of one kind over consecutive seqs becomes
 * one entry (an emptied stretch, a renumbered tail), and at most `max` entries are kept, so a
 * trail altered everywhere still answers in bounded memory; `count` counts every entry.
 */
export class BreakList {
  readonly listed: ChainBreak[] = [];
  count = 0;

  constructor(private readonly max = 1000) {}

  add = (b: ChainBreak): void => {
    const last = this.listed[this.listed.length - 1];
    if (last && this.listed.length === this.count && last.kind === b.kind && last.detail === b.detail) {
      const end = last.toSeq ?? last.seq;
      if (b.seq === end + 1) {
        last.toSeq = b.toSeq ?? b.seq;
        return;
      }
    }
    this.count += 1;
    if (this.listed.length < this.max) this.listed.push({ ...b });
  };
}
