import { randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  useAuth,
  AUTH,
  USERS,
  adminToken,
  createUser,
  login,
  newIp,
  newUser,
  sleep,
  type AuthUnderTest,
  type NewUser,
  type TokenPair,
} from './helpers.js';

/**
 * Issue #17, finding 1: a login in progress (argon2 done, session not yet created) must not
 * survive a password reset, a disable or a role cut that returned meanwhile. Real concurrency:
 * several loops log in with the right password, each request from an address of its own, while an
 * administrator acts; once the action returned and every login settled, each token pair the
 * loops obtained must be dead, whenever it was issued.
 */

let svc: AuthUnderTest;
let admin: string;

useAuth(
  {
    // the loops keep trying the old password after the change: those failures must not throttle
    LOGIN_MAX_FAILURES_PER_USERNAME: '100000',
    LOGIN_MAX_FAILURES_PER_IP: '100000',
  },
  async (s) => {
    svc = s;
    admin = await adminToken(svc);
  },
);

const LOOPS = 4;
const ROUNDS = 3;

/**
 * Runs LOOPS login loops for `input` while `act` runs (started once logins are in flight), and
 * keeps them going a little after it returned. Answers every token pair a login obtained.
 */
async function loginsAround(input: NewUser, act: () => Promise<void>): Promise<TokenPair[]> {
  const pairs: TokenPair[] = [];
  const unexpected: string[] = [];
  let stop = false;
  const loop = async () => {
    while (!stop) {
      const res = await login(svc, input.username, input.password, newIp());
      if (res.status === 200) pairs.push(res.body);
      else if (res.status !== 401) unexpected.push(`${res.status} ${JSON.stringify(res.body)}`);
    }
  };
  const loops = Array.from({ length: LOOPS }, () => loop());
  // act while logins are in flight: once the first succeeded, at a random point of the next ones
  for (const until = Date.now() + 10_000; pairs.length === 0 && Date.now() < until;) await sleep(5);
  await sleep(Math.floor(Math.random() * 40));
  await act();
  await sleep(150); // logins started before the action returned settle after it
  stop = true;
  await Promise.all(loops);
  expect(unexpected).toEqual([]);
  expect(pairs.length, 'some logins succeeded before the action').toBeGreaterThan(0);
  return pairs;
}

/** A pair is dead: its refresh token is refused, and its access token is refused by a guarded route. */
async function liveTokens(pairs: TokenPair[]): Promise<string[]> {
  const alive: string[] = [];
  for (const [i, pair] of pairs.entries()) {
    const refreshed = await svc.request('POST', `${AUTH}/refresh`, {
      body: { refresh_token: pair.refresh_token },
    });
    if (refreshed.status !== 401) alive.push(`pair ${i}: refresh answered ${refreshed.status}`);
    const me = await svc.request('GET', `${AUTH}/me`, { token: pair.access_token });
    if (me.status !== 401) alive.push(`pair ${i}: /auth/me answered ${me.status}`);
  }
  return alive;
}

describe('a login in progress during an administrator action', () => {
  it('does not survive a password reset: every pair obtained around the reset is dead once it returned', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const input = newUser();
      const user = await createUser(svc, admin, input);
      const pairs = await loginsAround(input, async () => {
        const res = await svc.request('POST', `${USERS}/${user.id}/reset-password`, {
          token: admin,
          body: { password: `reset-${randomBytes(9).toString('base64url')}` },
        });
        expect(res.status).toBe(204);
      });
      expect(await liveTokens(pairs), `round ${round}: ${pairs.length} pairs`).toEqual([]);
    }
  });

  it('does not survive a disable: every pair obtained around it is dead once it returned', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const input = newUser();
      const user = await createUser(svc, admin, input);
      const pairs = await loginsAround(input, async () => {
        const res = await svc.request('PATCH', `${USERS}/${user.id}`, {
          token: admin,
          body: { status: 'disabled' },
          headers: { 'if-match': `"v${user.version}"` },
        });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
      });
      expect(await liveTokens(pairs), `round ${round}: ${pairs.length} pairs`).toEqual([]);
    }
  });

  it('does not survive a role cut: every pair that carries the removed role is dead once it returned', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const input = newUser({ roles: ['physician'] });
      const user = await createUser(svc, admin, input);
      const pairs = await loginsAround(input, async () => {
        const res = await svc.request('PATCH', `${USERS}/${user.id}`, {
          token: admin,
          body: { roles: ['auditor'] },
          headers: { 'if-match': `"v${user.version}"` },
        });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
      });
      // logins after the cut are legitimate and carry the new role only
      const withOldRole = pairs.filter((p) =>
        (decodeJwt(p.access_token).roles as string[]).includes('physician'),
      );
      expect(withOldRole.length).toBeGreaterThan(0);
      expect(await liveTokens(withOldRole), `round ${round}: ${withOldRole.length} pairs`).toEqual([]);
      for (const p of pairs.filter((x) => !withOldRole.includes(x)))
        expect(decodeJwt(p.access_token).roles).toEqual(['auditor']);
    }
  });
});
