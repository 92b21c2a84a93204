import { rowMapper, sqlParams, type Queryable } from '@hms/platform';
import type { Managed } from './domain/user.js';
import type { User } from './schemas.js';

/** The only module of the auth service that speaks SQL (STYLE.md §5). */

interface UserRow {
  id: string;
  username: string;
  email: string | null;
  full_name: string;
  roles: string[];
  staff_id: string | null;
  status: User['status'];
  password_changed_at: Date;
  failed_logins: number;
  last_login_at: Date | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `id, username, email, full_name, roles, staff_id, status, password_changed_at, failed_logins,
  last_login_at, version, created_at, updated_at`;

const toUser = rowMapper<User>(COLUMNS);

export interface NewUser extends Managed {
  id: string;
  username: string;
  passwordHash: string;
}

/** Inserts a user unless the username is taken (in any case); answers undefined when it is. */
export async function insertUser(tx: Queryable, u: NewUser): Promise<User | undefined> {
  const { rows } = await tx.query<UserRow>(
    `INSERT INTO users (id, username, email, full_name, roles, staff_id, status, password_hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT ((lower(username))) DO NOTHING
     RETURNING ${COLUMNS}`,
    [
      u.id,
      u.username,
      u.email ?? null,
      u.fullName,
      JSON.stringify(u.roles),
      u.staffId ?? null,
      u.status,
      u.passwordHash,
    ],
  );
  return rows[0] ? toUser(rows[0]) : undefined;
}

export async function userIdByUsername(db: Queryable, username: string): Promise<string | undefined> {
  const { rows } = await db.query<{ id: string }>('SELECT id FROM users WHERE lower(username) = lower($1)', [
    username,
  ]);
  return rows[0]?.id;
}

export async function getUser(db: Queryable, id: string, forUpdate = false): Promise<User | undefined> {
  const { rows } = await db.query<UserRow>(
    `SELECT ${COLUMNS} FROM users WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return rows[0] ? toUser(rows[0]) : undefined;
}

export interface Credentials {
  id: string;
  username: string;
  status: User['status'];
  roles: string[];
  staffId: string | undefined;
  passwordHash: string;
  /** bumped by every change of the password, status, roles or profile */
  version: number;
}

interface CredentialsRow {
  id: string;
  username: string;
  status: User['status'];
  roles: string[];
  staff_id: string | null;
  password_hash: string;
  version: number;
}

const CREDENTIALS = 'id, username, status, roles, staff_id, password_hash, version';

function toCredentials(r: CredentialsRow | undefined): Credentials | undefined {
  if (!r) return undefined;
  return {
    id: r.id,
    username: r.username,
    status: r.status,
    roles: r.roles,
    staffId: r.staff_id ?? undefined,
    passwordHash: r.password_hash,
    version: r.version,
  };
}

export async function credentials(db: Queryable, username: string): Promise<Credentials | undefined> {
  const { rows } = await db.query<CredentialsRow>(
    `SELECT ${CREDENTIALS} FROM users WHERE lower(username) = lower($1)`,
    [username],
  );
  return toCredentials(rows[0]);
}

/** A user's credentials as they are now, locked until the transaction ends (a session being created). */
export async function lockCredentials(tx: Queryable, id: string): Promise<Credentials | undefined> {
  const { rows } = await tx.query<CredentialsRow>(
    `SELECT ${CREDENTIALS} FROM users WHERE id = $1 FOR UPDATE`,
    [id],
  );
  return toCredentials(rows[0]);
}

export async function listUsers(
  db: Queryable,
  opts: {
    status?: User['status'] | undefined;
    role?: string | undefined;
    after?: string | undefined;
    limit: number;
  },
): Promise<User[]> {
  const { params, bind: p } = sqlParams();
  const where: string[] = ['TRUE'];
  if (opts.status) where.push(`status = ${p(opts.status)}`);
  if (opts.role) where.push(`roles @> ${p(JSON.stringify([opts.role]))}::jsonb`);
  if (opts.after) where.push(`id > ${p(opts.after)}`);
  const { rows } = await db.query<UserRow>(
    `SELECT ${COLUMNS} FROM users WHERE ${where.join(' AND ')} ORDER BY id LIMIT ${p(opts.limit + 1)}`,
    params,
  );
  return rows.map(toUser);
}

export async function updateUser(tx: Queryable, id: string, m: Managed): Promise<User> {
  const { rows } = await tx.query<UserRow>(
    `UPDATE users SET roles = $2, status = $3, full_name = $4, email = $5, staff_id = $6,
        version = version + 1, updated_at = now()
      WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, JSON.stringify(m.roles), m.status, m.fullName, m.email ?? null, m.staffId ?? null],
  );
  return toUser(rows[0] as UserRow);
}

export async function setPassword(tx: Queryable, id: string, passwordHash: string): Promise<User> {
  const { rows } = await tx.query<UserRow>(
    `UPDATE users SET password_hash = $2, password_changed_at = now(), failed_logins = 0,
        version = version + 1, updated_at = now()
      WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, passwordHash],
  );
  return toUser(rows[0] as UserRow);
}

/**
 * Counts a failed login against the user the name typed resolved to; for a name that is no
 * user's, the same statement matches nothing (the same work either way).
 */
export async function recordFailedLogin(tx: Queryable, id: string | undefined): Promise<void> {
  await tx.query('UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1', [id ?? null]);
}

/** A successful login: the failure count restarts; a hash made with older parameters is replaced. */
export async function recordLogin(tx: Queryable, id: string, newHash?: string): Promise<void> {
  await tx.query(
    `UPDATE users SET failed_logins = 0, last_login_at = now(), password_hash = coalesce($2, password_hash)
      WHERE id = $1`,
    [id, newHash ?? null],
  );
}

/** Other active administrators, locked so that two concurrent demotions cannot both pass. */
export async function otherActiveAdmins(tx: Queryable, id: string): Promise<number> {
  const { rows } = await tx.query<{ id: string }>(
    `SELECT id FROM users WHERE status = 'active' AND roles @> '["admin"]'::jsonb AND id <> $1 FOR UPDATE`,
    [id],
  );
  return rows.length;
}

export async function hasUsers(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ any: boolean }>('SELECT EXISTS (SELECT 1 FROM users) AS any');
  return rows[0]?.any === true;
}

export async function lockBootstrap(tx: Queryable): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('auth:bootstrap-admin'))`);
}

// ---- sessions and tokens ----

export async function insertSession(
  tx: Queryable,
  s: { id: string; userId: string; ip: string | undefined; expiresAt: Date },
): Promise<void> {
  await tx.query('INSERT INTO sessions (id, user_id, ip, expires_at) VALUES ($1, $2, $3, $4)', [
    s.id,
    s.userId,
    s.ip ?? null,
    s.expiresAt,
  ]);
}

export async function insertRefreshToken(
  tx: Queryable,
  t: { hash: string; sessionId: string; expiresAt: Date },
): Promise<void> {
  await tx.query('INSERT INTO refresh_tokens (token_hash, session_id, expires_at) VALUES ($1, $2, $3)', [
    t.hash,
    t.sessionId,
    t.expiresAt,
  ]);
}

export async function insertAccessToken(
  tx: Queryable,
  t: { jti: string; sessionId: string; expiresAt: Date },
): Promise<void> {
  await tx.query('INSERT INTO access_tokens (jti, session_id, expires_at) VALUES ($1, $2, $3)', [
    t.jti,
    t.sessionId,
    t.expiresAt,
  ]);
}

export interface RefreshTokenRecord {
  sessionId: string;
  userId: string;
  used: boolean;
  expired: boolean;
  sessionRevoked: boolean;
  user: Credentials;
}

/**
 * A refresh token with its session and user, locked for the rotation that follows: the token and
 * session for update, the user row shared, so that a concurrent disable, reset or role change
 * (which locks the user row for update) happens wholly before or wholly after the rotation. The
 * user row is locked first, in the order those changes lock (user, then sessions).
 */
export async function findRefreshToken(tx: Queryable, hash: string): Promise<RefreshTokenRecord | undefined> {
  await tx.query(
    `SELECT u.id FROM users u
      WHERE u.id = (SELECT s.user_id FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id
                     WHERE t.token_hash = $1)
      FOR SHARE`,
    [hash],
  );
  const { rows } = await tx.query<
    CredentialsRow & {
      session_id: string;
      used: boolean;
      expired: boolean;
      revoked: boolean;
    }
  >(
    `SELECT t.session_id, t.used_at IS NOT NULL AS used,
            (t.expires_at <= now() OR s.expires_at <= now()) AS expired, s.revoked_at IS NOT NULL AS revoked,
            u.id, u.username, u.status, u.roles, u.staff_id, '' AS password_hash, u.version
       FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id JOIN users u ON u.id = s.user_id
      WHERE t.token_hash = $1
      FOR UPDATE OF t, s FOR SHARE OF u`,
    [hash],
  );
  const r = rows[0];
  const user = toCredentials(r);
  if (!r || !user) return undefined;
  return {
    sessionId: r.session_id,
    userId: r.id,
    used: r.used,
    expired: r.expired,
    sessionRevoked: r.revoked,
    user,
  };
}

export async function markRefreshTokenUsed(tx: Queryable, hash: string): Promise<void> {
  await tx.query('UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1', [hash]);
}

/** A rotation keeps the session alive as long as its newest refresh token. */
export async function touchSession(tx: Queryable, id: string, expiresAt: Date): Promise<void> {
  await tx.query('UPDATE sessions SET refreshed_at = now(), expires_at = $2 WHERE id = $1', [id, expiresAt]);
}

/** The session an access token was issued for, if it was a user's. */
export async function sessionOfAccessToken(
  db: Queryable,
  jti: string,
): Promise<{ sessionId: string; userId: string } | undefined> {
  const { rows } = await db.query<{ session_id: string; user_id: string }>(
    'SELECT a.session_id, s.user_id FROM access_tokens a JOIN sessions s ON s.id = a.session_id WHERE a.jti = $1',
    [jti],
  );
  const r = rows[0];
  return r ? { sessionId: r.session_id, userId: r.user_id } : undefined;
}

export async function sessionOfRefreshToken(
  db: Queryable,
  hash: string,
): Promise<{ sessionId: string; userId: string } | undefined> {
  const { rows } = await db.query<{ session_id: string; user_id: string }>(
    'SELECT t.session_id, s.user_id FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE t.token_hash = $1',
    [hash],
  );
  const r = rows[0];
  return r ? { sessionId: r.session_id, userId: r.user_id } : undefined;
}

/** Revokes live sessions (by id, or every one of a user); answers those it revoked. */
export async function revokeSessions(
  tx: Queryable,
  which: { ids: string[] } | { userId: string },
  reason: string,
): Promise<{ id: string; userId: string }[]> {
  const [clause, param] =
    'ids' in which ? ['id = ANY($1::uuid[])', which.ids] : ['user_id = $1', which.userId];
  const { rows } = await tx.query<{ id: string; user_id: string }>(
    `UPDATE sessions SET revoked_at = now(), revoke_reason = $2
      WHERE ${clause} AND revoked_at IS NULL
      RETURNING id, user_id`,
    [param, reason],
  );
  return rows.map((r) => ({ id: r.id, userId: r.user_id }));
}

/** The unexpired access tokens of sessions: what a revocation must deny-list. */
export async function liveAccessTokens(
  tx: Queryable,
  sessionIds: string[],
): Promise<{ jti: string; exp: number }[]> {
  if (sessionIds.length === 0) return [];
  const { rows } = await tx.query<{ jti: string; exp: number | string }>(
    `SELECT jti, extract(epoch FROM expires_at)::int8 AS exp FROM access_tokens
      WHERE session_id = ANY($1::uuid[]) AND expires_at > now()`,
    [sessionIds],
  );
  return rows.map((r) => ({ jti: r.jti, exp: Number(r.exp) }));
}

// ---- deny-list pushes (migrations/002) ----

/**
 * Records revoked access tokens in the revoking transaction, as pushes the deny-list still needs;
 * revoking a token again asks for another push.
 */
export async function insertRevocationPushes(
  tx: Queryable,
  tokens: readonly { jti: string; exp: number }[],
): Promise<void> {
  if (tokens.length === 0) return;
  await tx.query(
    `INSERT INTO revocation_pushes (jti, expires_at)
     SELECT jti, to_timestamp(exp) FROM unnest($1::text[], $2::int8[]) AS r (jti, exp)
     ON CONFLICT (jti) DO UPDATE SET pushed_at = NULL, expires_at = excluded.expires_at`,
    [tokens.map((t) => t.jti), tokens.map((t) => t.exp)],
  );
}

/** Revoked tokens not yet on the deny-list (oldest first) and not expired (those need no push). */
export async function pendingRevocationPushes(
  db: Queryable,
  limit: number,
): Promise<{ jti: string; exp: number }[]> {
  const { rows } = await db.query<{ jti: string; exp: number | string }>(
    `SELECT jti, extract(epoch FROM expires_at)::int8 AS exp FROM revocation_pushes
      WHERE pushed_at IS NULL AND expires_at > now()
      ORDER BY created_at LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({ jti: r.jti, exp: Number(r.exp) }));
}

export async function markRevocationsPushed(db: Queryable, jtis: readonly string[]): Promise<void> {
  if (jtis.length === 0) return;
  await db.query('UPDATE revocation_pushes SET pushed_at = now() WHERE jti = ANY($1::text[])', [jtis]);
}

/** Drops sessions that ended (expired or revoked) more than `keepHours` ago, with their tokens. */
export async function pruneSessions(db: Queryable, keepHours: number): Promise<void> {
  await db.query('DELETE FROM access_tokens WHERE expires_at < now() - make_interval(hours => $1)', [
    keepHours,
  ]);
  await db.query(
    'DELETE FROM sessions WHERE coalesce(revoked_at, expires_at) < now() - make_interval(hours => $1)',
    [keepHours],
  );
  await db.query('DELETE FROM revocation_pushes WHERE expires_at < now() - make_interval(hours => $1)', [
    keepHours,
  ]);
}
