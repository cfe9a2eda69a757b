-- The routing engine: policies per inbox, each agent's capacity and skills, and the history of
-- automatic assignments (for fairness windows).

CREATE TABLE routing_policies (
    inbox_id      BIGINT PRIMARY KEY REFERENCES inboxes(id),
    workspace_id  BIGINT NOT NULL REFERENCES workspaces(id),
    policy        TEXT NOT NULL
);

-- One row per agent; taking it for update is how an assignment checks capacity atomically.
CREATE TABLE routing_agents (
    user_id           BIGINT PRIMARY KEY REFERENCES users(id),
    workspace_id      BIGINT NOT NULL REFERENCES workspaces(id),
    capacity          BIGINT NOT NULL DEFAULT 10,
    skills            TEXT NOT NULL DEFAULT '[]',
    last_assigned_at  BIGINT
);

CREATE TABLE routing_assignments (
    id               INTEGER PRIMARY KEY,
    workspace_id     BIGINT NOT NULL REFERENCES workspaces(id),
    user_id          BIGINT NOT NULL REFERENCES users(id),
    conversation_id  BIGINT NOT NULL REFERENCES conversations(id),
    assigned_at      BIGINT NOT NULL,
    -- Why the router took it back, if it did ("first_reply_deadline" keeps the agent out).
    released_reason  TEXT
);
CREATE INDEX routing_assignments_by_conversation ON routing_assignments (conversation_id);
CREATE INDEX routing_assignments_recent ON routing_assignments (workspace_id, assigned_at);
