import { randomBytes } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import {
  CommonErrors,
  appendToOutbox,
  checkVersion,
  decodeCursor,
  isUuid,
  loadConfig,
  toPage,
  uuidv7,
  type Db,
  type Tx,
} from '@hms/platform';
import { AuthConfig } from './config.js';
import { SOURCE, defined, now, type Actor } from './context.js';
import { checkPassword, type FieldProblem } from './domain/password.js';
import { applyPatch, changedFields, isActiveAdmin, sessionsMustEnd, type Managed } from './domain/user.js';
import { AuthErrors } from './errors.js';
import { hashPassword } from './passwords.js';
import { pushRevocations, revokeSessions, type RevocationDeps } from './revocation.js';
import type { User, UserInput, UserPatch } from './schemas.js';
import * as store from './store.js';

/** Administration of users (DOMAIN.md "Auth"): each use case authorizes at the route, then validates, loads, decides, saves, emits. */

const invalid = (errors: FieldProblem[]) =>
  CommonErrors.validation_failed('one or more fields are not valid', { errors });

const managedOf = (u: User): Managed => ({
  roles: u.roles,
  status: u.status,
  fullName: u.fullName,
  email: u.email,
  staffId: u.staffId,
});

async function insertNewUser(tx: Tx, input: store.NewUser, actor: Actor): Promise<User> {
  const user = await store.insertUser(tx, input);
  if (!user) {
    const existingId = await store.userIdByUsername(tx, input.username);
    throw AuthErrors.username_taken('choose another username', { extensions: { existingId } });
  }
  await appendToOutbox(tx, SOURCE, {
    type: 'auth.user-created.v1',
    subject: user.id,
    data: defined({
      userId: user.id,
      username: user.username,
      roles: user.roles,
      status: user.status,
      staffId: user.staffId,
      actor,
      at: now(),
    }),
  });
  return user;
}

export async function createUser(db: Db, input: UserInput, actor: Actor): Promise<User> {
  const fullName = input.fullName.trim();
  const problems = checkPassword(input.password, input.username);
  if (!fullName) problems.push({ path: '/body/fullName', message: 'must not be blank' });
  if (problems.length > 0) throw invalid(problems);
  const passwordHash = await hashPassword(input.password);
  return db.transaction((tx) =>
    insertNewUser(
      tx,
      {
        id: uuidv7(),
        username: input.username,
        email: input.email,
        fullName,
        roles: input.roles,
        staffId: input.staffId,
        status: input.status ?? 'active',
        passwordHash,
      },
      actor,
    ),
  );
}

export async function getUser(db: Db, id: string): Promise<User> {
  const user = await store.getUser(db, id);
  if (!user) throw AuthErrors.user_not_found();
  return user;
}

export async function listUsers(
  db: Db,
  q: { status?: User['status']; role?: string; limit?: number; cursor?: string },
) {
  const limit = q.limit ?? 20;
  const key = decodeCursor(q.cursor, 1)?.[0];
  if (key !== undefined && (typeof key !== 'string' || !isUuid(key)))
    throw invalid([{ path: '/querystring/cursor', message: 'is not a cursor this list issued' }]);
  const after = typeof key === 'string' ? key : undefined;
  const rows = await store.listUsers(db, { status: q.status, role: q.role, after, limit });
  return toPage(rows, limit, (u) => [u.id]);
}

/**
 * PATCH: changes the fields sent; ending a user's access (or narrowing it) ends its sessions at
 * once. The change and the revocation commit together; the deny-list push follows, retried by a
 * job if Redis cannot take it now, so the answer does not depend on Redis.
 */
export async function patchUser(
  ctx: RevocationDeps,
  id: string,
  patch: UserPatch,
  expected: number | '*' | undefined,
  actor: Actor,
): Promise<User> {
  const { user, revoked } = await ctx.db.transaction(async (tx) => {
    const current = await store.getUser(tx, id, true);
    if (!current) throw AuthErrors.user_not_found();
    if (expected !== undefined) checkVersion(expected, current.version);
    const before = managedOf(current);
    const next = applyPatch(before, patch);
    if (!next.fullName) throw invalid([{ path: '/body/fullName', message: 'must not be blank' }]);
    const changed = changedFields(before, next);
    if (changed.length === 0) return { user: current, revoked: [] };
    if (isActiveAdmin(before) && !isActiveAdmin(next) && (await store.otherActiveAdmins(tx, id)) === 0)
      throw AuthErrors.last_admin('make another user an active administrator first');
    const updated = await store.updateUser(tx, id, next);
    await appendToOutbox(tx, SOURCE, {
      type: 'auth.user-updated.v1',
      subject: id,
      data: defined({
        userId: id,
        username: updated.username,
        roles: updated.roles,
        status: updated.status,
        changedFields: changed,
        actor,
        at: now(),
      }),
    });
    const ended = sessionsMustEnd(before, next)
      ? await revokeSessions(
          tx,
          { userId: id },
          next.status === 'disabled' ? 'user_disabled' : 'admin',
          actor,
        )
      : [];
    return { user: updated, revoked: ended };
  });
  await pushRevocations(ctx, revoked);
  return user;
}

/** An administrator sets a new password; every session of the user ends. */
export async function resetPassword(
  ctx: RevocationDeps,
  id: string,
  password: string,
  actor: Actor,
): Promise<void> {
  const current = await getUser(ctx.db, id);
  const problems = checkPassword(password, current.username);
  if (problems.length > 0) throw invalid(problems);
  const passwordHash = await hashPassword(password);
  const revoked = await ctx.db.transaction(async (tx) => {
    const user = await store.getUser(tx, id, true);
    if (!user) throw AuthErrors.user_not_found();
    await store.setPassword(tx, id, passwordHash);
    await appendToOutbox(tx, SOURCE, {
      type: 'auth.password-reset.v1',
      subject: id,
      data: defined({ userId: id, username: user.username, actor, at: now() }),
    });
    return revokeSessions(tx, { userId: id }, 'admin', actor);
  });
  await pushRevocations(ctx, revoked);
}

export type BootstrapResult =
  { created: false } | { created: true; username: string; generatedPassword?: string | undefined };

/**
 * The first administrator, created once, when the user table is empty: from HMS_ADMIN_USERNAME
 * (default `admin`) and HMS_ADMIN_PASSWORD (or their `_FILE`s). Without a password nothing happens, unless
 * `generatePassword` (embedded mode): then a random one is made and answered, for the launcher
 * to print once. It is never logged.
 */
export async function bootstrapAdmin(
  db: Db,
  env: NodeJS.ProcessEnv,
  opts: { generatePassword?: boolean } = {},
): Promise<BootstrapResult> {
  const admin = loadConfig(Type.Pick(AuthConfig, ['HMS_ADMIN_USERNAME', 'HMS_ADMIN_PASSWORD']), env);
  if (await store.hasUsers(db)) return { created: false };
  const username = admin.HMS_ADMIN_USERNAME ?? 'admin';
  const configured = admin.HMS_ADMIN_PASSWORD;
  const generatedPassword =
    configured || !opts.generatePassword ? undefined : randomBytes(18).toString('base64url');
  const password = configured ?? generatedPassword;
  if (!password) return { created: false };
  const problems = checkPassword(password, username, 'HMS_ADMIN_PASSWORD');
  if (problems.length > 0) throw new Error(`HMS_ADMIN_PASSWORD: ${problems[0]?.message ?? 'not valid'}`);
  const passwordHash = await hashPassword(password);
  return db.transaction(async (tx) => {
    await store.lockBootstrap(tx);
    if (await store.hasUsers(tx)) return { created: false };
    await insertNewUser(
      tx,
      { id: uuidv7(), username, fullName: 'Administrator', roles: ['admin'], status: 'active', passwordHash },
      'svc:auth',
    );
    return { created: true, username, generatedPassword };
  });
}
