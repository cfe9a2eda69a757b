-- Status callbacks (delivered, read, failed) that arrived before the send they speak of was
-- recorded: a provider may call back before its own answer to the send reaches the dispatcher.
-- They wait here and are applied when the send is recorded, so no status is lost to the race.
CREATE TABLE early_statuses (
    inbox_id             BIGINT NOT NULL REFERENCES inboxes(id),
    provider_message_id  TEXT NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('sent', 'delivered', 'read', 'failed')),
    error                TEXT,
    received_at          BIGINT NOT NULL,
    PRIMARY KEY (inbox_id, provider_message_id, status)
);
CREATE INDEX early_statuses_by_age ON early_statuses (received_at);
