import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * The exported checkpoints: one file per checkpoint in the configured directory, named after the
 * seq it signs (zero-padded, so names sort as seqs), holding the compact JWS. The directory is
 * outside the database, so deleting rows, or the whole table, leaves the files that show it.
 */
const NAME = /^(\d{16})\.jws$/;

const fileOf = (dir: string, seq: number) => join(dir, `${String(seq).padStart(16, '0')}.jws`);

/** Writes a checkpoint atomically: a temporary file in the same directory, then a rename. */
export function writeCheckpointFile(dir: string, seq: number, jws: string): void {
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${randomBytes(6).toString('hex')}.tmp`);
  writeFileSync(tmp, `${jws}\n`, { mode: 0o644 });
  renameSync(tmp, fileOf(dir, seq));
}

/** The seqs of the exported checkpoints, newest first. */
export function checkpointSeqs(dir: string): number[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names
    .map((n) => NAME.exec(n)?.[1])
    .filter((s): s is string => s !== undefined)
    .map(Number)
    .sort((a, b) => b - a);
}

export function readCheckpointFile(dir: string, seq: number): string | undefined {
  try {
    return readFileSync(fileOf(dir, seq), 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
