import type { User } from '../schemas.js';

/** Login rules (pure): when a password check lets a session start. */

export type LoginRefusal = 'invalid_credentials' | 'account_disabled' | 'account_locked';

/** Why a login is refused, if it is: an unknown user and a wrong password look the same. */
export function loginRefusal(
  user: { status: User['status'] } | undefined,
  passwordOk: boolean,
): LoginRefusal | undefined {
  if (!user || !passwordOk) return 'invalid_credentials';
  if (user.status === 'locked') return 'account_locked';
  if (user.status === 'disabled') return 'account_disabled';
  return undefined;
}

interface UserState {
  status: User['status'];
  passwordHash: string;
  version: number;
}

/**
 * Whether the user row, read again under lock as the session is created, is still the one the
 * password was checked against: a reset, disable or role change that committed during the check
 * (argon2 takes tens of milliseconds) refuses the login, as it would have a moment later.
 */
export function sessionRefusal(checked: UserState, current: UserState | undefined): LoginRefusal | undefined {
  if (!current) return 'invalid_credentials';
  const refusal = loginRefusal(current, true);
  if (refusal) return refusal;
  if (current.version !== checked.version || current.passwordHash !== checked.passwordHash)
    return 'invalid_credentials';
  return undefined;
}

/**
 * The only change since the check is a new hash of the same password (a concurrent login replaced
 * a hash made with older parameters; that changes no version): the password is verified again
 * against the new hash rather than refused.
 */
export const onlyRehashed = (checked: UserState, current: UserState) =>
  current.status === 'active' &&
  current.version === checked.version &&
  current.passwordHash !== checked.passwordHash;
