-- What is failing in an inbox's work now (reading its mailbox, sending through its channel), in
-- the server's or provider's own words, so the console can show it instead of only the log. A
-- row exists only while the part fails: the next attempt that works deletes it, so a healthy
-- inbox costs no write.
CREATE TABLE inbox_problems (
    inbox_id      BIGINT NOT NULL REFERENCES inboxes(id),
    part          TEXT NOT NULL,
    workspace_id  BIGINT NOT NULL REFERENCES workspaces(id),
    problem       TEXT NOT NULL,
    since         BIGINT NOT NULL,
    last_seen     BIGINT NOT NULL,
    PRIMARY KEY (inbox_id, part)
);
