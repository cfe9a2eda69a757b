-- Accounts: users can be disabled, tokens remember their last use, and what owners and admins
-- do to users, tokens and inboxes is kept in an audit log that only owners read.
ALTER TABLE users ADD COLUMN disabled_at BIGINT;
ALTER TABLE tokens ADD COLUMN last_used_at BIGINT;
-- The first characters of an API token, shown in listings so its owner can tell tokens apart.
ALTER TABLE tokens ADD COLUMN token_prefix TEXT;
CREATE INDEX tokens_user ON tokens (user_id);

CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY,
    workspace_id  BIGINT NOT NULL REFERENCES workspaces(id),
    -- NULL when the action came from the command line, not from a signed-in user.
    actor_id      BIGINT REFERENCES users(id),
    actor_name    TEXT NOT NULL,
    action        TEXT NOT NULL,
    target_kind   TEXT NOT NULL,
    target_id     BIGINT,
    details       TEXT NOT NULL DEFAULT '{}',
    created_at    BIGINT NOT NULL
);
CREATE INDEX audit_log_workspace ON audit_log (workspace_id, id);
