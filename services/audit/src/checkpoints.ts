import type { Checkpoint } from '@hms/contracts';
import { authorize, decodeCursor, toPage, type Caller } from '@hms/platform';
import { CompactSign, compactVerify, decodeProtectedHeader } from 'jose';
import { checkpointSeqs, readCheckpointFile, writeCheckpointFile } from './checkpoint-files.js';
import type { AuditContext } from './context.js';
import type { ChainHead } from './domain/chain.js';
import { AuditErrors } from './errors.js';
import { chainHead } from './store.js';

/**
 * Signed checkpoints of the chain's head (issue #14): {seq, hash, at} as a compact JWS (ES256)
 * with the audit service's own key, exported as a file outside the database. A checkpoint pins
 * every record up to its seq: deleting the last records, emptying the table or recomputing the
 * chain before it shows against the file. What was appended after the newest checkpoint is not
 * pinned yet (README, "Audit").
 */
const TYP = 'hms-audit-checkpoint+jws';
const ISSUER = 'hms-audit';

/** A checkpoint as read back from its file, with whether its signature holds under our key. */
export interface ReadCheckpoint {
  checkpoint: Checkpoint;
  signatureValid: boolean;
}

async function sign(ctx: AuditContext, head: ChainHead): Promise<Checkpoint> {
  const at = ctx.clock.now().toISOString();
  const payload = { iss: ISSUER, seq: head.seq, hash: head.hash, at };
  const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: 'ES256', kid: ctx.key.kid, typ: TYP })
    .sign(ctx.key.privateKey);
  writeCheckpointFile(ctx.cfg.checkpointDir, head.seq, jws);
  ctx.checkpoints.lastAt = Date.parse(at);
  ctx.metrics.checkpointSeq.set(head.seq);
  return { seq: head.seq, hash: head.hash, at, kid: ctx.key.kid, jws };
}

/**
 * Signs the head unless the newest checkpoint already signs it. Answers the checkpoint of the
 * head and whether it was made now; undefined while the trail is empty.
 */
async function checkpointHead(
  ctx: AuditContext,
): Promise<{ checkpoint: Checkpoint; created: boolean } | undefined> {
  const head = await chainHead(ctx.db);
  if (!head) return undefined;
  const newest = checkpointSeqs(ctx.cfg.checkpointDir)[0];
  if (newest !== undefined && newest >= head.seq) {
    const existing = newest === head.seq ? await readCheckpoint(ctx, newest) : undefined;
    if (existing?.signatureValid && existing.checkpoint.hash === head.hash)
      return { checkpoint: existing.checkpoint, created: false };
  }
  return { checkpoint: await sign(ctx, head), created: true };
}

/** POST /audit/checkpoints: a checkpoint now (201), or the newest when it signs the head (200). */
export async function takeCheckpoint(ctx: AuditContext, caller: Caller) {
  authorize(caller, 'audit:manage');
  const made = await checkpointHead(ctx);
  if (!made) throw AuditErrors.trail_empty();
  return made;
}

/**
 * The scheduled checkpoint, looked at every second (or AUDIT_CHECKPOINT_MS if shorter): signs the
 * committed head once AUDIT_CHECKPOINT_EVERY records were appended since the newest checkpoint,
 * or once AUDIT_CHECKPOINT_MS has passed since it and records were appended. It reads the head
 * committed, never one an appending transaction may still roll back.
 */
export async function scheduledCheckpoint(ctx: AuditContext): Promise<void> {
  const newest = checkpointSeqs(ctx.cfg.checkpointDir)[0] ?? 0;
  const head = await chainHead(ctx.db);
  if (!head || head.seq <= newest) return;
  const enough = head.seq - newest >= ctx.cfg.AUDIT_CHECKPOINT_EVERY;
  const late = ctx.clock.now().getTime() - ctx.checkpoints.lastAt >= ctx.cfg.AUDIT_CHECKPOINT_MS;
  if (enough || late) await sign(ctx, head);
}

/** Reads the checkpoint that signs `seq` from its file and checks its signature with our key. */
export async function readCheckpoint(ctx: AuditContext, seq: number): Promise<ReadCheckpoint | undefined> {
  const jws = readCheckpointFile(ctx.cfg.checkpointDir, seq);
  if (jws === undefined) return undefined;
  let signatureValid = true;
  let text: string;
  try {
    const { payload, protectedHeader } = await compactVerify(jws, ctx.key.publicKey, {
      algorithms: ['ES256'],
    });
    if (protectedHeader.typ !== TYP) throw new Error('not a checkpoint');
    text = new TextDecoder().decode(payload);
  } catch {
    signatureValid = false;
    text = Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8');
  }
  const claims = parseClaims(text);
  if (!claims || claims.seq !== seq) return { checkpoint: unreadable(seq, jws), signatureValid: false };
  let kid = ctx.key.kid;
  try {
    kid = decodeProtectedHeader(jws).kid ?? kid;
  } catch {
    signatureValid = false;
  }
  return { checkpoint: { ...claims, kid, jws }, signatureValid };
}

function parseClaims(text: string): { seq: number; hash: string; at: string } | undefined {
  try {
    const c = JSON.parse(text) as Record<string, unknown>;
    if (Number.isInteger(c.seq) && typeof c.hash === 'string' && typeof c.at === 'string')
      return { seq: c.seq as number, hash: c.hash, at: c.at };
  } catch {
    // not JSON: unreadable
  }
  return undefined;
}

/** A file whose content is not a checkpoint of its seq: kept in the report as invalid. */
function unreadable(seq: number, jws: string): Checkpoint {
  return { seq, hash: '0'.repeat(64), at: new Date(0).toISOString(), kid: '', jws };
}

/** The newest exported checkpoint, read and checked. */
export async function latestCheckpoint(ctx: AuditContext): Promise<ReadCheckpoint | undefined> {
  const newest = checkpointSeqs(ctx.cfg.checkpointDir)[0];
  return newest === undefined ? undefined : readCheckpoint(ctx, newest);
}

/** GET /audit/checkpoints: newest first, keyset paging by seq. */
export async function listCheckpoints(
  ctx: AuditContext,
  caller: Caller,
  query: { limit?: number; cursor?: string },
) {
  authorize(caller, 'audit:read');
  const limit = query.limit ?? 20;
  const before = decodeCursor(query.cursor, 1, ([s]) => Number.isInteger(s) && (s as number) >= 0)?.[0] as
    number | undefined;
  const seqs = checkpointSeqs(ctx.cfg.checkpointDir).filter((s) => before === undefined || s < before);
  const items: Checkpoint[] = [];
  for (const seq of seqs.slice(0, limit + 1)) {
    const read = await readCheckpoint(ctx, seq);
    if (read) items.push(read.checkpoint);
  }
  return toPage(items, limit, (c) => [c.seq]);
}

/** GET /audit/checkpoints/key: the public key that verifies every checkpoint, as a JWKS. */
export function checkpointKeys(ctx: AuditContext) {
  return { keys: [ctx.key.publicJwk] };
}
