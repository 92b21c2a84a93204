import { Type } from '@sinclair/typebox';
import { Problem } from '@hms/contracts';
import { bearerToken, type App } from '@hms/platform';
import type { FastifyRequest } from 'fastify';
import type { AuthContext } from '../context.js';
import { clientIp, trustedProxies } from '../domain/request.js';
import { introspect } from '../introspection.js';
import {
  ClientCredentialsRequest,
  Introspection,
  IntrospectRequest,
  Jwks,
  LoginRequest,
  LogoutRequest,
  Me,
  RefreshRequest,
  ServiceToken,
  TokenPair,
} from '../schemas.js';
import { clientCredentials } from '../service-tokens.js';
import * as sessions from '../sessions.js';

const AUTH = '/api/v1/auth';
const tags = ['sessions'];

/** Login, refresh, logout, the caller, introspection, the client-credentials grant and the JWKS. */
export function sessionRoutes(app: App, ctx: AuthContext): void {
  const proxies = trustedProxies(ctx.cfg.TRUSTED_PROXIES);
  const ipOf = (request: FastifyRequest) => {
    const xff = request.headers['x-forwarded-for'];
    return clientIp(
      request.socket.remoteAddress ?? request.ip,
      Array.isArray(xff) ? xff.join(',') : xff,
      proxies,
    );
  };

  app.post(
    `${AUTH}/login`,
    {
      config: { public: true },
      schema: {
        tags,
        operationId: 'login',
        summary: 'Log in with username and password: an access token and a refresh token',
        description:
          'Checks a username and password and answers an access token and a refresh token. 401 for a wrong username or password (the same answer for both); 429 while the username, the account or the address is throttled after too many failed logins. Public.',
        body: LoginRequest,
        response: { 200: TokenPair, 400: Problem, 401: Problem, 429: Problem },
      },
    },
    async (request) => sessions.login(ctx, request.body, { ip: ipOf(request) }),
  );

  app.post(
    `${AUTH}/refresh`,
    {
      config: { public: true },
      schema: {
        tags,
        operationId: 'refreshToken',
        summary: 'Exchange a refresh token for a new pair (each refresh token works once)',
        description:
          'Exchanges a refresh token for a new access and refresh token. Each refresh token works once: 401 when it was used already, expired or its session ended. Public.',
        body: RefreshRequest,
        response: { 200: TokenPair, 400: Problem, 401: Problem },
      },
    },
    async (request) => sessions.refresh(ctx, request.body.refresh_token),
  );

  app.post(
    `${AUTH}/logout`,
    {
      config: { authenticated: true },
      // the body is optional: none at all reads as `{}`
      preValidation: async (request) => {
        request.body ??= {};
      },
      schema: {
        tags,
        operationId: 'logout',
        summary: "End the bearer token's session (and the refresh token's, when given)",
        description:
          "Ends the session of the bearer token, and the refresh token's when one is given in the body (the body is optional); answers 204. Any valid token may call it.",
        body: LogoutRequest,
        response: { 204: Type.Null(), 400: Problem, 401: Problem },
      },
    },
    async (request, reply) => {
      const principal = request.principal;
      if (!principal) throw new Error('unreachable: the kit guard sets the principal');
      await sessions.logout(
        ctx,
        principal,
        bearerToken(request.headers.authorization),
        request.body.refresh_token,
      );
      return reply.code(204).send(null);
    },
  );

  app.get(
    `${AUTH}/me`,
    {
      config: { authenticated: true },
      schema: {
        tags,
        operationId: 'getCurrentUser',
        summary: 'The calling user and its permissions',
        description:
          'The user the bearer token belongs to, with its roles and the permissions they grant. Any valid token may call it; 404 when the token is a service identity, not a user.',
        response: { 200: Me, 401: Problem, 404: Problem },
      },
    },
    async (request) => {
      const principal = request.principal;
      if (!principal) throw new Error('unreachable: the kit guard sets the principal');
      return sessions.me(ctx, principal);
    },
  );

  app.post(
    `${AUTH}/introspect`,
    {
      config: { permission: 'tokens:introspect' },
      schema: {
        tags: ['tokens'],
        operationId: 'introspectToken',
        summary: 'RFC 7662 token introspection (form-encoded or JSON)',
        description:
          'RFC 7662 introspection: whether a token is active and, when it is, its subject, scope and expiry. The body may be form-encoded or JSON; needs `tokens:introspect`.',
        body: IntrospectRequest,
        response: { 200: Introspection, 400: Problem, 401: Problem, 403: Problem },
      },
    },
    async (request) => introspect(ctx, request.body.token),
  );

  app.post(
    `${AUTH}/token`,
    {
      config: { public: true },
      schema: {
        tags: ['tokens'],
        operationId: 'issueServiceToken',
        summary: 'Client-credentials grant for service identities (form-encoded or JSON; HTTP Basic or body)',
        description:
          'The OAuth 2 client-credentials grant: a service identity exchanges its client id and secret (HTTP Basic or in the body, form-encoded or JSON) for an access token. 401 when the client is unknown or the secret wrong; 400 for any other grant type. Public.',
        body: ClientCredentialsRequest,
        response: { 200: ServiceToken, 400: Problem, 401: Problem },
      },
    },
    async (request) => clientCredentials(ctx, request.body, request.headers.authorization),
  );

  app.get(
    '/.well-known/jwks.json',
    {
      config: { public: true },
      schema: {
        tags: ['tokens'],
        operationId: 'getJwks',
        summary: 'The public keys access tokens are signed with',
        description:
          'The public keys (a JWKS) that verify the signature of access tokens, including a key published ahead of its activation. Public and cacheable for a minute.',
        response: { 200: Jwks },
      },
    },
    async (_request, reply) => reply.header('cache-control', 'public, max-age=60').send(ctx.keys.jwks()),
  );
}
