-- Tables shaped like Switchboard's messages and events (PostgreSQL migrations), without foreign
-- keys: the rows one ingested message leaves, for pgbench's raw-insert limit.
CREATE TABLE messages (
    id               BIGSERIAL PRIMARY KEY,
    workspace_id     BIGINT NOT NULL,
    conversation_id  BIGINT NOT NULL,
    inbox_id         BIGINT NOT NULL,
    direction        TEXT NOT NULL,
    sender_kind      TEXT NOT NULL,
    sender_id        BIGINT,
    text             TEXT NOT NULL,
    html             TEXT,
    external_id      TEXT,
    status           TEXT NOT NULL,
    error            TEXT,
    created_at       BIGINT NOT NULL,
    CONSTRAINT messages_external_id_key UNIQUE (inbox_id, external_id)
);
CREATE INDEX messages_by_conversation ON messages (conversation_id, id);
CREATE SEQUENCE event_seq;
CREATE TABLE events (
    id               BIGSERIAL PRIMARY KEY,
    workspace_id     BIGINT NOT NULL,
    seq              BIGINT NOT NULL,
    kind             TEXT NOT NULL,
    inbox_id         BIGINT,
    conversation_id  BIGINT,
    payload          TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    CONSTRAINT events_seq_key UNIQUE (workspace_id, seq)
);
