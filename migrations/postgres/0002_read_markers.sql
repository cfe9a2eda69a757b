-- Read markers: how far each agent has read each conversation, for unread counts that follow the
-- agent across devices.
CREATE TABLE conversation_reads (
    user_id               BIGINT NOT NULL REFERENCES users(id),
    conversation_id       BIGINT NOT NULL REFERENCES conversations(id),
    workspace_id          BIGINT NOT NULL REFERENCES workspaces(id),
    last_read_message_id  BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL,
    PRIMARY KEY (user_id, conversation_id)
);
