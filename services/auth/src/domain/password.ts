import { readFileSync } from 'node:fs';

/**
 * The password policy (pure rules, STYLE.md §3), after NIST SP 800-63B §5.1.1.2: a length, a
 * list of passwords known to be common, and nothing about "complexity".
 */

export interface FieldProblem {
  path: string;
  message: string;
}

export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 256;

/**
 * The form of a password that is checked, hashed and verified: Unicode NFKC, so the same password
 * typed with another composition ("é" as one code point or as "e" and a combining accent) or in
 * compatibility forms (full-width letters, ligatures) is the same password.
 */
export const normalizePassword = (password: string): string => password.normalize('NFKC');

/** Characters that show nothing: controls, format characters (zero-width space, joiners, BOM…) and
 * every other default-ignorable code point (variation selectors, Hangul fillers, tags). White space
 * is not among them: it is judged on its own. */
const INVISIBLE = /(?!\p{White_Space})[\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}]/gu;
const WHITE_SPACE_RUN = /\p{White_Space}+/gu;

/**
 * What a password shows: normalised, without invisible characters, each run of white space as one
 * space, none at either end. Its length is the one the policy counts, so neither invisible
 * characters nor padding with spaces can make a short password long enough.
 */
export function visiblePassword(password: string): string {
  return normalizePassword(password).replace(INVISIBLE, '').replace(WHITE_SPACE_RUN, ' ').trim();
}

/**
 * The form compared with the username and the common-password list: the visible text without
 * spaces, in lower case. So `Password 1234`, `PASSWORD1234` and `password1234` followed by a
 * zero-width space are all `password1234`.
 */
export const passwordKey = (password: string): string =>
  visiblePassword(password).replaceAll(' ', '').toLowerCase();

const codePoints = (s: string) => Array.from(s).length;
const ONE_CHARACTER_REPEATED = /^(.)\1*$/su;
/** Printable ASCII without capitals or spaces: already its own {@link passwordKey}. */
const PLAIN_KEY = /^[!-@[-~]*$/;

/**
 * The rules, in order; the first broken one is answered (the messages never repeat the password):
 * - at most 256 characters (Unicode code points of the normalised text), which bounds the work;
 * - not white space only, and not invisible characters (with or without spaces) only;
 * - at least 12 characters counted on what the password shows ({@link visiblePassword}): a
 *   passphrase's single spaces count, invisible characters and extra spaces do not;
 * - not one character repeated (`aaaaaaaaaaaa`, `!!!!!!!!!!!!`, `a a a a a a a a a a a a`), in any
 *   letter case;
 * - not the username in any letter case, spacing or invisible padding;
 * - not on the list of common passwords (compared as {@link passwordKey}).
 */
export function passwordProblem(
  password: string,
  username: string,
  common: ReadonlySet<string>,
): string | undefined {
  const normalised = normalizePassword(password);
  if (codePoints(normalised) > MAX_PASSWORD_LENGTH)
    return `must be at most ${MAX_PASSWORD_LENGTH} characters long`;
  if (codePoints(normalised) < MIN_PASSWORD_LENGTH)
    return `must be at least ${MIN_PASSWORD_LENGTH} characters long`;
  if (normalised.replace(WHITE_SPACE_RUN, '') === '') return 'must contain characters other than spaces';
  const visible = visiblePassword(normalised);
  if (visible === '') return 'must contain visible characters, not only invisible ones';
  if (codePoints(visible) < MIN_PASSWORD_LENGTH)
    return `must be at least ${MIN_PASSWORD_LENGTH} characters long, not counting invisible characters or extra spaces`;
  const key = passwordKey(normalised);
  if (ONE_CHARACTER_REPEATED.test(key)) return 'must not be one character repeated';
  if (key === passwordKey(username)) return 'must not be the username';
  if (common.has(key)) return 'must not be a commonly used password';
  return undefined;
}

/**
 * The policy as field problems, for every place a password is set (user creation, an admin's
 * reset, the first administrator), checked against the shipped common-password list.
 */
export function checkPassword(
  password: string,
  username: string,
  path = '/body/password',
  common: ReadonlySet<string> = commonPasswords(),
): FieldProblem[] {
  const message = passwordProblem(password, username, common);
  return message === undefined ? [] : [{ path, message }];
}

/**
 * Reads a list of passwords, one a line (lines starting with `# ` are comments), as
 * {@link passwordKey}s. Only entries the other rules would let through are kept: a shorter one
 * can never match.
 */
export function parseCommonPasswords(text: string): Set<string> {
  const keys = new Set<string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('# ')) continue;
    const key = PLAIN_KEY.test(line) ? line : passwordKey(line);
    if (codePoints(key) >= MIN_PASSWORD_LENGTH && !ONE_CHARACTER_REPEATED.test(key)) keys.add(key);
  }
  return keys;
}

/** The list shipped with the service (data/common-passwords.txt, how it was made is said there). */
export const COMMON_PASSWORDS_FILE = new URL('../../data/common-passwords.txt', import.meta.url);
/** Fewer entries than this means a broken or truncated file: refuse to run rather than accept all. */
const MIN_LIST_SIZE = 10_000;

let shipped: ReadonlySet<string> | undefined;
/**
 * The shipped list, read once on first use (data that ships with the code, like a constant; it
 * lies at the same place relative to src/domain and dist/domain).
 */
export function commonPasswords(): ReadonlySet<string> {
  if (shipped) return shipped;
  const keys = parseCommonPasswords(readFileSync(COMMON_PASSWORDS_FILE, 'utf8'));
  if (keys.size < MIN_LIST_SIZE)
    throw new Error(`${COMMON_PASSWORDS_FILE.pathname}: ${keys.size} entries; the list is truncated`);
  shipped = keys;
  return keys;
}
