-- Mail clients reuse Message-IDs, so one external id can name several different mails. Each
-- mail keeps a key of its content (content_key; NULL for other channels and for mail stored
-- before this migration, which is taken for the same mail as before). A different mail arriving
-- under a stored external id is stored under that id with its content key appended, and
-- shared_external_id keeps the id it shares, so replies that reference it still find it.
ALTER TABLE messages ADD COLUMN content_key TEXT;
ALTER TABLE messages ADD COLUMN shared_external_id TEXT;
CREATE INDEX messages_shared_external_id ON messages (inbox_id, shared_external_id)
    WHERE shared_external_id IS NOT NULL;
