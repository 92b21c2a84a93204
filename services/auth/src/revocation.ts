import { appendToOutbox, type Db, type DenyList, type Logger, type Tx } from '@hms/platform';
import { SOURCE, defined, now, type Actor } from './context.js';
import * as store from './store.js';

export type RevokeReason = 'logout' | 'refresh_token_reuse' | 'admin' | 'user_disabled';

export interface RevokedToken {
  jti: string;
  exp: number;
}

/**
 * Revokes sessions inside the caller's transaction, with one auth.session-revoked.v1 each, and
 * answers the live access tokens they had, recorded in the same transaction as deny-list pushes
 * still to make (`pushRevocations` once the transaction committed).
 */
export async function revokeSessions(
  tx: Tx,
  which: { ids: string[] } | { userId: string },
  reason: RevokeReason,
  actor: Actor,
): Promise<RevokedToken[]> {
  const sessions = await store.revokeSessions(tx, which, reason);
  for (const s of sessions)
    await appendToOutbox(tx, SOURCE, {
      type: 'auth.session-revoked.v1',
      subject: s.userId,
      data: defined({ userId: s.userId, sessionId: s.id, reason, actor, at: now() }),
    });
  const tokens = await store.liveAccessTokens(
    tx,
    sessions.map((s) => s.id),
  );
  await store.insertRevocationPushes(tx, tokens);
  return tokens;
}

/** Records access tokens revoked in this transaction that no session revocation covered. */
export async function recordRevocations(tx: Tx, tokens: readonly RevokedToken[]): Promise<void> {
  await store.insertRevocationPushes(tx, tokens);
}

export interface RevocationDeps {
  db: Db;
  denyList: DenyList;
  logger: Logger;
}

/**
 * Puts revoked access tokens on the deny-list every guard checks (after the commit that recorded
 * them) and marks them pushed. A push that fails (Redis unreachable) stops there and leaves the
 * rest recorded for `retryRevocationPushes`: the revocation itself is committed, so the caller
 * is answered as usual. Answers whether every token was pushed and marked.
 */
export async function pushRevocations(
  deps: RevocationDeps,
  tokens: readonly RevokedToken[],
): Promise<boolean> {
  const pushed: string[] = [];
  try {
    for (const t of tokens) {
      await deps.denyList.revoke(t.jti, t.exp);
      pushed.push(t.jti);
    }
  } catch (err) {
    deps.logger.warn(
      { reason: (err as Error).message, pending: tokens.length - pushed.length },
      'deny-list push failed: the revocations are kept and retried',
    );
  }
  try {
    await store.markRevocationsPushed(deps.db, pushed);
  } catch (err) {
    // pushed again by the retry job: harmless
    deps.logger.warn({ reason: (err as Error).message }, 'could not mark deny-list pushes done');
    return false;
  }
  return pushed.length === tokens.length;
}

/** The scheduler job: pushes what failed to push before, oldest first, until none is left. */
export async function retryRevocationPushes(deps: RevocationDeps, batch = 500): Promise<void> {
  for (;;) {
    const pending = await store.pendingRevocationPushes(deps.db, batch);
    if (pending.length === 0) return;
    if (!(await pushRevocations(deps, pending)) || pending.length < batch) return;
  }
}
