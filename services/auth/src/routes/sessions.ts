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
        summary: 'Log in with username and password: an access token and a refresh token',
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
        summary: 'Exchange a refresh token for a new pair (each refresh token works once)',
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
        summary: "End the bearer token's session (and the refresh token's, when given)",
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
        summary: 'The calling user and its permissions',
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
        summary: 'RFC 7662 token introspection (form-encoded or JSON)',
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
        summary: 'Client-credentials grant for service identities (form-encoded or JSON; HTTP Basic or body)',
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
        summary: 'The public keys access tokens are signed with',
        response: { 200: Jwks },
      },
    },
    async (_request, reply) => reply.header('cache-control', 'public, max-age=60').send(ctx.keys.jwks()),
  );
}
