-- Invitations: an admin invites an agent, who has no password (an empty password_hash, which
-- no password matches) until they follow a one-time link. The link's token is never stored:
-- only its selector (to find the row) and its SHA-256 (compared in constant time). One
-- invitation per user; a new one replaces the old; accepting deletes it.
CREATE TABLE invitations (
    user_id       BIGINT PRIMARY KEY REFERENCES users(id),
    workspace_id  BIGINT NOT NULL REFERENCES workspaces(id),
    selector      TEXT NOT NULL,
    token_hash    BLOB NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    CONSTRAINT invitations_selector_key UNIQUE (selector)
);
