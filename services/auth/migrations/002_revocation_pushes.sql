-- Access tokens a revocation must put on the shared deny-list (Redis). They are written in the
-- transaction that revokes their sessions and pushed after its commit; a push that failed (Redis
-- unreachable) is retried by a scheduler job until it succeeds, so no revocation is lost.
CREATE TABLE revocation_pushes (
  jti        text PRIMARY KEY,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  pushed_at  timestamptz
);
CREATE INDEX revocation_pushes_pending ON revocation_pushes (created_at) WHERE pushed_at IS NULL;
