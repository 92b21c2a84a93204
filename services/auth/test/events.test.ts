import { assertValidEvent, EVENT_TYPES } from '@hms/contracts';
import { describe, expect, it } from 'vitest';
import {
  useAuth,
  ADMIN,
  AUTH,
  CLIENT_SECRETS,
  USERS,
  createUser,
  login,
  loginOk,
  newIp,
  newUser,
  outbox,
  type AuthUnderTest,
  type TokenPair,
} from './helpers.js';

let svc: AuthUnderTest;

useAuth({ LOGIN_MAX_FAILURES_PER_USERNAME: '2' }, async (s) => {
  svc = s;
});

describe('security events', () => {
  it('every flow writes valid events through the outbox, and none carries a password, token or hash', async () => {
    const secrets: string[] = [ADMIN.password, ...Object.values(CLIENT_SECRETS)];
    const adminPair = await loginOk(svc, ADMIN.username, ADMIN.password);
    const admin = adminPair.access_token;
    secrets.push(adminPair.access_token, adminPair.refresh_token);

    const input = newUser({ roles: ['nurse'] });
    secrets.push(input.password);
    const user = await createUser(svc, admin, input);
    const first = await loginOk(svc, input.username, input.password);
    secrets.push(first.access_token, first.refresh_token);
    const rotated = (
      await svc.request<TokenPair>('POST', `${AUTH}/refresh`, {
        body: { refresh_token: first.refresh_token },
      })
    ).body;
    secrets.push(rotated.access_token, rotated.refresh_token);
    await svc.request('POST', `${AUTH}/refresh`, { body: { refresh_token: first.refresh_token } }); // reuse
    const wrongPassword = 'a-wrong-password-typed';
    secrets.push(wrongPassword);
    for (let i = 0; i < 3; i++) await login(svc, input.username, wrongPassword, newIp());
    // a password typed in the username field stays out of every event (issue #17)
    const typedAsName = 'Hunter2-typed-as-a-username';
    secrets.push(typedAsName, typedAsName.toLowerCase());
    for (let i = 0; i < 3; i++) await login(svc, typedAsName, wrongPassword, newIp());
    const second = await loginOk(svc, ADMIN.username, ADMIN.password);
    secrets.push(second.access_token, second.refresh_token);
    await svc.request('POST', `${AUTH}/logout`, { token: second.access_token });
    const resetTo = 'the-password-after-reset';
    secrets.push(resetTo);
    await svc.request('POST', `${USERS}/${user.id}/reset-password`, {
      token: admin,
      body: { password: resetTo },
    });
    await svc.request('PATCH', `${USERS}/${user.id}`, {
      token: admin,
      body: { status: 'disabled', roles: ['auditor'] },
    });
    const service = await svc.request<{ access_token: string }>('POST', `${AUTH}/token`, {
      body: { grant_type: 'client_credentials', client_id: 'gateway', client_secret: CLIENT_SECRETS.gateway },
    });
    secrets.push(service.body.access_token);

    const rows = await outbox(svc);
    const types = new Set(rows.map((r) => r.type));
    for (const type of Object.keys(EVENT_TYPES).filter((t) => t.startsWith('auth.')))
      expect(types).toContain(type);
    for (const row of rows) {
      assertValidEvent(row.envelope);
      expect(row.envelope.source).toBe('/hms/auth');
    }
    const text = JSON.stringify(rows);
    for (const secret of secrets) expect(text).not.toContain(secret);
    const { rows: hashes } = await svc.db.query<{ password_hash: string }>('SELECT password_hash FROM users');
    for (const { password_hash } of hashes) expect(text).not.toContain(password_hash.split('$').pop());
    const { rows: refreshHashes } = await svc.db.query<{ token_hash: string }>(
      'SELECT token_hash FROM refresh_tokens',
    );
    for (const { token_hash } of refreshHashes) expect(text).not.toContain(token_hash);
    expect(text).not.toMatch(/argon2|password"|token"/i);
  });
});
