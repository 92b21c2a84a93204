import { appendToOutbox, type DenyList, type Tx } from '@hms/platform';
import { SOURCE, defined, now, type Actor } from './context.js';
import * as store from './store.js';

export type RevokeReason = 'logout' | 'refresh_token_reuse' | 'admin' | 'user_disabled';

export interface RevokedToken {
  jti: string;
  exp: number;
}

/**
 * Revokes sessions inside the caller's transaction, with one auth.session-revoked.v1 each, and
 * answers the live access tokens they had, for the deny-list once the transaction committed.
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
  return store.liveAccessTokens(
    tx,
    sessions.map((s) => s.id),
  );
}

/** Puts revoked access tokens on the deny-list every guard checks (after the commit). */
export async function denyAll(denyList: DenyList, tokens: readonly RevokedToken[]): Promise<void> {
  for (const t of tokens) await denyList.revoke(t.jti, t.exp);
}
