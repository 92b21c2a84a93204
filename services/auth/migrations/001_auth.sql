-- Users, sessions and refresh tokens of the auth service (DOMAIN.md "Auth"). Passwords are
-- argon2id hashes; refresh tokens are stored only as SHA-256 hashes, never as issued.
CREATE TABLE users (
  id                  uuid PRIMARY KEY,
  username            text NOT NULL,
  email               text,
  full_name           text NOT NULL,
  roles               jsonb NOT NULL DEFAULT '[]',
  staff_id            uuid,
  status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'locked', 'disabled')),
  password_hash       text NOT NULL,
  password_changed_at timestamptz NOT NULL DEFAULT now(),
  failed_logins       integer NOT NULL DEFAULT 0,
  last_login_at       timestamptz,
  version             integer NOT NULL DEFAULT 1,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now()
);
-- usernames are unique whatever their case
CREATE UNIQUE INDEX users_username_lower ON users (lower(username));
CREATE INDEX users_status_id ON users (status, id);
CREATE INDEX users_roles ON users USING gin (roles jsonb_path_ops);

-- A session is a refresh-token family: every rotation adds a token to it, and reuse of a used
-- token revokes the whole family.
CREATE TABLE sessions (
  id            uuid PRIMARY KEY,
  user_id       uuid NOT NULL REFERENCES users (id),
  ip            text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  refreshed_at  timestamptz,
  expires_at    timestamptz NOT NULL,
  revoked_at    timestamptz,
  revoke_reason text
);
CREATE INDEX sessions_user_live ON sessions (user_id) WHERE revoked_at IS NULL;
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE refresh_tokens (
  token_hash text PRIMARY KEY,
  session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  issued_at  timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at    timestamptz
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- The access tokens a session was given (their ids only), so revoking the session deny-lists
-- every one of them that has not expired yet.
CREATE TABLE access_tokens (
  jti        text PRIMARY KEY,
  session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  expires_at timestamptz NOT NULL
);
CREATE INDEX access_tokens_session ON access_tokens (session_id);
