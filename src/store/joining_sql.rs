//! What an arriving message could join, for `crate::threading::join`: the conversation it
//! answers, the contact's open one in the inbox (looked up for a whole batch at once), the one
//! it shares across contact-scoped inboxes. Compiled once per engine (see sql.rs).

use std::collections::HashMap;

use sqlx::QueryBuilder;
use switchboard_connector_core::InboundMessage;

use super::rows_sql::{corrupt, lock_in_id_order, ConversationRow, CONVERSATION_COLS};
use super::{redelivery_sql, Conn, Db};
use crate::domain::*;
use crate::store::{Result, StoreError};
use crate::threading::{Found, Snapshot};

/// The conversation `message` answers, if the channel proved one or it references a stored
/// message of the same inbox (nearest reference first).
async fn answered_conversation(
    c: &mut Conn,
    inbox_id: Id,
    message: &InboundMessage,
    sender: Id,
) -> Result<Option<Found>> {
    if let Some(hint) = message.conversation_hint {
        let found = sqlx::query_as::<Db, (i64, String)>(
            "SELECT id, status FROM conversations WHERE id = $1 AND inbox_id = $2",
        )
        .bind(hint)
        .bind(inbox_id)
        .fetch_optional(&mut *c)
        .await?;
        if let Some(found) = found {
            return found_conversation(found).map(Some);
        }
    }
    for reference in message.references.iter().take(50) {
        let found = redelivery_sql::referenced_conversation(
            c,
            inbox_id,
            reference,
            message.thread_key.as_deref(),
            sender,
        )
        .await?;
        if let Some(id) = found {
            let status =
                sqlx::query_scalar::<Db, String>("SELECT status FROM conversations WHERE id = $1")
                    .bind(id)
                    .fetch_one(&mut *c)
                    .await?;
            return found_conversation((id, status)).map(Some);
        }
    }
    Ok(None)
}

/// What `threading::join` looks at, looked up under the contact's lock.
pub(super) async fn snapshot(
    c: &mut Conn,
    inbox: &Inbox,
    message: &InboundMessage,
    contact_id: Id,
    open: &OpenConversations,
    kept: &mut KeptConversations,
) -> Result<Snapshot> {
    let inbox_id = inbox.id;
    let answered = answered_conversation(c, inbox_id, message, contact_id).await?;
    // The rule never looks at the open conversation when an answered one is known: skip the
    // query then.
    let open = match answered {
        Some(_) => None,
        None => {
            open.newest(c, inbox_id, contact_id, message.thread_key.as_deref())
                .await?
        }
    };
    let scope = inbox.conversation_scope;
    let shared = match (scope, answered.or(open)) {
        (ConversationScope::Contact, None) => {
            // The contact's most recently active one: what this batch kept must be written
            // for its activity to count.
            kept.write(c).await?;
            shared_conversation(c, inbox.workspace_id, inbox_id, contact_id).await?
        }
        _ => None,
    };
    Ok(Snapshot {
        answered,
        open,
        shared,
        scope,
        automatic: message.automatic,
    })
}

/// A conversation that is not resolved, as the batch's lookup found it.
struct Unresolved {
    id: Id,
    status: ConversationStatus,
    thread_key: Option<String>,
}

/// The conversations that are not resolved of each (inbox, contact) a batch stores messages
/// for, looked up in one query for the batch instead of one per message, and kept current as
/// the batch starts and wakes conversations. A pair not looked up (or whose list the batch
/// could not keep current) is asked of the database.
#[derive(Default)]
pub(super) struct OpenConversations {
    by_pair: HashMap<(Id, Id), Vec<Unresolved>>,
}

impl OpenConversations {
    pub(super) async fn look_up(c: &mut Conn, pairs: &[(Id, Id)]) -> Result<OpenConversations> {
        let mut by_pair: HashMap<(Id, Id), Vec<Unresolved>> =
            pairs.iter().map(|&pair| (pair, Vec::new())).collect();
        let pairs: Vec<(Id, Id)> = by_pair.keys().copied().collect();
        for pairs in pairs.chunks(1_000) {
            let mut q = QueryBuilder::<Db>::new(
                "SELECT c.inbox_id, c.contact_id, c.id, c.status, c.thread_key FROM (",
            );
            q.push_values(pairs, |mut row, &(inbox_id, contact_id)| {
                row.push_bind(contact_id).push_bind(inbox_id);
            });
            // A join, so that SQLite looks each pair up in conversations_by_contact.
            q.push(
                ") k JOIN conversations c ON c.contact_id = k.column1 AND c.inbox_id = k.column2 \
                 WHERE c.status <> 'resolved'",
            );
            let found: Vec<(i64, i64, i64, String, Option<String>)> =
                q.build_query_as().fetch_all(&mut *c).await?;
            for (inbox_id, contact_id, id, status, thread_key) in found {
                let Found { id, status } = found_conversation((id, status))?;
                if let Some(list) = by_pair.get_mut(&(inbox_id, contact_id)) {
                    list.push(Unresolved {
                        id,
                        status,
                        thread_key,
                    });
                }
            }
        }
        Ok(OpenConversations { by_pair })
    }

    /// The contact's newest conversation in the inbox that is not resolved, of `thread_key`
    /// when there is one.
    async fn newest(
        &self,
        c: &mut Conn,
        inbox_id: Id,
        contact_id: Id,
        thread_key: Option<&str>,
    ) -> Result<Option<Found>> {
        if let Some(list) = self.by_pair.get(&(inbox_id, contact_id)) {
            return Ok(list
                .iter()
                .filter(|u| thread_key.is_none() || u.thread_key.as_deref() == thread_key)
                .max_by_key(|u| u.id)
                .map(|u| Found {
                    id: u.id,
                    status: u.status,
                }));
        }
        sqlx::query_as::<Db, (i64, String)>(
            "SELECT id, status FROM conversations WHERE inbox_id = $1 AND contact_id = $2 \
             AND status <> 'resolved' AND ($3 IS NULL OR thread_key = $3) \
             ORDER BY id DESC LIMIT 1",
        )
        .bind(inbox_id)
        .bind(contact_id)
        .bind(thread_key)
        .fetch_optional(&mut *c)
        .await?
        .map(found_conversation)
        .transpose()
    }

    /// A message joined `conversation` (kept, woken or started with `started_key`).
    pub(super) fn joined(
        &mut self,
        conversation: &Conversation,
        started_key: Option<Option<&str>>,
    ) {
        let pair = (conversation.inbox_id, conversation.contact_id);
        let Some(list) = self.by_pair.get_mut(&pair) else {
            return;
        };
        if let Some(known) = list.iter_mut().find(|u| u.id == conversation.id) {
            known.status = conversation.status;
            return;
        }
        match started_key {
            Some(thread_key) => list.push(Unresolved {
                id: conversation.id,
                status: conversation.status,
                thread_key: thread_key.map(str::to_string),
            }),
            // One the list did not hold (a resolved one woken by a reply) whose thread key the
            // batch does not know: the pair is asked of the database from now on.
            None => {
                self.by_pair.remove(&pair);
            }
        }
    }
}

/// The contact's most recently active conversation that is not resolved in another
/// contact-scoped inbox of the workspace. Web chat conversations are never shared: a visitor
/// sees their conversation's whole thread, and must not see what came by other channels.
async fn shared_conversation(
    c: &mut Conn,
    workspace_id: Id,
    inbox_id: Id,
    contact_id: Id,
) -> Result<Option<Found>> {
    sqlx::query_as::<Db, (i64, String)>(
        "SELECT c.id, c.status FROM conversations c JOIN inboxes i ON i.id = c.inbox_id \
         WHERE c.workspace_id = $1 AND c.contact_id = $2 AND c.inbox_id <> $3 \
         AND c.status <> 'resolved' AND i.conversation_scope = 'contact' \
         AND i.kind <> 'web_chat' ORDER BY c.last_activity_at DESC, c.id DESC LIMIT 1",
    )
    .bind(workspace_id)
    .bind(contact_id)
    .bind(inbox_id)
    .fetch_optional(&mut *c)
    .await?
    .map(found_conversation)
    .transpose()
}

fn found_conversation((id, status): (i64, String)) -> Result<Found> {
    Ok(Found {
        id,
        status: ConversationStatus::parse(&status)
            .ok_or_else(|| corrupt("conversation status", &status))?,
    })
}

/// The conversations a batch's messages joined without changing their status (an auto-reply
/// kept out of a sleeping one, a customer writing into an open one): marked active in one
/// statement for the batch rather than one per message, their rows then handed to the messages
/// that joined them. A customer's message also marks the conversation waiting for an answer
/// from then, when it was not already.
#[derive(Default)]
pub(super) struct KeptConversations {
    pending: Vec<Kept>,
    rows: HashMap<Id, Conversation>,
}

/// A conversation's pending write: active at `at`; waiting since `waiting_from` unless it was
/// waiting already (`None`: an auto-reply's, which does not).
struct Kept {
    id: Id,
    at: Millis,
    waiting_from: Option<Millis>,
}

impl KeptConversations {
    /// A message joined conversation `id` at `at`; a customer's (`waits`) makes it wait.
    pub(super) fn keep(&mut self, id: Id, at: Millis, waits: bool) {
        let waiting_from = waits.then_some(at);
        match self.pending.iter_mut().find(|k| k.id == id) {
            // As if written one after the other: the latest activity, the first wait.
            Some(k) => {
                k.at = k.at.max(at);
                k.waiting_from = k.waiting_from.or(waiting_from);
            }
            None => self.pending.push(Kept {
                id,
                at,
                waiting_from,
            }),
        }
    }

    /// A later message of the batch wrote `conversation` itself (woke it, an auto-reply having
    /// kept it asleep before): that write is newer than what is pending, and its row stands.
    pub(super) fn written(&mut self, conversation: &Conversation) {
        let was_pending = self.pending.iter().any(|k| k.id == conversation.id);
        self.pending.retain(|k| k.id != conversation.id);
        if was_pending || self.rows.contains_key(&conversation.id) {
            self.rows.insert(conversation.id, conversation.clone());
        }
    }

    /// Writes what is pending. On PostgreSQL the rows are locked first, in id order, so batches
    /// side by side take them in one order.
    pub(super) async fn write(&mut self, c: &mut Conn) -> Result<()> {
        let mut pending = std::mem::take(&mut self.pending);
        pending.sort_unstable_by_key(|k| k.id);
        for pending in pending.chunks(1_000) {
            lock_in_id_order(c, "conversations", pending.iter().map(|k| k.id)).await?;
            let mut q = QueryBuilder::<Db>::new(
                "UPDATE conversations SET last_activity_at = k.column2, \
                 waiting_since = COALESCE(waiting_since, k.column3), \
                 status = CASE WHEN k.column3 IS NULL THEN status ELSE 'open' END, \
                 snoozed_until = CASE WHEN k.column3 IS NULL THEN snoozed_until ELSE NULL END \
                 FROM (",
            );
            q.push_values(pending, |mut row, k| {
                row.push_bind(k.id)
                    .push_bind(k.at)
                    .push_bind(k.waiting_from);
            });
            q.push(format!(
                ") AS k WHERE conversations.id = k.column1 RETURNING {CONVERSATION_COLS}"
            ));
            let written: Vec<ConversationRow> = q.build_query_as().fetch_all(&mut *c).await?;
            for row in written {
                let conversation = Conversation::try_from(row)?;
                self.rows.insert(conversation.id, conversation);
            }
        }
        Ok(())
    }

    /// The row of a conversation kept and written.
    pub(super) fn row(&self, id: Id) -> Result<Conversation> {
        self.rows
            .get(&id)
            .cloned()
            .ok_or(StoreError::NotFound("conversation"))
    }
}
