import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';
import { normalizePassword } from './domain/password.js';

/**
 * argon2id with OWASP's baseline parameters (19 MiB, 2 passes, 1 lane), over the password's NFKC
 * form (domain/password.ts). A hash made with other parameters still verifies and is replaced at
 * the next successful login.
 *
 * Hashes of the normalised form carry `nfkc` as argon2's associated data (`data=bmZrYw` in the
 * PHC string): it is bound into the hash and tells them from the hashes made before passwords
 * were normalised, from the text as typed. Those still verify (the typed text is tried as well,
 * see verifyPassword) and count as needing a rehash, so the login that proves the password
 * replaces them with a hash of the normalised form.
 */
const NORMALISED = Buffer.from('nfkc');
const OPTIONS = {
  type: argon2.argon2id,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
  associatedData: NORMALISED,
} as const;
const NORMALISED_PARAM = `data=${NORMALISED.toString('base64').replace(/=+$/, '')}`;

export const hashPassword = (password: string): Promise<string> =>
  argon2.hash(normalizePassword(password), OPTIONS);

/** Whether a hash was made from the normalised form (the `m=…,t=…,p=…,data=…` field says). */
function isNormalisedHash(hash: string): boolean {
  const params = hash.split('$').find((field) => field.startsWith('m='));
  return params?.split(',').includes(NORMALISED_PARAM) ?? false;
}

/** Other parameters than today's, or made from the password as typed rather than normalised. */
export const needsRehash = (hash: string): boolean =>
  argon2.needsRehash(hash, OPTIONS) || !isNormalisedHash(hash);

let dummy: Promise<string> | undefined;
/** A hash of a random password nobody knows, verified in place of an unknown user's. */
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword(randomBytes(32).toString('base64url'));
  return dummy;
}

async function matches(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

/**
 * Verifies a password, running the same argon2 work when there is no user (against the dummy
 * hash), so the answer time does not tell whether an account exists.
 *
 * The normalised form is verified; against a hash made before normalisation (from the text as
 * typed), the typed text too when it differs, so those accounts keep logging in until their next
 * login rehashes them. Only such an old hash, with a password that NFKC changes, costs a second
 * argon2 run.
 */
export async function verifyPassword(hash: string | undefined, password: string): Promise<boolean> {
  const against = hash ?? (await dummyHash());
  const normalised = normalizePassword(password);
  let ok = await matches(against, normalised);
  if (!ok && normalised !== password && !isNormalisedHash(against)) ok = await matches(against, password);
  return ok && hash !== undefined;
}
