import { defineErrors } from '@hms/platform';

/** Every error the auth service answers beyond the kit's common ones (STYLE.md §7). */
export const AuthErrors = defineErrors({
  invalid_credentials: { status: 401, title: 'Invalid username or password' },
  invalid_refresh_token: { status: 401, title: 'The refresh token is not valid' },
  invalid_client: { status: 401, title: 'Client authentication failed' },
  unsupported_grant_type: { status: 400, title: 'The grant type is not supported' },
  invalid_request: { status: 400, title: 'The token request is not valid' },
  login_throttled: { status: 429, title: 'Too many failed logins' },
  user_not_found: { status: 404, title: 'User not found' },
  username_taken: { status: 409, title: 'The username is already taken' },
  last_admin: { status: 409, title: 'The last active administrator cannot lose the role or be deactivated' },
});
