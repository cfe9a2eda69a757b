-- The unified store. Every row belongs to exactly one workspace; times are Unix milliseconds.

CREATE TABLE workspaces (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    -- The per-workspace event counter, taken inside each writing transaction so that event
    -- sequence numbers commit in order (a reader resuming after seq N can never miss one).
    event_seq   BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL
);

CREATE TABLE users (
    id               INTEGER PRIMARY KEY,
    workspace_id     BIGINT NOT NULL REFERENCES workspaces(id),
    email            TEXT NOT NULL,
    name             TEXT NOT NULL,
    role             TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'agent')),
    password_hash    TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    CONSTRAINT users_email_key UNIQUE (email)
);

CREATE TABLE tokens (
    id            INTEGER PRIMARY KEY,
    workspace_id  BIGINT NOT NULL REFERENCES workspaces(id),
    user_id       BIGINT NOT NULL REFERENCES users(id),
    kind          TEXT NOT NULL CHECK (kind IN ('session', 'api')),
    name          TEXT NOT NULL,
    token_hash    BLOB NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT,
    CONSTRAINT tokens_hash_key UNIQUE (token_hash)
);

CREATE TABLE teams (
    id            INTEGER PRIMARY KEY,
    workspace_id  BIGINT NOT NULL REFERENCES workspaces(id),
    name          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    CONSTRAINT teams_name_key UNIQUE (workspace_id, name)
);

CREATE TABLE team_members (
    team_id  BIGINT NOT NULL REFERENCES teams(id),
    user_id  BIGINT NOT NULL REFERENCES users(id),
    PRIMARY KEY (team_id, user_id)
);

CREATE TABLE inboxes (
    id            INTEGER PRIMARY KEY,
    workspace_id  BIGINT NOT NULL REFERENCES workspaces(id),
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    settings      TEXT NOT NULL DEFAULT '{}',
    -- Provider secrets, sealed with the hub's secret key (ChaCha20-Poly1305); never plaintext.
    sealed_secret BLOB,
    created_at    BIGINT NOT NULL
);

CREATE TABLE inbox_members (
    inbox_id  BIGINT NOT NULL REFERENCES inboxes(id),
    user_id   BIGINT NOT NULL REFERENCES users(id),
    PRIMARY KEY (inbox_id, user_id)
);
CREATE INDEX inbox_members_user ON inbox_members (user_id);

CREATE TABLE contacts (
    id                INTEGER PRIMARY KEY,
    workspace_id      BIGINT NOT NULL REFERENCES workspaces(id),
    name              TEXT,
    email             TEXT,
    phone             TEXT,
    attributes        TEXT NOT NULL DEFAULT '{}',
    created_at        BIGINT NOT NULL,
    last_activity_at  BIGINT NOT NULL
);
CREATE INDEX contacts_by_workspace ON contacts (workspace_id, id);

CREATE TABLE contact_identities (
    id            INTEGER PRIMARY KEY,
    workspace_id  BIGINT NOT NULL REFERENCES workspaces(id),
    contact_id    BIGINT NOT NULL REFERENCES contacts(id),
    namespace     TEXT NOT NULL,
    identifier    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    CONSTRAINT contact_identities_key UNIQUE (workspace_id, namespace, identifier)
);
CREATE INDEX contact_identities_contact ON contact_identities (contact_id);

CREATE TABLE conversations (
    id                INTEGER PRIMARY KEY,
    workspace_id      BIGINT NOT NULL REFERENCES workspaces(id),
    inbox_id          BIGINT NOT NULL REFERENCES inboxes(id),
    contact_id        BIGINT NOT NULL REFERENCES contacts(id),
    status            TEXT NOT NULL CHECK (status IN ('open', 'pending', 'snoozed', 'resolved')),
    assignee_id       BIGINT REFERENCES users(id),
    team_id           BIGINT REFERENCES teams(id),
    priority          BIGINT NOT NULL DEFAULT 0,
    labels            TEXT NOT NULL DEFAULT '[]',
    subject           TEXT,
    thread_key        TEXT,
    created_at        BIGINT NOT NULL,
    last_activity_at  BIGINT NOT NULL,
    waiting_since     BIGINT,
    first_reply_at    BIGINT,
    resolved_at       BIGINT,
    snoozed_until     BIGINT
);
CREATE INDEX conversations_recent ON conversations (workspace_id, last_activity_at, id);
CREATE INDEX conversations_by_inbox ON conversations (inbox_id, last_activity_at, id);
CREATE INDEX conversations_by_contact ON conversations (contact_id, inbox_id, status);
CREATE INDEX conversations_by_thread ON conversations (inbox_id, thread_key);
CREATE INDEX conversations_by_assignee ON conversations (assignee_id, status);

CREATE TABLE messages (
    id               INTEGER PRIMARY KEY,
    workspace_id     BIGINT NOT NULL REFERENCES workspaces(id),
    conversation_id  BIGINT NOT NULL REFERENCES conversations(id),
    inbox_id         BIGINT NOT NULL REFERENCES inboxes(id),
    direction        TEXT NOT NULL CHECK (direction IN ('incoming', 'outgoing', 'note', 'activity')),
    sender_kind      TEXT NOT NULL CHECK (sender_kind IN ('contact', 'user', 'system')),
    sender_id        BIGINT,
    text             TEXT NOT NULL,
    html             TEXT,
    external_id      TEXT,
    status           TEXT NOT NULL CHECK (status IN ('received', 'queued', 'sent', 'delivered', 'read', 'failed')),
    error            TEXT,
    created_at       BIGINT NOT NULL,
    -- Re-delivery of the same provider id never creates a second message (invariant 1).
    CONSTRAINT messages_external_id_key UNIQUE (inbox_id, external_id)
);
CREATE INDEX messages_by_conversation ON messages (conversation_id, id);

CREATE TABLE attachments (
    id            INTEGER PRIMARY KEY,
    workspace_id  BIGINT NOT NULL REFERENCES workspaces(id),
    message_id    BIGINT NOT NULL REFERENCES messages(id),
    filename      TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size          BIGINT NOT NULL,
    url           TEXT,
    data          BLOB,
    created_at    BIGINT NOT NULL
);
CREATE INDEX attachments_by_message ON attachments (message_id);

CREATE TABLE events (
    id               INTEGER PRIMARY KEY,
    workspace_id     BIGINT NOT NULL REFERENCES workspaces(id),
    seq              BIGINT NOT NULL,
    kind             TEXT NOT NULL,
    inbox_id         BIGINT,
    conversation_id  BIGINT,
    payload          TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    CONSTRAINT events_seq_key UNIQUE (workspace_id, seq)
);

CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    workspace_id     BIGINT NOT NULL REFERENCES workspaces(id),
    message_id       BIGINT NOT NULL REFERENCES messages(id),
    inbox_id         BIGINT NOT NULL REFERENCES inboxes(id),
    delivery_id      TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('pending', 'done', 'failed')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    lease_owner      TEXT,
    lease_until      BIGINT,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    CONSTRAINT outbox_message_key UNIQUE (message_id)
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);

-- Agent presence, kept by the gateway from console heartbeats and read by the router.
CREATE TABLE agent_presence (
    user_id       BIGINT PRIMARY KEY REFERENCES users(id),
    workspace_id  BIGINT NOT NULL REFERENCES workspaces(id),
    status        TEXT NOT NULL CHECK (status IN ('online', 'busy', 'offline')),
    last_seen_at  BIGINT NOT NULL,
    changed_at    BIGINT NOT NULL
);
CREATE INDEX agent_presence_by_workspace ON agent_presence (workspace_id, status);
