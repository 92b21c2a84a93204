import { SERVICE_PERMISSIONS } from '@hms/contracts';
import type { AuthContext } from './context.js';
import { parseBasicAuth } from './domain/request.js';
import { AuthErrors } from './errors.js';
import type { ServiceToken } from './schemas.js';

export interface TokenRequest {
  grant_type: string;
  client_id?: string | undefined;
  client_secret?: string | undefined;
}

/** RFC 6749 error bodies travel as extensions of the problem document. */
const oauthError = (error: string, description: string, headers?: Record<string, string>) => ({
  extensions: { error, error_description: description },
  ...(headers ? { headers } : {}),
});

/**
 * `POST /auth/token`, client-credentials grant (RFC 6749 §4.4): a service proves its identity
 * with its secret (HTTP Basic or the body, not both) and gets a short-lived token whose scope is
 * exactly its SERVICE_PERMISSIONS. No refresh token: it asks again.
 */
export async function clientCredentials(
  ctx: AuthContext,
  body: TokenRequest,
  authorization: string | undefined,
): Promise<ServiceToken> {
  if (body.grant_type !== 'client_credentials')
    throw AuthErrors.unsupported_grant_type(
      'only grant_type=client_credentials is served here; users log in at /api/v1/auth/login',
      oauthError('unsupported_grant_type', 'use client_credentials'),
    );
  const basic = authorization?.trim().toLowerCase().startsWith('basic ')
    ? parseBasicAuth(authorization)
    : undefined;
  const inBody = body.client_id !== undefined || body.client_secret !== undefined;
  if (basic && inBody)
    throw AuthErrors.invalid_request(
      'send the client credentials either with HTTP Basic or in the body, not both',
      oauthError('invalid_request', 'more than one client authentication method'),
    );
  const id = basic?.id ?? body.client_id;
  const secret = basic?.secret ?? body.client_secret;
  const service = id && secret ? await ctx.clients.authenticate(id, secret) : undefined;
  if (!service)
    throw AuthErrors.invalid_client(
      'unknown client or wrong secret',
      oauthError(
        'invalid_client',
        'client authentication failed',
        authorization ? { 'www-authenticate': 'Basic realm="hms", charset="UTF-8"' } : undefined,
      ),
    );
  const scope = SERVICE_PERMISSIONS[service];
  const issued = await ctx.tokens.issueService(service, scope);
  return {
    access_token: issued.token,
    token_type: 'Bearer',
    expires_in: ctx.tokens.serviceTtlSec,
    scope: issued.scope,
  };
}
