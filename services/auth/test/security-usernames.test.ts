import { ConfigError, MemoryStore } from '@hms/platform';
import { expectProblem, expectValidationErrors } from '@hms/testkit/vitest';
import { describe, expect, it } from 'vitest';
import { readAuthConfig } from '../src/config.js';
import { LoginThrottle } from '../src/throttle.js';
import {
  useAuth,
  USERS,
  adminToken,
  createUser,
  login,
  newIp,
  newUser,
  type AuthUnderTest,
} from './helpers.js';

/**
 * Issue #17, finding 6: the per-username throttle folded case with JavaScript and the lookup with
 * SQL lower(), so "İ" (U+0130) and friends made many throttle keys for one user, and `lİz-ok`
 * logged in as `liz-ok`. A login name outside the username pattern is refused before any lookup,
 * and failures also count against the user the name resolved to.
 */

let svc: AuthUnderTest;
let admin: string;

useAuth({ LOGIN_MAX_FAILURES_PER_USERNAME: '5', LOGIN_MAX_FAILURES_PER_IP: '100000' }, async (s) => {
  svc = s;
  admin = await adminToken(svc);
});

/** Spellings outside the pattern that a Unicode-aware lower() folds, or might fold, onto `liz-ok`. */
const LOOKALIKES = [
  'l\u0130z-ok', // İ LATIN CAPITAL LETTER I WITH DOT ABOVE
  'l\u0131z-ok', // ı LATIN SMALL LETTER DOTLESS I
  'liz-o\u212a', // K KELVIN SIGN
  'L\u0130Z-OK',
  'l\u0130z-o\u212a',
  '\uff4c\uff49\uff5a-ok', // fullwidth
];

describe('login names outside the username pattern', () => {
  it('`lİz-ok` does not log in as `liz-ok`: a 400 validation problem, no lookup, nothing counted', async () => {
    const input = newUser({ username: 'liz-ok' });
    const user = await createUser(svc, admin, input);
    for (const spelling of LOOKALIKES) {
      const res = await login(svc, spelling, input.password);
      const errors = expectValidationErrors(res);
      expect(errors.map((e) => e.path)).toEqual(['/body/username']);
      expect(JSON.stringify(res.body)).not.toContain(input.password);
    }
    const read = await svc.request<{ failedLogins: number; lastLoginAt?: string }>(
      'GET',
      `${USERS}/${user.id}`,
      {
        token: admin,
      },
    );
    expect(read.body.failedLogins).toBe(0);
    expect(read.body).not.toHaveProperty('lastLoginAt');
  });

  it('32 look-alike spellings of one user get no password guess at all (160 tries: all 400)', async () => {
    const input = newUser({ username: 'liz-ok-2' });
    await createUser(svc, admin, input);
    // l/L × z/Z × o/O × (İ,k), (İ,K), (i,K), (I,K) with İ U+0130 and K the Kelvin sign U+212A:
    // 32 spellings PostgreSQL's lower() folds onto "liz-ok-2"
    const spellings: string[] = [];
    for (const l of ['l', 'L'])
      for (const z of ['z', 'Z'])
        for (const o of ['o', 'O'])
          for (const [i, k] of [
            ['\u0130', 'k'],
            ['\u0130', '\u212a'],
            ['i', '\u212a'],
            ['I', '\u212a'],
          ])
            spellings.push(`${l}${i}${z}-${o}${k}-2`);
    expect(new Set(spellings).size).toBe(32);
    const statuses = new Set<number>();
    for (const s of spellings)
      for (let g = 0; g < 5; g++) statuses.add((await login(svc, s, `wrong-guess-${g}-long`)).status);
    expect([...statuses]).toEqual([400]);
    // none of it counted against the owner
    expect((await login(svc, input.username, input.password)).status).toBe(200);
  });

  it('wrong guesses under every ASCII case spelling of one user stop at the limit', async () => {
    const input = newUser({ username: 'liz-ok-3' });
    await createUser(svc, admin, input);
    const spellings = ['LIZ-ok-3', 'Liz-OK-3', 'liz-OK-3', 'LIZ-OK-3', 'lIz-oK-3', 'LiZ-Ok-3', 'liZ-ok-3'];
    const statuses: number[] = [];
    for (const s of spellings) statuses.push((await login(svc, s, 'a-wrong-guess-long', newIp())).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    const res = await login(svc, 'lIZ-Ok-3', input.password, newIp());
    expect(expectProblem(res, 429).code).toBe('login_throttled');
  });

  it('counts failures against the user a name resolved to, whatever the name key', async () => {
    const throttle = new LoginThrottle(new MemoryStore(), { perUsername: 3, perIp: 100, windowMs: 60_000 });
    const userId = '01900000-0000-7000-8000-0000000000bb';
    for (const name of ['name-a', 'name-b', 'name-c'])
      await throttle.recordFailure({ username: name, ip: newIp(), userId });
    expect(await throttle.check({ username: 'name-d', ip: newIp(), userId })).toMatchObject({
      scope: 'username',
    });
    expect(await throttle.check({ username: 'name-d', ip: newIp() })).toBeUndefined();
  });

  it('HMS_ADMIN_USERNAME must match the username pattern', () => {
    for (const bad of ['adm\u0130n', 'ad min', '-admin', 'ad'])
      expect(() => readAuthConfig({ AUTH_KEYS_DIR: svc.keysDir, HMS_ADMIN_USERNAME: bad })).toThrow(
        ConfigError,
      );
    try {
      readAuthConfig({ AUTH_KEYS_DIR: svc.keysDir, HMS_ADMIN_USERNAME: 'adm\u0130n' });
    } catch (err) {
      expect((err as ConfigError).problems.join('\n')).toMatch(/^HMS_ADMIN_USERNAME: /m);
    }
    expect(
      readAuthConfig({ AUTH_KEYS_DIR: svc.keysDir, HMS_ADMIN_USERNAME: 'ops.admin@x' }).HMS_ADMIN_USERNAME,
    ).toBe('ops.admin@x');
  });
});
