import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';

/**
 * argon2id with OWASP's baseline parameters (19 MiB, 2 passes, 1 lane). A hash made with other
 * parameters still verifies and is replaced at the next successful login.
 */
const OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const hashPassword = (password: string): Promise<string> => argon2.hash(password, OPTIONS);

export const needsRehash = (hash: string): boolean => argon2.needsRehash(hash, OPTIONS);

let dummy: Promise<string> | undefined;
/** A hash of a random password nobody knows, verified in place of an unknown user's. */
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword(randomBytes(32).toString('base64url'));
  return dummy;
}

/**
 * Verifies a password, running the same argon2 work when there is no user (against the dummy
 * hash), so the answer time does not tell whether an account exists.
 */
export async function verifyPassword(hash: string | undefined, password: string): Promise<boolean> {
  const against = hash ?? (await dummyHash());
  let ok = false;
  try {
    ok = await argon2.verify(against, password);
  } catch {
    ok = false;
  }
  return ok && hash !== undefined;
}
