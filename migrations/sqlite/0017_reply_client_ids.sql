-- An agent's reply carries the client id its console made for that send: a retry (a lost
-- answer, a hub restarted in between) with the same id from the same author in the same
-- conversation is answered with the stored message instead of storing a second one. The
-- fingerprint is of what the request asked for, so the same id with another body is refused.
-- message_id is empty only inside the transaction that claims the id and stores the reply.
CREATE TABLE reply_client_ids (
    conversation_id  BIGINT NOT NULL REFERENCES conversations(id),
    author_id        BIGINT NOT NULL,
    client_id        TEXT NOT NULL,
    workspace_id     BIGINT NOT NULL REFERENCES workspaces(id),
    fingerprint      TEXT NOT NULL,
    message_id       BIGINT REFERENCES messages(id),
    created_at       BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, author_id, client_id)
);
