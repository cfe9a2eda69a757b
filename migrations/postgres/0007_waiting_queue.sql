-- The website chat queue: a visitor's position is the number of open, unassigned conversations of
-- the inbox that have waited longer. Without this index each position read every conversation
-- the inbox ever had (resolved ones included); with it, only the entries ahead in the queue.
CREATE INDEX conversations_waiting ON conversations (inbox_id, (COALESCE(waiting_since, created_at)), id)
    WHERE status = 'open' AND assignee_id IS NULL;
