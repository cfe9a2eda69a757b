-- Where a customer's next message goes: 'inbox' keeps each inbox's conversations to itself (as
-- before); 'contact' lets a message on this inbox join the contact's open conversation in any
-- contact-scoped inbox of the workspace, so one person writing by SMS and WhatsApp is one thread.
ALTER TABLE inboxes ADD COLUMN conversation_scope TEXT NOT NULL DEFAULT 'inbox'
    CHECK (conversation_scope IN ('inbox', 'contact'));

-- Phone identities in E.164. Numbers were kept as their digits and plus; the ones written with
-- the 00 international prefix become +…, the form every channel now stores, unless another
-- contact already holds that form (two contacts stay two: merging people is a human's call).
-- National numbers ('0151…') stay as they are: which country they are in is a setting
-- ([contacts] default_region), not something a migration can know.
UPDATE contact_identities SET identifier = '+' || substr(identifier, 3)
WHERE namespace = 'phone' AND identifier LIKE '00%' AND length(identifier) > 4
  AND NOT EXISTS (
      SELECT 1 FROM contact_identities other
      WHERE other.workspace_id = contact_identities.workspace_id
        AND other.namespace = 'phone'
        AND other.identifier = '+' || substr(contact_identities.identifier, 3));
UPDATE contacts SET phone = '+' || substr(replace(replace(replace(replace(phone, ' ', ''), '-', ''), '(', ''), ')', ''), 3)
WHERE replace(replace(replace(replace(phone, ' ', ''), '-', ''), '(', ''), ')', '') LIKE '00%';
