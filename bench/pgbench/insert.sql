-- One ingested message, as pgbench's transaction: the message row and its event, committed.
\set conv random(1, 100)
BEGIN;
INSERT INTO messages (workspace_id, conversation_id, inbox_id, direction, sender_kind, sender_id, text, external_id, status, created_at)
    VALUES (1, :conv, 1, 'incoming', 'contact', :conv, 'bench-t=1700000000000000000 message Hello, I have a question about my order.', :client_id || '-' || md5(random()::text), 'received', 1700000000000);
INSERT INTO events (workspace_id, seq, kind, inbox_id, conversation_id, payload, created_at)
    VALUES (1, nextval('event_seq'), 'message.created', 1, :conv, '{"message":{"id":1,"conversation_id":1,"inbox_id":1,"direction":"incoming","sender_kind":"contact","text":"bench-t=1700000000000000000 message Hello, I have a question about my order.","status":"received","created_at":1700000000000}}', 1700000000000);
END;
