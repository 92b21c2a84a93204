import { Type, type Static } from '@sinclair/typebox';
import { ROLE_NAMES, Timestamp, UserStatus, Uuid } from '@hms/contracts';

/**
 * The auth service's HTTP shapes. Response schemas forbid extra properties, so a stored field
 * that is not listed here (a password hash) can never be serialized into an answer.
 */
export const RoleName = Type.Union(
  ROLE_NAMES.map((r) => Type.Literal(r)),
  { description: 'a role of packages/contracts' },
);
/** ASCII only, so that folding its case is the same everywhere (JavaScript, SQL lower()). */
export const USERNAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._@-]*$';
export const Username = Type.String({
  minLength: 3,
  maxLength: 64,
  pattern: USERNAME_PATTERN,
  description: 'unique, case-insensitive',
});
const Email = Type.String({ format: 'email', maxLength: 254 });
const FullName = Type.String({ minLength: 1, maxLength: 200 });
const Roles = Type.Array(RoleName, { uniqueItems: true, maxItems: 16 });
/** Length and content rules are the password policy's (domain/password.ts), with precise messages. */
export const Password = Type.String({ minLength: 1, maxLength: 1024, description: 'at least 12 characters' });

export const User = Type.Object(
  {
    id: Uuid,
    username: Type.String(),
    email: Type.Optional(Type.String()),
    fullName: Type.String(),
    roles: Type.Array(Type.String()),
    staffId: Type.Optional(Uuid),
    status: UserStatus,
    passwordChangedAt: Timestamp,
    failedLogins: Type.Integer({ description: 'failed logins since the last successful one' }),
    lastLoginAt: Type.Optional(Timestamp),
    version: Type.Integer(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { additionalProperties: false, $id: 'User' },
);
export type User = Static<typeof User>;

export const UserInput = Type.Object(
  {
    username: Username,
    password: Password,
    email: Type.Optional(Email),
    fullName: FullName,
    roles: Roles,
    staffId: Type.Optional(Uuid),
    status: Type.Optional(UserStatus),
  },
  { additionalProperties: false },
);
export type UserInput = Static<typeof UserInput>;

export const UserPatch = Type.Object(
  {
    roles: Type.Optional(Roles),
    status: Type.Optional(UserStatus),
    fullName: Type.Optional(FullName),
    email: Type.Optional(Type.Union([Email, Type.Null()])),
    staffId: Type.Optional(Type.Union([Uuid, Type.Null()])),
  },
  { additionalProperties: false },
);
export type UserPatch = Static<typeof UserPatch>;

export const PasswordReset = Type.Object({ password: Password }, { additionalProperties: false });

export const Me = Type.Object(
  { ...User.properties, permissions: Type.Array(Type.String()) },
  { additionalProperties: false },
);

export const LoginRequest = Type.Object(
  {
    // a name no user can have is refused before any lookup (the pattern is public)
    username: Username,
    password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);

const TokenString = Type.String({ minLength: 1, maxLength: 8192 });
export const RefreshRequest = Type.Object({ refresh_token: TokenString }, { additionalProperties: false });
export const LogoutRequest = Type.Object(
  { refresh_token: Type.Optional(TokenString) },
  { additionalProperties: false },
);

export const TokenPair = Type.Object(
  {
    access_token: Type.String(),
    token_type: Type.Literal('Bearer'),
    expires_in: Type.Integer({ description: 'seconds' }),
    refresh_token: Type.String(),
  },
  { additionalProperties: false },
);
export type TokenPair = Static<typeof TokenPair>;

export const ClientCredentialsRequest = Type.Object(
  {
    grant_type: Type.String({ minLength: 1, maxLength: 64 }),
    client_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    client_secret: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
    scope: Type.Optional(Type.String({ maxLength: 2048 })),
  },
  { additionalProperties: false },
);

export const ServiceToken = Type.Object(
  {
    access_token: Type.String(),
    token_type: Type.Literal('Bearer'),
    expires_in: Type.Integer(),
    scope: Type.String(),
  },
  { additionalProperties: false },
);
export type ServiceToken = Static<typeof ServiceToken>;

export const IntrospectRequest = Type.Object(
  { token: TokenString, token_type_hint: Type.Optional(Type.String({ maxLength: 64 })) },
  { additionalProperties: false },
);

/** RFC 7662 §2.2: an inactive token is `{active: false}` and nothing else. */
export const Introspection = Type.Object(
  {
    active: Type.Boolean(),
    sub: Type.Optional(Type.String()),
    scope: Type.Optional(Type.String()),
    exp: Type.Optional(Type.Integer()),
    iat: Type.Optional(Type.Integer()),
    jti: Type.Optional(Type.String()),
    iss: Type.Optional(Type.String()),
    aud: Type.Optional(Type.String()),
    username: Type.Optional(Type.String()),
    client_id: Type.Optional(Type.String()),
    roles: Type.Optional(Type.Array(Type.String())),
    token_type: Type.Optional(Type.Literal('Bearer')),
  },
  { additionalProperties: false },
);
export type Introspection = Static<typeof Introspection>;

export const PublicJwk = Type.Object(
  {
    kty: Type.String(),
    crv: Type.String(),
    x: Type.String(),
    y: Type.String(),
    kid: Type.String(),
    alg: Type.String(),
    use: Type.String(),
  },
  { additionalProperties: false },
);
export type PublicJwk = Static<typeof PublicJwk>;
export const Jwks = Type.Object({ keys: Type.Array(PublicJwk) }, { additionalProperties: false });

export const RotatedKey = Type.Object(
  {
    kid: Type.String(),
    createdAt: Timestamp,
    activatesAt: Type.String({ format: 'date-time', description: 'when it starts signing' }),
  },
  { additionalProperties: false },
);
