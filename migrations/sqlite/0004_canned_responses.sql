-- Canned responses: saved answers an agent inserts by typing / and the short code.
CREATE TABLE canned_responses (
    id            INTEGER PRIMARY KEY,
    workspace_id  BIGINT NOT NULL REFERENCES workspaces(id),
    short_code    TEXT NOT NULL,
    content       TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    CONSTRAINT canned_responses_short_code_key UNIQUE (workspace_id, short_code)
);
