import { readFileSync } from 'node:fs';
import argon2 from 'argon2';
import { prepareDatabase } from '@hms/platform';
import { createTestDatabase } from '@hms/testkit';
import { expectValidationErrors } from '@hms/testkit/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  COMMON_PASSWORDS_FILE,
  checkPassword,
  commonPasswords,
  parseCommonPasswords,
  passwordKey,
} from '../src/domain/password.js';
import { hashPassword, needsRehash, verifyPassword } from '../src/passwords.js';
import { authService } from '../src/service.js';
import { bootstrapAdmin } from '../src/users.js';
import {
  ADMIN,
  USERS,
  adminToken,
  createUser,
  login,
  loginOk,
  newUser,
  startAuth,
  uniqueName,
  type AuthUnderTest,
  START_TIMEOUT_MS,
} from './helpers.js';

/** Issue #17, finding 7: the password policy was length only (NIST SP 800-63B §5.1.1.2). */

const ZWSP = '\u200b';
/** Hashes as they were made before passwords were normalised: the text as typed, no marker. */
const legacyHash = (typed: string) =>
  argon2.hash(typed, { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 });

const REFUSED: [string, string, string][] = [
  ['twelve spaces', ' '.repeat(12), 'must contain characters other than spaces'],
  ['twelve zero-width spaces', ZWSP.repeat(12), 'must contain visible characters, not only invisible ones'],
  [
    'spaces and zero-width spaces',
    ` ${ZWSP}`.repeat(8),
    'must contain visible characters, not only invisible ones',
  ],
  [
    'two letters padded with zero-width spaces',
    `ab${ZWSP.repeat(12)}`,
    'must be at least 12 characters long, not counting invisible characters or extra spaces',
  ],
  ['one letter repeated', 'aaaaaaaaaaaa', 'must not be one character repeated'],
  ['one symbol repeated', '!!!!!!!!!!!!', 'must not be one character repeated'],
  [
    'one letter repeated in both cases with spaces',
    'a A a A a A a A a A a A',
    'must not be one character repeated',
  ],
  ['a common long password', 'password1234', 'must not be a commonly used password'],
  ['a common long password in capitals', 'QWERTYUIOP123', 'must not be a commonly used password'],
  ['a common long password spaced out', '1234 5678 9012', 'must not be a commonly used password'],
  [
    'a common long password with a zero-width space',
    `password${ZWSP}1234`,
    'must not be a commonly used password',
  ],
  [
    'a common long password in full-width letters',
    'ｐａｓｓｗｏｒｄ１２３４',
    'must not be a commonly used password',
  ],
];

describe('password policy rules', () => {
  it.each(REFUSED)('refuses %s', (_what, password, message) => {
    expect(checkPassword(password, 'ada')).toEqual([{ path: '/body/password', message }]);
  });

  it('accepts passphrases and passwords of any script, spaces counted once', () => {
    for (const ok of [
      ADMIN.password,
      'pw-user1234-long-enough',
      'twelve chars',
      'Gâteau au chocolat',
      'пароль-для-входа',
      '密码是一二三四五六七八九十',
      '😀🐱'.repeat(6),
    ])
      expect(checkPassword(ok, 'ada'), ok).toEqual([]);
  });

  it('refuses the username however it is spaced, cased or padded', () => {
    for (const same of ['GRACE.HOPPER1', ` grace.hopper1${ZWSP} `, 'ｇｒａｃｅ．ｈｏｐｐｅｒ１'])
      expect(checkPassword(same, 'grace.hopper1')).toEqual([
        { path: '/body/password', message: 'must not be the username' },
      ]);
  });

  it('the shipped list holds common passwords of 12 characters and more, normalised', () => {
    const list = commonPasswords();
    expect(list.size).toBeGreaterThan(40_000);
    for (const common of ['password1234', 'qwertyuiop123', '123456789012', '1qaz2wsx3edc', 'iloveyou1234'])
      expect(list.has(common), common).toBe(true);
    expect(list.has(passwordKey(ADMIN.password))).toBe(false);
    const lines = readFileSync(COMMON_PASSWORDS_FILE, 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('# '));
    for (const line of lines) expect(passwordKey(line)).toBe(line);
  });

  it('a list reads as normalised keys, skipping comments and entries too short to matter', () => {
    expect([...parseCommonPasswords('# a comment\nPassWord 1234\nshort\nzzzzzzzzzzzzzz\n')]).toEqual([
      'password1234',
    ]);
  });

  it('hashes the normalised form, marked, and verifies a password typed in another composition', async () => {
    const nfc = 'Crème brûlée pour deux';
    const hash = await hashPassword(nfc.normalize('NFD'));
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2,data=bmZrYw\$/);
    expect(needsRehash(hash)).toBe(false);
    expect(await verifyPassword(hash, nfc)).toBe(true);
    expect(await verifyPassword(hash, nfc.normalize('NFD'))).toBe(true);
    expect(await verifyPassword(hash, 'Creme brulee pour deux')).toBe(false);
  });

  it('verifies hashes made before normalisation, from the text as typed, and asks for their rehash', async () => {
    const nfd = 'Crème brûlée pour deux'.normalize('NFD');
    const old = await legacyHash(nfd);
    expect(needsRehash(old)).toBe(true);
    expect(await verifyPassword(old, nfd)).toBe(true);
    expect(await verifyPassword(old, 'Crème brûlée pour trois'.normalize('NFD'))).toBe(false);
    expect(await verifyPassword(await legacyHash(nfd.normalize('NFC')), nfd)).toBe(true);
  });
});

describe('password policy through the API', () => {
  let svc: AuthUnderTest;
  let admin: string;

  beforeAll(async () => {
    svc = await startAuth();
    admin = await adminToken(svc);
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await svc?.close();
  });

  const userCount = async () =>
    (await svc.db.query<{ n: number }>('SELECT count(*)::int AS n FROM users')).rows[0]?.n;
  const hashOf = async (id: string) =>
    (await svc.db.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [id]))
      .rows[0]?.password_hash;

  it.each(REFUSED)(
    'refuses %s for a new user: 400 at /body/password, nothing created',
    async (_what, password, message) => {
      const before = await userCount();
      const input = newUser({ password });
      const res = await svc.request('POST', USERS, { token: admin, body: input });
      expect(expectValidationErrors(res)).toEqual([{ path: '/body/password', message }]);
      if (password.trim()) expect(JSON.stringify(res.body)).not.toContain(password);
      expect(await userCount()).toBe(before);
      expect((await login(svc, input.username, password)).status).toBe(401);
    },
  );

  it.each(REFUSED)(
    'refuses %s as an admin reset: 400 at /body/password, the old password still works',
    async (_what, password, message) => {
      const input = newUser();
      const user = await createUser(svc, admin, input);
      const res = await svc.request('POST', `${USERS}/${user.id}/reset-password`, {
        token: admin,
        body: { password },
      });
      expect(expectValidationErrors(res)).toEqual([{ path: '/body/password', message }]);
      expect((await login(svc, input.username, password)).status).toBe(401);
      await loginOk(svc, input.username, input.password);
    },
  );

  it('a password set in NFD logs in typed in NFC, and one set in NFC logs in typed in NFD', async () => {
    const nfc = `Crème brûlée ${uniqueName('pour-')}`;
    const setNfd = newUser({ password: nfc.normalize('NFD') });
    await createUser(svc, admin, setNfd);
    await loginOk(svc, setNfd.username, nfc);
    const setNfc = newUser({ password: nfc });
    await createUser(svc, admin, setNfc);
    await loginOk(svc, setNfc.username, nfc.normalize('NFD'));
    expect((await login(svc, setNfc.username, nfc.replace('è', 'e'))).status).toBe(401);
  });

  it('a password reset to full-width letters logs in typed in ASCII', async () => {
    const input = newUser();
    const user = await createUser(svc, admin, input);
    const ascii = `Reset-${uniqueName()}`;
    const fullWidth = ascii.replace(/[!-~]/g, (c) => String.fromCodePoint((c.codePointAt(0) ?? 0) + 0xfee0));
    const res = await svc.request('POST', `${USERS}/${user.id}/reset-password`, {
      token: admin,
      body: { password: fullWidth },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(204);
    await loginOk(svc, input.username, ascii);
  });

  it('a user whose hash was made from the text as typed still logs in, and that login rehashes it', async () => {
    const typed = `Crème brûlée ${uniqueName('pour-')}`.normalize('NFD');
    const input = newUser();
    const user = await createUser(svc, admin, input);
    await svc.db.query('UPDATE users SET password_hash = $2 WHERE id = $1', [
      user.id,
      await legacyHash(typed),
    ]);
    expect((await login(svc, input.username, `${typed}!`)).status).toBe(401);
    await loginOk(svc, input.username, typed);
    expect(await hashOf(user.id)).toContain(',data=bmZrYw$');
    await loginOk(svc, input.username, typed.normalize('NFC'));
    await loginOk(svc, input.username, typed);
  });

  it('a user whose hash was made from composed text logs in typing the decomposed form', async () => {
    const composed = `Crème brûlée ${uniqueName('pour-')}`.normalize('NFC');
    const input = newUser();
    const user = await createUser(svc, admin, input);
    await svc.db.query('UPDATE users SET password_hash = $2 WHERE id = $1', [
      user.id,
      await legacyHash(composed),
    ]);
    await loginOk(svc, input.username, composed.normalize('NFD'));
    await loginOk(svc, input.username, composed);
  });
});

describe('password policy for the first administrator', () => {
  it('refuses an HMS_ADMIN_PASSWORD that breaks the policy, creating nothing, and accepts a good one', async () => {
    const database = await createTestDatabase('auth');
    try {
      await prepareDatabase(authService, database.db);
      for (const [password, message] of [
        [' '.repeat(16), 'must contain characters other than spaces'],
        ['aaaaaaaaaaaaaaaa', 'must not be one character repeated'],
        ['qwertyuiop123', 'must not be a commonly used password'],
      ] as const) {
        const env = { HMS_ADMIN_USERNAME: 'first-admin', HMS_ADMIN_PASSWORD: password };
        await expect(bootstrapAdmin(database.db, env)).rejects.toThrow(`HMS_ADMIN_PASSWORD: ${message}`);
      }
      const { rows } = await database.db.query<{ n: number }>('SELECT count(*)::int AS n FROM users');
      expect(rows[0]?.n).toBe(0);
      const env = { HMS_ADMIN_USERNAME: 'first-admin', HMS_ADMIN_PASSWORD: ADMIN.password };
      expect(await bootstrapAdmin(database.db, env)).toMatchObject({ created: true });
    } finally {
      await database.close();
    }
  });
});
