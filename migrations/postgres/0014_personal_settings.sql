-- Canned responses become personal (owner_id: only that agent sees and uses it) or shared
-- (owner_id NULL: everyone sees it, admins edit it). Short codes are unique per owner scope:
-- among the shared ones of a workspace, and among each agent's personal ones. Every existing
-- response stays shared, which is what it was.
ALTER TABLE canned_responses ADD COLUMN owner_id BIGINT REFERENCES users(id);
ALTER TABLE canned_responses DROP CONSTRAINT canned_responses_short_code_key;
CREATE UNIQUE INDEX canned_responses_shared_code ON canned_responses (workspace_id, short_code)
    WHERE owner_id IS NULL;
CREATE UNIQUE INDEX canned_responses_personal_code ON canned_responses (owner_id, short_code)
    WHERE owner_id IS NOT NULL;

-- An agent's own email signature, put under their email replies (above the inbox's).
ALTER TABLE users ADD COLUMN email_signature TEXT;
