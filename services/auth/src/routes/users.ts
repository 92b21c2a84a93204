import { Type } from '@sinclair/typebox';
import { Page, PageQuery, Problem, UserStatus } from '@hms/contracts';
import { IdParams, IfMatchHeader, ifMatchOptional, withETag, type App } from '@hms/platform';
import type { AuthContext } from '../context.js';
import { PasswordReset, RoleName, RotatedKey, User, UserInput, UserPatch } from '../schemas.js';
import * as users from '../users.js';

const USERS = '/api/v1/auth/users';
const errors = { 400: Problem, 401: Problem, 403: Problem };

/** Administration of users and signing keys: every route needs `users:manage`. */
export function userRoutes(app: App, ctx: AuthContext): void {
  const tags = ['users'];

  app.post(
    USERS,
    {
      // the initial password is left out of the stored idempotency fingerprint
      config: { permission: 'users:manage', idempotent: true, secretFields: ['password'] },
      schema: {
        tags,
        operationId: 'createUser',
        summary: 'Create a user (password policy: at least 12 characters, not the username)',
        description:
          'Creates a user with roles and an initial password (at least 12 characters, not the username); answers 201 with its ETag. 409 when the username is taken. Accepts `Idempotency-Key` (the password is not stored with it).',
        body: UserInput,
        response: { 201: User, ...errors, 409: Problem },
      },
    },
    async (request, reply) => {
      const user = await users.createUser(ctx.db, request.body, request.principal?.sub);
      return withETag(reply.code(201).header('location', `${USERS}/${user.id}`), user.version).send(user);
    },
  );

  app.get(
    USERS,
    {
      config: { permission: 'users:manage' },
      schema: {
        tags,
        operationId: 'listUsers',
        summary: 'List users in creation order, optionally by status or role',
        description:
          'Users in creation order, optionally of one status or one role, one page at a time. Password hashes are never returned.',
        querystring: Type.Object(
          { status: Type.Optional(UserStatus), role: Type.Optional(RoleName), ...PageQuery },
          { additionalProperties: false },
        ),
        response: { 200: Page(User), ...errors },
      },
    },
    async (request) => users.listUsers(ctx.db, request.query),
  );

  app.get(
    `${USERS}/:id`,
    {
      config: { permission: 'users:manage' },
      schema: {
        tags,
        operationId: 'getUser',
        summary: 'Get a user',
        description: 'One user by id, with the `ETag` an update needs; 404 when no user has that id.',
        params: IdParams,
        response: { 200: User, ...errors, 404: Problem },
      },
    },
    async (request, reply) => {
      const user = await users.getUser(ctx.db, request.params.id);
      return withETag(reply, user.version).send(user);
    },
  );

  app.patch(
    `${USERS}/:id`,
    {
      config: { permission: 'users:manage' },
      schema: {
        tags,
        operationId: 'updateUser',
        summary: 'Change roles, status, name, email or staff link (merge patch; If-Match optional)',
        description:
          'Deactivating a user, removing a permission or changing its staff link ends its sessions.',
        params: IdParams,
        headers: IfMatchHeader,
        body: UserPatch,
        response: { 200: User, ...errors, 404: Problem, 409: Problem, 412: Problem },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const user = await users.patchUser(
        ctx,
        id,
        request.body,
        ifMatchOptional(request),
        request.principal?.sub,
      );
      return withETag(reply, user.version).send(user);
    },
  );

  app.post(
    `${USERS}/:id/reset-password`,
    {
      // Not `idempotent`: the body is nothing but the secret, and retrying a reset is harmless
      // anyway: it sets the same password again.
      config: { permission: 'users:manage' },
      schema: {
        tags,
        operationId: 'resetUserPassword',
        summary: "Set a user's password; its sessions end",
        description:
          "Sets a user's password (the same policy as at creation) and ends every session the user has; answers 204.",
        params: IdParams,
        body: PasswordReset,
        response: { 204: Type.Null(), ...errors, 404: Problem },
      },
    },
    async (request, reply) => {
      await users.resetPassword(ctx, request.params.id, request.body.password, request.principal?.sub);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/v1/auth/keys/rotate',
    {
      config: { permission: 'users:manage', idempotent: true },
      schema: {
        tags: ['keys'],
        operationId: 'rotateSigningKey',
        summary: 'Generate a new signing key: published now, signing after the activation delay',
        description:
          'Generates a new signing key: published in the JWKS at once, used to sign only after the activation delay, so every verifier knows it first. Accepts `Idempotency-Key`.',
        response: { 201: RotatedKey, ...errors },
      },
    },
    async (_request, reply) => {
      const key = await ctx.keys.rotate();
      return reply.code(201).send({
        kid: key.kid,
        createdAt: new Date(key.createdAt).toISOString(),
        activatesAt: new Date(key.activatesAt).toISOString(),
      });
    },
  );
}
