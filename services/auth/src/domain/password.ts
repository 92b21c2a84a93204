/** The password policy (pure rules, STYLE.md §3). */

export interface FieldProblem {
  path: string;
  message: string;
}

export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 256;

/**
 * At least 12 characters (counted as Unicode code points, so a passphrase in any script counts
 * what a person typed), at most 256, and not the username in any letter case.
 */
export function checkPassword(password: string, username: string, path = '/body/password'): FieldProblem[] {
  const length = Array.from(password).length;
  if (length < MIN_PASSWORD_LENGTH)
    return [{ path, message: `must be at least ${MIN_PASSWORD_LENGTH} characters long` }];
  if (length > MAX_PASSWORD_LENGTH)
    return [{ path, message: `must be at most ${MAX_PASSWORD_LENGTH} characters long` }];
  if (password.trim().toLowerCase() === username.trim().toLowerCase())
    return [{ path, message: 'must not be the username' }];
  return [];
}
