/** Login throttling rules (pure): counts of failures within a window against limits. */

export type ThrottleScope = 'username' | 'ip';

/** Logins are refused once the failures in the window reached the limit. */
export const isThrottled = (failures: number, limit: number) => failures >= limit;

/** The failure that reaches the limit starts the throttle: exactly one per window. */
export const startsThrottle = (failures: number, limit: number) => failures === limit;

/** Retry-After in whole seconds (at least 1) from the window's remaining milliseconds. */
export function retryAfterSeconds(remainingMs: number | undefined, windowMs: number): number {
  const ms = remainingMs === undefined || remainingMs <= 0 ? windowMs : remainingMs;
  return Math.max(1, Math.ceil(ms / 1000));
}

/** The throttle key of a username: case-folded, so `Ada` and `ada` share one counter. */
export const usernameKey = (username: string) => username.trim().toLowerCase();
