import { randomBytes } from 'node:crypto';
import { DenyList, RedisStore } from '@hms/platform';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TcpProxy } from '../../../packages/platform/test/tcp-proxy.js';
import {
  AUTH,
  USERS,
  adminToken,
  createUser,
  eventually,
  loginOk,
  newUser,
  startAuth,
  type AuthUnderTest,
  START_TIMEOUT_MS,
} from './helpers.js';

/**
 * Issue #17, suspicion "revocation lost when Redis fails": the deny-list write that follows a
 * revocation must not be lost when Redis is unreachable at that moment. The auth service reaches
 * real Redis through a TCP proxy that is cut and restored; another verifier (a second DenyList on
 * the same key prefix, connected directly) must learn of the revocation once Redis is back.
 */

const redisUrl = process.env.TEST_REDIS_URL;

describe.skipIf(!redisUrl)('revocation while Redis is unreachable', () => {
  let proxy: TcpProxy;
  let viaProxy: RedisStore;
  let direct: RedisStore;
  let otherReplica: DenyList;
  let svc: AuthUnderTest;
  let admin: string;
  const prefix = `test:${randomBytes(4).toString('hex')}:`;

  beforeAll(async () => {
    const upstream = new URL(redisUrl ?? '');
    proxy = new TcpProxy({ host: upstream.hostname, port: Number(upstream.port || 6379) });
    await proxy.start();
    viaProxy = new RedisStore(proxy.urlFor(redisUrl ?? ''), prefix);
    direct = new RedisStore(redisUrl ?? '', prefix);
    otherReplica = new DenyList(direct);
    await otherReplica.start();
    svc = await startAuth({ REVOCATION_RETRY_INTERVAL_MS: '200' }, { store: viaProxy });
    admin = await adminToken(svc);
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await proxy?.restore();
    await svc?.close();
    await otherReplica?.stop();
    const keys = await direct.client.keys(`${prefix}*`);
    if (keys.length > 0) await direct.client.del(...keys);
    await viaProxy?.close();
    await direct?.close();
    await proxy?.close();
  });

  it('disabling a user commits (200) with Redis cut, and every verifier refuses its token once Redis is back', async () => {
    const input = newUser();
    const user = await createUser(svc, admin, input);
    const pair = await loginOk(svc, input.username, input.password);
    const jti = String(decodeJwt(pair.access_token).jti);
    expect(otherReplica.isRevoked(jti)).toBe(false);

    await proxy.cut();
    const res = await svc.request<{ status: string }>('PATCH', `${USERS}/${user.id}`, {
      token: admin,
      body: { status: 'disabled' },
      headers: { 'if-match': `"v${user.version}"` },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.status).toBe('disabled');
    // this replica refuses the token at once; the others cannot know yet
    expect((await svc.request('GET', `${AUTH}/me`, { token: pair.access_token })).status).toBe(401);
    expect(otherReplica.isRevoked(jti)).toBe(false);

    await proxy.restore();
    await eventually(async () => {
      expect(otherReplica.isRevoked(jti)).toBe(true);
    }, 20_000);
    // and a verifier that starts later reads it from Redis
    const late = new DenyList(direct);
    await late.start();
    try {
      expect(late.isRevoked(jti)).toBe(true);
    } finally {
      await late.stop();
    }
  }, 60_000);
});
