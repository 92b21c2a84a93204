import type { Permission } from '@hms/contracts';
import { bearerToken, requirePermission, type Principal, type TokenVerifier } from '@hms/platform';

/**
 * The gateway's authentication (DESIGN.md §4): access tokens are verified locally by the kit's
 * verifier (ES256 signature, `kid`, `iss`, `aud`, `exp`, `nbf`, the deny-list), which remembers
 * a verified token until its `exp` so its signature is not checked on every request; the
 * deny-list (an in-memory lookup) still is. No call to the auth service per request.
 */
export class AccessControl {
  constructor(private readonly verifier: TokenVerifier) {}

  authenticate(authorization: string | undefined): Promise<Principal> {
    return this.verifier.verify(bearerToken(authorization));
  }

  /** The principal without a promise when the token was verified before (see `verifyCached`). */
  authenticateCached(authorization: string | undefined): Principal | undefined {
    return this.verifier.verifyCached?.(bearerToken(authorization));
  }

  /** 403 unless the principal holds the permission (an unknown permission is held by nobody). */
  authorize(principal: Principal, permission: string): void {
    requirePermission(principal, permission as Permission);
  }
}
