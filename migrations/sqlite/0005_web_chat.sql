-- The website chat channel: the public token a site's widget names its inbox by, and the
-- ratings visitors give resolved conversations (CSAT).

CREATE TABLE web_chat_inboxes (
    inbox_id       BIGINT PRIMARY KEY REFERENCES inboxes(id),
    website_token  TEXT NOT NULL,
    CONSTRAINT web_chat_website_token_key UNIQUE (website_token)
);

CREATE TABLE conversation_ratings (
    conversation_id  BIGINT PRIMARY KEY REFERENCES conversations(id),
    workspace_id     BIGINT NOT NULL REFERENCES workspaces(id),
    score            BIGINT NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment          TEXT,
    created_at       BIGINT NOT NULL
);
