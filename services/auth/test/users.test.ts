import { expectProblem, expectValidationErrors } from '@hms/testkit/vitest';
import { describe, expect, it } from 'vitest';
import {
  useAuth,
  ANY_STRING,
  ADMIN,
  AUTH,
  USERS,
  adminToken,
  createUser,
  login,
  loginOk,
  newUser,
  outbox,
  type AuthUnderTest,
  type TokenPair,
} from './helpers.js';
import type { User } from '../src/schemas.js';

let svc: AuthUnderTest;
let admin: string;
let physician: string;

useAuth({}, async (s) => {
  svc = s;
  admin = await adminToken(svc);
  const input = newUser({ roles: ['physician'] });
  await createUser(svc, admin, input);
  physician = (await loginOk(svc, input.username, input.password)).access_token;
});

const get = (id: string) => svc.request<User>('GET', `${USERS}/${id}`, { token: admin });
const patch = (id: string, body: unknown, headers: Record<string, string> = {}) =>
  svc.request<User>('PATCH', `${USERS}/${id}`, { token: admin, body, headers });
const me = (token: string) => svc.request('GET', `${AUTH}/me`, { token });
const userCount = async () =>
  (await svc.db.query<{ n: number }>('SELECT count(*)::int AS n FROM users')).rows[0]?.n;

describe('authorization', () => {
  const id = '01900000-0000-7000-8000-000000000001';
  const routes: [string, string, unknown][] = [
    ['POST', USERS, newUser()],
    ['GET', USERS, undefined],
    ['GET', `${USERS}/${id}`, undefined],
    ['PATCH', `${USERS}/${id}`, { fullName: 'X' }],
    ['POST', `${USERS}/${id}/reset-password`, { password: 'a-new-password-123' }],
  ];
  it.each(routes)(
    '%s %s answers 401 without a token and 403 without users:manage',
    async (method, path, body) => {
      const opts = body === undefined ? {} : { body };
      expect(expectProblem(await svc.request(method, path, opts), 401).code).toBe('unauthenticated');
      const res = await svc.request(method, path, { ...opts, token: physician });
      expect(expectProblem(res, 403).detail).toBe('requires the users:manage permission');
    },
  );
});

describe('POST /auth/users', () => {
  it('creates a user: 201, Location, ETag, the record without any password or hash', async () => {
    const input = newUser({
      roles: ['nurse', 'receptionist'],
      staffId: '01900000-0000-7000-8000-0000000000bb',
    });
    const res = await svc.request<User>('POST', USERS, { token: admin, body: input });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe(`${USERS}/${res.body.id}`);
    expect(res.headers.get('etag')).toBe('"v1"');
    expect(res.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-7/) as string,
      username: input.username,
      email: input.email,
      fullName: input.fullName,
      roles: ['nurse', 'receptionist'],
      staffId: input.staffId,
      status: 'active',
      passwordChangedAt: ANY_STRING,
      failedLogins: 0,
      version: 1,
      createdAt: ANY_STRING,
      updatedAt: ANY_STRING,
    });
    expect(JSON.stringify(res.body)).not.toContain(input.password);
    const { rows } = await svc.db.query<{ password_hash: string }>(
      'SELECT password_hash FROM users WHERE id = $1',
      [res.body.id],
    );
    expect(rows[0]?.password_hash).toMatch(/^\$argon2id\$v=19\$/);
    expect(rows[0]?.password_hash).not.toContain(input.password);
  });

  it.each([
    ['a password shorter than 12 characters', { password: 'short-pw' }, '/body/password', 'at least 12'],
    [
      'the username as password',
      { username: 'samepassword1', password: 'SAMEPASSWORD1' },
      '/body/password',
      'username',
    ],
    ['an unknown role', { roles: ['superuser'] }, '/body/roles/0', ''],
    ['a duplicated role', { roles: ['nurse', 'nurse'] }, '/body/roles', ''],
    ['a username with spaces', { username: 'grace hopper' }, '/body/username', ''],
    ['a bad email', { email: 'not-an-email' }, '/body/email', ''],
    ['a bad staff id', { staffId: 'staff-1' }, '/body/staffId', ''],
    ['a blank full name', { fullName: '   ' }, '/body/fullName', 'blank'],
    ['an unknown status', { status: 'sleeping' }, '/body/status', ''],
    ['an unknown field', { admin: true }, '/body/admin', ''],
  ])('answers 400 naming the field for %s, and creates nothing', async (_what, overrides, path, message) => {
    const before = await userCount();
    const res = await svc.request('POST', USERS, { token: admin, body: { ...newUser(), ...overrides } });
    const errors = expectValidationErrors(res);
    const error = errors.find((e) => e.path === path);
    expect(error, JSON.stringify(errors)).toBeDefined();
    expect(error?.message).toContain(message);
    expect(await userCount()).toBe(before);
  });

  it('answers 400 listing every missing field', async () => {
    const errors = expectValidationErrors(await svc.request('POST', USERS, { token: admin, body: {} }));
    expect(errors.map((e) => e.path).sort()).toEqual([
      '/body/fullName',
      '/body/password',
      '/body/roles',
      '/body/username',
    ]);
  });

  it('answers 409 with existingId for a username taken in another letter case', async () => {
    const first = await createUser(svc, admin);
    const res = await svc.request('POST', USERS, {
      token: admin,
      body: newUser({ username: first.username.toUpperCase() }),
    });
    expect(expectProblem(res, 409)).toMatchObject({ code: 'username_taken', existingId: first.id });
  });

  it('replays the first answer for the same Idempotency-Key: one user', async () => {
    const input = newUser();
    const key = `create-${input.username}`;
    const send = () =>
      svc.request<User>('POST', USERS, { token: admin, body: input, headers: { 'idempotency-key': key } });
    const before = await userCount();
    const a = await send();
    const b = await send();
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(b.body).toEqual(a.body);
    expect(b.headers.get('idempotent-replayed')).toBe('true');
    expect(await userCount()).toBe((before ?? 0) + 1);
    const other = await svc.request('POST', USERS, {
      token: admin,
      body: newUser(),
      headers: { 'idempotency-key': key },
    });
    expectProblem(other, 422);
  });
});

describe('GET /auth/users', () => {
  it('pages through every user in creation order, filtered by status and role', async () => {
    const role = 'pharmacist';
    const made = [
      await createUser(svc, admin, newUser({ roles: [role] })),
      await createUser(svc, admin, newUser({ roles: [role, 'nurse'] })),
      await createUser(svc, admin, newUser({ roles: [role], status: 'disabled' })),
    ];
    const seen: User[] = [];
    let cursor: string | null = null;
    do {
      const res: { status: number; body: { items: User[]; nextCursor: string | null } } = await svc.request(
        'GET',
        `${USERS}?role=${role}&limit=1${cursor ? `&cursor=${cursor}` : ''}`,
        { token: admin },
      );
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(1);
      seen.push(...res.body.items);
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen.map((u) => u.id)).toEqual(made.map((u) => u.id));
    const active = await svc.request<{ items: User[] }>('GET', `${USERS}?role=${role}&status=active`, {
      token: admin,
    });
    expect(active.body.items.map((u) => u.id)).toEqual(made.slice(0, 2).map((u) => u.id));
    const all = await svc.request<{ items: User[] }>('GET', `${USERS}?limit=100`, { token: admin });
    expect(all.body.items.map((u) => u.username)).toContain(ADMIN.username);
    expect(JSON.stringify(all.body)).not.toMatch(/argon2|password_hash|passwordHash/);
  });

  it.each([
    ['an unknown role', '?role=superuser', '/querystring/role'],
    ['an unknown status', '?status=sleeping', '/querystring/status'],
    ['a limit over 100', '?limit=101', '/querystring/limit'],
    ['a foreign cursor', `?cursor=${Buffer.from('["x"]').toString('base64url')}`, '/querystring/cursor'],
  ])('answers 400 for %s', async (_what, query, path) => {
    const errors = expectValidationErrors(await svc.request('GET', USERS + query, { token: admin }));
    expect(errors.map((e) => e.path)).toContain(path);
  });
});

describe('GET /auth/users/:id', () => {
  it('answers the user with an ETag, 404 for an unknown id, 400 for a bad id', async () => {
    const user = await createUser(svc, admin);
    const res = await get(user.id);
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"v1"');
    expect(res.body).toEqual(user);
    expect(expectProblem(await get('01900000-0000-7000-8000-00000000dead'), 404).code).toBe('user_not_found');
    expect(expectValidationErrors(await get('nope')).map((e) => e.path)).toEqual(['/params/id']);
  });
});

describe('PATCH /auth/users/:id', () => {
  it('changes the fields sent, bumps the version and the ETag, and writes auth.user-updated.v1', async () => {
    const user = await createUser(svc, admin);
    const res = await patch(user.id, {
      fullName: 'Rear Admiral Hopper',
      roles: ['physician', 'manager'],
      email: null,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"v2"');
    expect(res.body).toMatchObject({
      fullName: 'Rear Admiral Hopper',
      roles: ['physician', 'manager'],
      version: 2,
    });
    expect(res.body).not.toHaveProperty('email');
    const events = (await outbox(svc, 'auth.user-updated.v1')).filter((r) => r.subject === user.id);
    expect(events.map((e) => e.envelope.data)).toEqual([
      {
        userId: user.id,
        username: user.username,
        roles: ['physician', 'manager'],
        status: 'active',
        changedFields: ['roles', 'fullName', 'email'],
        actor: ANY_STRING,
        at: ANY_STRING,
      },
    ]);
  });

  it('honours If-Match: 412 when stale, 200 when current; no change means no new version', async () => {
    const user = await createUser(svc, admin);
    expect((await patch(user.id, { fullName: 'Changed Once' }, { 'if-match': '"v1"' })).status).toBe(200);
    const stale = await patch(user.id, { fullName: 'Changed Twice' }, { 'if-match': '"v1"' });
    expect(expectProblem(stale, 412).currentETag).toBe('"v2"');
    expect((await get(user.id)).body.fullName).toBe('Changed Once');
    const same = await patch(user.id, { fullName: 'Changed Once' }, { 'if-match': '"v2"' });
    expect(same.status).toBe(200);
    expect(same.body.version).toBe(2);
    expectProblem(await patch(user.id, { fullName: 'x' }, { 'if-match': 'garbage' }), 412);
  });

  it('disabling a user revokes its sessions at once: access and refresh tokens stop working', async () => {
    const input = newUser();
    const user = await createUser(svc, admin, input);
    const pair = await loginOk(svc, input.username, input.password);
    expect((await me(pair.access_token)).status).toBe(200);
    expect((await patch(user.id, { status: 'disabled' })).status).toBe(200);
    expectProblem(await me(pair.access_token), 401);
    expectProblem(
      await svc.request('POST', `${AUTH}/refresh`, { body: { refresh_token: pair.refresh_token } }),
      401,
    );
    expectProblem(await login(svc, input.username, input.password), 401);
    const revoked = (await outbox(svc, 'auth.session-revoked.v1')).filter((r) => r.subject === user.id);
    expect(revoked.map((r) => r.envelope.data.reason)).toEqual(['user_disabled']);
  });

  it('removing a role ends the sessions; adding one does not', async () => {
    const input = newUser({ roles: ['nurse'] });
    const user = await createUser(svc, admin, input);
    const pair = await loginOk(svc, input.username, input.password);
    expect((await patch(user.id, { roles: ['nurse', 'receptionist'] })).status).toBe(200);
    expect((await me(pair.access_token)).status).toBe(200);
    expect((await patch(user.id, { roles: ['receptionist'] })).status).toBe(200);
    expectProblem(await me(pair.access_token), 401);
  });

  it('refuses to take the admin role from, or deactivate, the last active administrator', async () => {
    const { rows } = await svc.db.query<{ id: string }>(
      'SELECT id FROM users WHERE lower(username) = lower($1)',
      [ADMIN.username],
    );
    const adminId = rows[0]?.id ?? '';
    expect(expectProblem(await patch(adminId, { roles: ['auditor'] }), 409).code).toBe('last_admin');
    expectProblem(await patch(adminId, { status: 'locked' }), 409);
    expect((await get(adminId)).body).toMatchObject({ roles: ['admin'], status: 'active' });
  });

  it('answers 400 for bad values and 404 for an unknown user', async () => {
    const user = await createUser(svc, admin);
    expect(expectValidationErrors(await patch(user.id, { roles: ['root'] })).map((e) => e.path)).toContain(
      '/body/roles/0',
    );
    expectValidationErrors(await patch(user.id, { username: 'renamed' }));
    expectValidationErrors(await patch(user.id, { password: 'a-new-password-123' }));
    expectProblem(await patch('01900000-0000-7000-8000-00000000dead', { fullName: 'X' }), 404);
  });
});

describe('POST /auth/users/:id/reset-password', () => {
  it('sets the password: the old one stops working, the new one works, sessions end, an event is written', async () => {
    const input = newUser();
    const user = await createUser(svc, admin, input);
    const pair: TokenPair = await loginOk(svc, input.username, input.password);
    const newPassword = 'a-brand-new-passphrase';
    const res = await svc.request('POST', `${USERS}/${user.id}/reset-password`, {
      token: admin,
      body: { password: newPassword },
    });
    expect(res.status).toBe(204);
    expectProblem(await me(pair.access_token), 401);
    expectProblem(await login(svc, input.username, input.password), 401);
    await loginOk(svc, input.username, newPassword);
    const after = await get(user.id);
    expect(after.body.version).toBe(2);
    expect(Date.parse(after.body.passwordChangedAt)).toBeGreaterThan(Date.parse(user.passwordChangedAt));
    const events = (await outbox(svc, 'auth.password-reset.v1')).filter((r) => r.subject === user.id);
    expect(events.map((e) => e.envelope.data)).toEqual([
      { userId: user.id, username: user.username, actor: ANY_STRING, at: ANY_STRING },
    ]);
  });

  it('applies the password policy (400) and answers 404 for an unknown user', async () => {
    const user = await createUser(svc, admin);
    const short = await svc.request('POST', `${USERS}/${user.id}/reset-password`, {
      token: admin,
      body: { password: 'short' },
    });
    expect(expectValidationErrors(short)).toEqual([
      { path: '/body/password', message: 'must be at least 12 characters long' },
    ]);
    const same = await svc.request('POST', `${USERS}/${user.id}/reset-password`, {
      token: admin,
      body: { password: user.username.toUpperCase() },
    });
    expect(same.status).toBe(400);
    const unknown = await svc.request(
      'POST',
      `${USERS}/01900000-0000-7000-8000-00000000dead/reset-password`,
      {
        token: admin,
        body: { password: 'a-brand-new-passphrase' },
      },
    );
    expectProblem(unknown, 404);
  });
});
