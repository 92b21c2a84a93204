import type { Permission } from '@hms/contracts';
import { bearerToken, requirePermission, type TokenVerifier, type Verdict } from '@hms/platform';
import type { Principal } from '@hms/platform';

/**
 * The gateway's authentication (DESIGN.md §4): access tokens are verified locally by the kit's
 * verifier (ES256 signature, `kid`, `iss`, `aud`, `exp`, `nbf`, the deny-list), which remembers
 * a verified token until its `exp` so its signature is not checked on every request; the
 * deny-list (an in-memory lookup) still is. No call to the auth service per request.
 */
export class AccessControl {
  constructor(private readonly verifier: TokenVerifier) {}

  /**
   * Calls back with the caller's principal, or the 401: at once when the token was verified before
   * (the kit verifier's `authenticate`), else once it is.
   */
  authenticate(authorization: string | undefined, verdict: Verdict): void {
    let token: string;
    try {
      token = bearerToken(authorization);
    } catch (err) {
      return verdict(err as Error);
    }
    this.verifier.authenticate(token, verdict);
  }

  /** 403 unless the principal holds the permission (an unknown permission is held by nobody). */
  authorize(principal: Principal, permission: string): void {
    requirePermission(principal, permission as Permission);
  }
}
