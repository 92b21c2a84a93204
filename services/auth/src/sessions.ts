import { permissionsOf } from '@hms/contracts';
import { appendToOutbox, isUuid, uuidv7, type Principal } from '@hms/platform';
import { SOURCE, defined, now, type AuthContext } from './context.js';
import { loginRefusal, onlyRehashed, sessionRefusal, type LoginRefusal } from './domain/login.js';
import { AuthErrors } from './errors.js';
import { needsRehash, hashPassword, verifyPassword } from './passwords.js';
import { pushRevocations, recordRevocations, revokeSessions, type RevokedToken } from './revocation.js';
import type { TokenPair } from './schemas.js';
import type { Credentials } from './store.js';
import * as store from './store.js';
import type { LoginAttempt, Throttled } from './throttle.js';
import { introspectionKey } from './introspection.js';
import { newRefreshToken, sha256 } from './tokens.js';

/** Logins, refresh-token rotation and logout (DOMAIN.md "Auth", DESIGN.md §4). */

const FAILED = () => AuthErrors.invalid_credentials('the username or password is not correct');
const INVALID_REFRESH = () => AuthErrors.invalid_refresh_token('log in again');

function throttledError(t: Throttled) {
  return AuthErrors.login_throttled('too many failed logins; retry later', {
    headers: { 'retry-after': String(t.retryAfterSec) },
  });
}

export interface LoginMeta {
  ip: string;
}

/**
 * `POST /auth/login` (the name already matched the username pattern). An unknown username, a
 * wrong password and an account that may not log in answer the same 401, after the same argon2
 * work; a throttled name, user or address answers 429 before any, whether or not the account
 * exists. The session is created only if the user row, locked, is still the one the password
 * was checked against.
 */
export async function login(
  ctx: AuthContext,
  input: { username: string; password: string },
  meta: LoginMeta,
): Promise<TokenPair> {
  const user = await store.credentials(ctx.db, input.username);
  const attempt: LoginAttempt = { username: input.username, ip: meta.ip, userId: user?.id };
  const throttled = await ctx.throttle.check(attempt);
  if (throttled) throw throttledError(throttled);
  const passwordOk = await verifyPassword(user?.passwordHash, input.password);
  const refusal = loginRefusal(user, passwordOk);
  if (refusal || !user) {
    await loginFailed(ctx, attempt, refusal ?? 'invalid_credentials');
    throw FAILED();
  }
  const rehash = needsRehash(user.passwordHash) ? await hashPassword(input.password) : undefined;
  const started = await startSession(ctx, user, input.password, meta, rehash);
  if ('refused' in started) {
    await loginFailed(ctx, attempt, started.refused);
    throw FAILED();
  }
  await ctx.throttle.recordSuccess(attempt);
  return started;
}

/**
 * Counts a refused login and records it. Events name the user only by id, when the name matched
 * one: what was typed (sometimes a password in the wrong field) goes nowhere.
 */
async function loginFailed(ctx: AuthContext, attempt: LoginAttempt, reason: LoginRefusal): Promise<void> {
  const started = await ctx.throttle.recordFailure(attempt);
  const { userId, ip } = attempt;
  const subject = userId ?? `ip:${ip}`;
  await ctx.db.transaction(async (tx) => {
    await store.recordFailedLogin(tx, userId);
    await appendToOutbox(tx, SOURCE, {
      type: 'auth.login-failed.v2',
      subject,
      data: defined({ userMatched: userId !== undefined, userId, reason, ip, at: now() }),
    });
    for (const t of started)
      await appendToOutbox(tx, SOURCE, {
        type: 'auth.throttled.v1',
        subject: t.scope === 'username' ? subject : `ip:${ip}`,
        data: { scope: t.scope, ip, retryAfterSec: t.retryAfterSec, at: now() },
      });
  });
}

const inSeconds = (sec: number) => new Date(Date.now() + sec * 1000);

/**
 * Creates the session in one transaction that first locks the user row and checks it against
 * what the password was verified with; the access token is issued from that locked row. A reset,
 * disable or role change commits either before (the login is refused) or after (it finds and
 * revokes this session and its access token).
 */
async function startSession(
  ctx: AuthContext,
  checked: Credentials,
  password: string,
  meta: LoginMeta,
  rehash: string | undefined,
): Promise<TokenPair | { refused: LoginRefusal }> {
  const sessionId = uuidv7();
  const refreshToken = newRefreshToken();
  const expiresAt = inSeconds(ctx.cfg.REFRESH_TOKEN_TTL_SEC);
  return ctx.db.transaction(async (tx) => {
    const user = await store.lockCredentials(tx, checked.id);
    if (!user) return { refused: 'invalid_credentials' as const };
    const refused = sessionRefusal(checked, user);
    const rehashed = onlyRehashed(checked, user);
    if (refused && !(rehashed && (await verifyPassword(user.passwordHash, password)))) return { refused };
    const access = await ctx.tokens.issueAccess(user);
    await store.insertSession(tx, { id: sessionId, userId: user.id, ip: meta.ip, expiresAt });
    await store.insertRefreshToken(tx, { hash: sha256(refreshToken), sessionId, expiresAt });
    await store.insertAccessToken(tx, { jti: access.jti, sessionId, expiresAt: new Date(access.exp * 1000) });
    await store.recordLogin(tx, user.id, rehashed ? undefined : rehash);
    await appendToOutbox(tx, SOURCE, {
      type: 'auth.login-succeeded.v1',
      subject: user.id,
      data: { userId: user.id, username: user.username, sessionId, ip: meta.ip, at: now() },
    });
    return {
      access_token: access.token,
      token_type: 'Bearer' as const,
      expires_in: ctx.tokens.accessTtlSec,
      refresh_token: refreshToken,
    };
  });
}

type RefreshOutcome = { ok: TokenPair } | { reused: RevokedToken[] } | { invalid: true };

/**
 * `POST /auth/refresh`: a refresh token is good once. Presenting it again means it was copied:
 * the whole session (token family) is revoked, its access tokens deny-listed, and both the thief
 * and the owner must log in again.
 */
export async function refresh(ctx: AuthContext, refreshToken: string): Promise<TokenPair> {
  const hash = sha256(refreshToken);
  const outcome = await ctx.db.transaction(async (tx): Promise<RefreshOutcome> => {
    const found = await store.findRefreshToken(tx, hash);
    if (!found || found.sessionRevoked) return { invalid: true };
    if (found.used)
      return {
        reused: await revokeSessions(tx, { ids: [found.sessionId] }, 'refresh_token_reuse', undefined),
      };
    if (found.expired || found.user.status !== 'active') return { invalid: true };
    await store.markRefreshTokenUsed(tx, hash);
    const next = newRefreshToken();
    const expiresAt = inSeconds(ctx.cfg.REFRESH_TOKEN_TTL_SEC);
    const access = await ctx.tokens.issueAccess(found.user);
    await store.insertRefreshToken(tx, { hash: sha256(next), sessionId: found.sessionId, expiresAt });
    await store.insertAccessToken(tx, {
      jti: access.jti,
      sessionId: found.sessionId,
      expiresAt: new Date(access.exp * 1000),
    });
    await store.touchSession(tx, found.sessionId, expiresAt);
    return {
      ok: {
        access_token: access.token,
        token_type: 'Bearer',
        expires_in: ctx.tokens.accessTtlSec,
        refresh_token: next,
      },
    };
  });
  if ('ok' in outcome) return outcome.ok;
  if ('reused' in outcome) {
    await pushRevocations(ctx, outcome.reused);
    ctx.logger.warn('refresh token reused: session revoked');
  }
  throw INVALID_REFRESH();
}

/**
 * `POST /auth/logout`: revokes the session of the bearer token (and the one of the refresh token
 * sent, when it is the caller's), deny-lists the bearer token and every live access token of
 * those sessions, and drops the bearer token's cached introspection.
 */
export async function logout(
  ctx: AuthContext,
  caller: Principal,
  bearer: string,
  refreshToken: string | undefined,
): Promise<void> {
  const sessions = new Set<string>();
  const ofAccess = await store.sessionOfAccessToken(ctx.db, caller.jti);
  if (ofAccess?.userId === caller.sub) sessions.add(ofAccess.sessionId);
  if (refreshToken) {
    const ofRefresh = await store.sessionOfRefreshToken(ctx.db, sha256(refreshToken));
    if (ofRefresh?.userId === caller.sub) sessions.add(ofRefresh.sessionId);
  }
  const bearerToken: RevokedToken = { jti: caller.jti, exp: caller.exp };
  const revoked = await ctx.db.transaction(async (tx) => {
    const ended = await revokeSessions(tx, { ids: [...sessions] }, 'logout', caller.sub);
    await recordRevocations(tx, [bearerToken]);
    return ended;
  });
  await pushRevocations(ctx, [bearerToken, ...revoked]);
  await ctx.store.del(introspectionKey(bearer));
}

/** `GET /auth/me`: the caller's own user record and what it may do. */
export async function me(ctx: AuthContext, caller: Principal) {
  const user = isUuid(caller.sub) ? await store.getUser(ctx.db, caller.sub) : undefined;
  if (!user) throw AuthErrors.user_not_found('this token does not belong to a user');
  return { ...user, permissions: [...permissionsOf(user.roles)].sort() };
}
