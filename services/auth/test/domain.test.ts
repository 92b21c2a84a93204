import { permissionsOf } from '@hms/contracts';
import { describe, expect, it } from 'vitest';
import { publishedKeys, retiredAt, signingKey } from '../src/domain/keys.js';
import { checkPassword } from '../src/domain/password.js';
import { loginRefusal, onlyRehashed, sessionRefusal } from '../src/domain/login.js';
import { clientIp, parseBasicAuth, trustedProxies } from '../src/domain/request.js';
import { isThrottled, retryAfterSeconds, startsThrottle, usernameKey } from '../src/domain/throttle.js';
import {
  applyPatch,
  changedFields,
  isActiveAdmin,
  scopeOf,
  sessionsMustEnd,
  type Managed,
} from '../src/domain/user.js';

describe('password policy', () => {
  it('accepts 12 characters or more that are not the username', () => {
    expect(checkPassword('twelve chars', 'ada')).toEqual([]);
    expect(checkPassword('abcdefghijklmnop'.repeat(16), 'ada')).toEqual([]);
  });

  it('refuses fewer than 12 characters, counted as characters, not bytes', () => {
    expect(checkPassword('elevenchars', 'ada')).toEqual([
      { path: '/body/password', message: 'must be at least 12 characters long' },
    ]);
    expect(checkPassword('ééééééééééé', 'ada')).toHaveLength(1); // 11 characters, 22 bytes
    expect(checkPassword('😀🐱'.repeat(6), 'ada')).toEqual([]);
  });

  it('refuses more than 256 characters', () => {
    expect(checkPassword('a'.repeat(257), 'ada')[0]?.message).toBe('must be at most 256 characters long');
  });

  it('refuses the username in any letter case', () => {
    expect(checkPassword('Grace.Hopper1', 'grace.hopper1')).toEqual([
      { path: '/body/password', message: 'must not be the username' },
    ]);
  });
});

describe('user rules', () => {
  const base: Managed = {
    roles: ['nurse'],
    status: 'active',
    fullName: 'Ada',
    email: 'ada@example.org',
    staffId: 'S1',
  };

  it('applies a merge patch: null removes optional fields, absent ones stay', () => {
    expect(applyPatch(base, { email: null, fullName: ' Ada L ' })).toEqual({
      ...base,
      email: undefined,
      fullName: 'Ada L',
    });
    expect(applyPatch(base, {})).toEqual(base);
  });

  it('names changed fields; role order does not matter', () => {
    expect(changedFields(base, { ...base, roles: ['nurse'] })).toEqual([]);
    expect(changedFields({ ...base, roles: ['a', 'b'] }, { ...base, roles: ['b', 'a'] })).toEqual([]);
    expect(changedFields(base, { ...base, status: 'locked', email: undefined })).toEqual(['status', 'email']);
  });

  it('ends sessions when access ends or narrows, or the staff link changes; not when it widens', () => {
    expect(sessionsMustEnd(base, { ...base, status: 'disabled' })).toBe(true);
    expect(sessionsMustEnd(base, { ...base, status: 'locked' })).toBe(true);
    expect(sessionsMustEnd({ ...base, status: 'disabled' }, { ...base, status: 'locked' })).toBe(false);
    expect(sessionsMustEnd(base, { ...base, roles: ['receptionist'] })).toBe(true);
    expect(sessionsMustEnd(base, { ...base, roles: ['nurse', 'physician'] })).toBe(false);
    expect(sessionsMustEnd(base, { ...base, staffId: 'S2' })).toBe(true);
    expect(sessionsMustEnd(base, { ...base, fullName: 'Other' })).toBe(false);
  });

  it('knows an active administrator', () => {
    expect(isActiveAdmin({ roles: ['admin'], status: 'active' })).toBe(true);
    expect(isActiveAdmin({ roles: ['admin'], status: 'locked' })).toBe(false);
    expect(isActiveAdmin({ roles: ['manager'], status: 'active' })).toBe(false);
  });

  it("scope is the roles' permissions, sorted, space-separated; unknown roles add nothing", () => {
    expect(scopeOf(['auditor', 'superuser'])).toBe('analytics:read audit:read');
    expect(scopeOf(['physician', 'nurse']).split(' ')).toHaveLength(
      permissionsOf(['physician', 'nurse']).size,
    );
    expect(scopeOf([])).toBe('');
  });
});

describe('key rotation rules', () => {
  const min = 60_000;
  const keys = [
    { kid: 'a', createdAt: 0 },
    { kid: 'b', createdAt: 100 * min },
  ];
  const rules = { activationDelayMs: min, maxTokenTtlMs: 15 * min, skewMs: min };

  it('the newest key that has been published for the activation delay signs', () => {
    expect(signingKey(keys, 100 * min + 30_000, min).kid).toBe('a');
    expect(signingKey(keys, 101 * min, min).kid).toBe('b');
  });

  it('while no key is active yet (a fresh directory), the oldest signs', () => {
    expect(signingKey([{ kid: 'only', createdAt: 0 }], 1, min).kid).toBe('only');
    expect(
      signingKey(
        keys.map((k) => ({ ...k, createdAt: k.createdAt + 1000 * min })),
        0,
        min,
      ).kid,
    ).toBe('a');
  });

  it('a key retires when a newer one activates; the newest never does', () => {
    const [a, b] = keys as [(typeof keys)[0], (typeof keys)[0]];
    expect(retiredAt(a, keys, min)).toBe(101 * min);
    expect(retiredAt(b, keys, min)).toBe(Number.POSITIVE_INFINITY);
  });

  it('a retired key stays published until its last token expired, plus clock skew', () => {
    expect(publishedKeys(keys, 101 * min + 16 * min - 1, rules).map((k) => k.kid)).toEqual(['b', 'a']);
    expect(publishedKeys(keys, 101 * min + 16 * min, rules).map((k) => k.kid)).toEqual(['b']);
    expect(publishedKeys(keys, 0, rules).map((k) => k.kid)).toEqual(['b', 'a']);
  });
});

describe('throttle rules', () => {
  it('throttles at the limit, started by exactly the failure that reaches it', () => {
    expect(isThrottled(4, 5)).toBe(false);
    expect(isThrottled(5, 5)).toBe(true);
    expect([4, 5, 6].map((n) => startsThrottle(n, 5))).toEqual([false, true, false]);
  });

  it('Retry-After is whole seconds, at least one, the window when unknown', () => {
    expect(retryAfterSeconds(1, 900_000)).toBe(1);
    expect(retryAfterSeconds(1500, 900_000)).toBe(2);
    expect(retryAfterSeconds(undefined, 900_000)).toBe(900);
  });

  it('counts usernames case-insensitively', () => {
    expect(usernameKey(' Ada ')).toBe(usernameKey('ada'));
  });
});

describe('login rules', () => {
  it('refuses an unknown user and a wrong password alike, then a locked or disabled account', () => {
    expect(loginRefusal(undefined, true)).toBe('invalid_credentials');
    expect(loginRefusal({ status: 'active' }, false)).toBe('invalid_credentials');
    expect(loginRefusal({ status: 'disabled' }, false)).toBe('invalid_credentials');
    expect(loginRefusal({ status: 'locked' }, true)).toBe('account_locked');
    expect(loginRefusal({ status: 'disabled' }, true)).toBe('account_disabled');
    expect(loginRefusal({ status: 'active' }, true)).toBeUndefined();
  });

  it('starts a session only if the locked row is still the one the password was checked against', () => {
    const checked = { status: 'active' as const, passwordHash: 'h1', version: 3 };
    expect(sessionRefusal(checked, checked)).toBeUndefined();
    expect(sessionRefusal(checked, undefined)).toBe('invalid_credentials');
    expect(sessionRefusal(checked, { ...checked, passwordHash: 'h2', version: 4 })).toBe(
      'invalid_credentials',
    );
    expect(sessionRefusal(checked, { ...checked, version: 4 })).toBe('invalid_credentials');
    expect(sessionRefusal(checked, { ...checked, passwordHash: 'h2' })).toBe('invalid_credentials');
    expect(sessionRefusal(checked, { ...checked, status: 'disabled', version: 4 })).toBe('account_disabled');
    expect(sessionRefusal(checked, { ...checked, status: 'locked', version: 4 })).toBe('account_locked');
  });

  it('tells a concurrent rehash of the same password (same version) from a change', () => {
    const checked = { status: 'active' as const, passwordHash: 'h1', version: 3 };
    expect(onlyRehashed(checked, { ...checked, passwordHash: 'h1-rehashed' })).toBe(true);
    expect(onlyRehashed(checked, checked)).toBe(false);
    expect(onlyRehashed(checked, { ...checked, passwordHash: 'h2', version: 4 })).toBe(false);
    expect(onlyRehashed(checked, { ...checked, passwordHash: 'h2', status: 'disabled' })).toBe(false);
  });
});

describe('request helpers', () => {
  const proxies = trustedProxies('127.0.0.1, 10.0.0.0/8, ::1');

  it('believes X-Forwarded-For only from a trusted proxy', () => {
    expect(clientIp('203.0.113.9', '198.51.100.1', proxies)).toBe('203.0.113.9');
    expect(clientIp('127.0.0.1', '198.51.100.1', proxies)).toBe('198.51.100.1');
    expect(clientIp('::ffff:127.0.0.1', '198.51.100.1', proxies)).toBe('198.51.100.1');
    expect(clientIp('127.0.0.1', undefined, proxies)).toBe('127.0.0.1');
  });

  it('takes the right-most entry, the one the trusted proxy wrote, and nothing further left', () => {
    // issue #17: walking left past trusted hops believed addresses the client chose
    expect(clientIp('127.0.0.1', '1.1.1.1, 198.51.100.1, 10.1.2.3', proxies)).toBe('10.1.2.3');
    expect(clientIp('127.0.0.1', '1.1.1.1, 198.51.100.1', proxies)).toBe('198.51.100.1');
    expect(clientIp('127.0.0.1', 'garbage, 198.51.100.7', proxies)).toBe('198.51.100.7');
    expect(clientIp('127.0.0.1', '198.51.100.7,::ffff:203.0.113.5', proxies)).toBe('203.0.113.5');
    // a right-most entry that is not an address: the peer, not an entry further left
    expect(clientIp('127.0.0.1', '198.51.100.7, garbage', proxies)).toBe('127.0.0.1');
  });

  it('trusts nobody by default and refuses a malformed proxy list', () => {
    expect(clientIp('127.0.0.1', '198.51.100.1', trustedProxies(''))).toBe('127.0.0.1');
    expect(() => trustedProxies('not-an-ip')).toThrow(/TRUSTED_PROXIES/);
  });

  it('parses HTTP Basic client credentials (form-encoded parts, RFC 6749 §2.3.1)', () => {
    const header = `Basic ${Buffer.from('gate%3Away:s3cr%2Bt').toString('base64')}`;
    expect(parseBasicAuth(header)).toEqual({ id: 'gate:way', secret: 's3cr+t' });
    expect(parseBasicAuth('Bearer abc')).toBeUndefined();
    expect(parseBasicAuth(`Basic ${Buffer.from('no-colon').toString('base64')}`)).toBeUndefined();
    expect(parseBasicAuth(undefined)).toBeUndefined();
  });
});
