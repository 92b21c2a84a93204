import { Type } from '@sinclair/typebox';
import { Timestamp, Uuid } from './common.js';

/**
 * Security events of the auth service (consumed by audit). They name who and what, never a
 * password, a token or a token hash.
 */
export const UserStatus = Type.Union([
  Type.Literal('active'),
  Type.Literal('locked'),
  Type.Literal('disabled'),
]);

const Actor = Type.Optional(Type.String({ description: 'who did it: a user id or svc:<name>' }));
const ClientIp = Type.Optional(Type.String({ maxLength: 64 }));

export const AuthLoginSucceededV1 = Type.Object(
  { userId: Uuid, username: Type.String(), sessionId: Uuid, ip: ClientIp, at: Timestamp },
  { additionalProperties: false, $id: 'auth.login-succeeded.v1' },
);
/**
 * A refused login. What was typed as the username is not carried (it is sometimes a password
 * typed in the wrong field): only whether it named a user, and which.
 */
export const AuthLoginFailedV2 = Type.Object(
  {
    userMatched: Type.Boolean({ description: 'whether the name typed is the username of a user' }),
    userId: Type.Optional(Uuid),
    reason: Type.Union([
      Type.Literal('invalid_credentials'),
      Type.Literal('account_disabled'),
      Type.Literal('account_locked'),
    ]),
    ip: ClientIp,
    at: Timestamp,
  },
  { additionalProperties: false, $id: 'auth.login-failed.v2' },
);
export const AuthThrottledV1 = Type.Object(
  {
    scope: Type.Union([Type.Literal('username'), Type.Literal('ip')]),
    username: Type.Optional(Type.String({ description: 'no longer sent: a typed name stays out of events' })),
    ip: ClientIp,
    retryAfterSec: Type.Integer({ minimum: 0 }),
    at: Timestamp,
  },
  { additionalProperties: false, $id: 'auth.throttled.v1' },
);
export const AuthUserCreatedV1 = Type.Object(
  {
    userId: Uuid,
    username: Type.String(),
    roles: Type.Array(Type.String()),
    status: UserStatus,
    staffId: Type.Optional(Uuid),
    actor: Actor,
    at: Timestamp,
  },
  { additionalProperties: false, $id: 'auth.user-created.v1' },
);
export const AuthUserUpdatedV1 = Type.Object(
  {
    userId: Uuid,
    username: Type.String(),
    roles: Type.Array(Type.String()),
    status: UserStatus,
    changedFields: Type.Array(Type.String(), { minItems: 1 }),
    actor: Actor,
    at: Timestamp,
  },
  { additionalProperties: false, $id: 'auth.user-updated.v1' },
);
export const AuthPasswordResetV1 = Type.Object(
  { userId: Uuid, username: Type.String(), actor: Actor, at: Timestamp },
  { additionalProperties: false, $id: 'auth.password-reset.v1' },
);
export const AuthSessionRevokedV1 = Type.Object(
  {
    userId: Uuid,
    sessionId: Uuid,
    reason: Type.Union([
      Type.Literal('logout'),
      Type.Literal('refresh_token_reuse'),
      Type.Literal('admin'),
      Type.Literal('user_disabled'),
    ]),
    actor: Actor,
    at: Timestamp,
  },
  { additionalProperties: false, $id: 'auth.session-revoked.v1' },
);
