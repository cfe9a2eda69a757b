-- The email channel: what each message carried beyond its words (addresses, CC/BCC, flags), and
-- how far each IMAP mailbox has been read. A checkpoint only ever names mail that is committed.

ALTER TABLE messages ADD COLUMN meta TEXT;

CREATE TABLE mailbox_checkpoints (
    inbox_id      BIGINT NOT NULL REFERENCES inboxes(id),
    mailbox       TEXT NOT NULL,
    uid_validity  BIGINT NOT NULL,
    last_uid      BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (inbox_id, mailbox)
);
