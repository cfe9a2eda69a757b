-- Canned responses become personal (owner_id: only that agent sees and uses it) or shared
-- (owner_id NULL: everyone sees it, admins edit it). Short codes are unique per owner scope:
-- among the shared ones of a workspace, and among each agent's personal ones. SQLite cannot
-- drop the old workspace-wide UNIQUE constraint, so the table is rebuilt; every existing
-- response stays shared, which is what it was.
CREATE TABLE canned_responses_scoped (
    id            INTEGER PRIMARY KEY,
    workspace_id  BIGINT NOT NULL REFERENCES workspaces(id),
    owner_id      BIGINT REFERENCES users(id),
    short_code    TEXT NOT NULL,
    content       TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
INSERT INTO canned_responses_scoped (id, workspace_id, owner_id, short_code, content, created_at)
    SELECT id, workspace_id, NULL, short_code, content, created_at FROM canned_responses;
DROP TABLE canned_responses;
ALTER TABLE canned_responses_scoped RENAME TO canned_responses;
CREATE UNIQUE INDEX canned_responses_shared_code ON canned_responses (workspace_id, short_code)
    WHERE owner_id IS NULL;
CREATE UNIQUE INDEX canned_responses_personal_code ON canned_responses (owner_id, short_code)
    WHERE owner_id IS NOT NULL;

-- An agent's own email signature, put under their email replies (above the inbox's).
ALTER TABLE users ADD COLUMN email_signature TEXT;
