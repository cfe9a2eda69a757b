//! Ingest's SQL: a batch of inbound messages stored in one transaction, each conversation chosen
//! by `crate::threading`. Compiled once per engine (see sql.rs).

use std::sync::Arc;

use async_trait::async_trait;
use switchboard_connector_core::{AttachmentSource, InboundMessage};

use super::contacts_sql::{contact_by_id, resolve_contact};
use super::conversations_sql::conversation_by_id;
use super::events_sql::{append_events, PendingEvent};
use super::inboxes_sql::inbox_by_id;
use super::messages_sql::{
    insert_attachment, insert_message, message_by_id, AttachmentRef, NewMessage,
};
use super::rows_sql::{corrupt, ConversationRow, CONVERSATION_COLS};
use super::{redelivery_sql, Conn, Db, EngineStore};
use crate::domain::*;
use crate::store::{Engine, IngestOutcome, IngestRequest, IngestStore, Result, StoreError};
use crate::threading::redelivery::Arrival;
use crate::threading::{self, Found, Join, Snapshot};

/// The outcome for a message delivered again: the stored message, nothing new.
async fn seen_again(c: &mut Conn, workspace_id: Id, id: Id) -> Result<IngestOutcome> {
    let message = message_by_id(c, id).await?;
    let conversation = conversation_by_id(c, workspace_id, message.conversation_id)
        .await?
        .ok_or(StoreError::NotFound("conversation"))?;
    Ok(IngestOutcome {
        message,
        conversation,
        created: false,
        events: Vec::new(),
    })
}

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
async fn snapshot(
    c: &mut Conn,
    inbox: &Inbox,
    message: &InboundMessage,
    contact_id: Id,
) -> Result<Snapshot> {
    let inbox_id = inbox.id;
    let answered = answered_conversation(c, inbox_id, message, contact_id).await?;
    // The rule never looks at the open conversation when an answered one is known: skip the
    // query then.
    let open = match answered {
        Some(_) => None,
        None => sqlx::query_as::<Db, (i64, String)>(
            "SELECT id, status FROM conversations WHERE inbox_id = $1 AND contact_id = $2 \
             AND status <> 'resolved' AND ($3 IS NULL OR thread_key = $3) \
             ORDER BY id DESC LIMIT 1",
        )
        .bind(inbox_id)
        .bind(contact_id)
        .bind(&message.thread_key)
        .fetch_optional(&mut *c)
        .await?
        .map(found_conversation)
        .transpose()?,
    };
    let scope = inbox.conversation_scope;
    let shared = match (scope, answered.or(open)) {
        (ConversationScope::Contact, None) => {
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

/// One message stored, its events not yet appended: a batch appends all of its events at its
/// end, so the workspace's event counter is locked once per batch and for the shortest time.
struct Staged {
    message: Message,
    conversation: Conversation,
    created: bool,
    pending: Vec<PendingEvent>,
}

impl From<IngestOutcome> for Staged {
    /// A message stored before: nothing new to tell.
    fn from(outcome: IngestOutcome) -> Staged {
        Staged {
            message: outcome.message,
            conversation: outcome.conversation,
            created: false,
            pending: Vec::new(),
        }
    }
}

async fn stage(c: &mut Conn, inbox: &Inbox, request: &IngestRequest) -> Result<Staged> {
    let IngestRequest {
        workspace_id,
        inbox_id,
        ref message,
        received_at: now,
    } = *request;
    let first = redelivery_sql::arrival(c, inbox_id, message).await?;
    if let Arrival::Again(id) = first {
        return seen_again(c, workspace_id, id).await.map(Staged::from);
    }
    let (contact_id, contact_created) =
        resolve_contact(c, workspace_id, &message.sender, now).await?;
    // Under the contact's lock a concurrent delivery of the same message has either committed
    // (and we answer with it) or not started. SQLite's one writer runs no concurrent delivery,
    // so there the first look stands.
    let arrival = match EngineStore::ENGINE {
        Engine::Postgres => redelivery_sql::arrival(c, inbox_id, message).await?,
        Engine::Sqlite => first,
    };
    let (external_id, shares) = match arrival {
        Arrival::Again(id) => return seen_again(c, workspace_id, id).await.map(Staged::from),
        Arrival::New {
            external_id,
            shares,
        } => (external_id, shares),
    };

    let mut pending = Vec::new();
    if contact_created {
        let contact = contact_by_id(c, workspace_id, contact_id)
            .await?
            .ok_or(StoreError::NotFound("contact"))?;
        pending.push(PendingEvent {
            kind: EventKind::ContactCreated,
            inbox_id: Some(inbox_id),
            conversation_id: None,
            payload: serde_json::to_value(&contact).unwrap_or_default(),
        });
    }

    let conversation = match threading::join(&snapshot(c, inbox, message, contact_id).await?) {
        Join::Keep(id) => {
            touched_conversation(
                c,
                "UPDATE conversations SET last_activity_at = $2 WHERE id = $1",
                id,
                now,
            )
            .await?
        }
        Join::Wake { id, reopened } => {
            let conversation = touched_conversation(
                c,
                "UPDATE conversations SET last_activity_at = $2, \
                 waiting_since = COALESCE(waiting_since, $2), status = 'open', \
                 snoozed_until = NULL WHERE id = $1",
                id,
                now,
            )
            .await?;
            if reopened {
                pending.push(PendingEvent::conversation(
                    EventKind::ConversationUpdated,
                    &conversation,
                ));
            }
            conversation
        }
        Join::Start => {
            let row = sqlx::query_as::<Db, ConversationRow>(&format!(
                "INSERT INTO conversations (workspace_id, inbox_id, contact_id, status, subject, \
                 thread_key, created_at, last_activity_at, waiting_since) \
                 VALUES ($1, $2, $3, 'open', $4, $5, $6, $6, $6) RETURNING {CONVERSATION_COLS}"
            ))
            .bind(workspace_id)
            .bind(inbox_id)
            .bind(contact_id)
            .bind(&message.subject)
            .bind(&message.thread_key)
            .bind(now)
            .fetch_one(&mut *c)
            .await?;
            let conversation = Conversation::try_from(row)?;
            pending.push(PendingEvent::conversation(
                EventKind::ConversationCreated,
                &conversation,
            ));
            conversation
        }
    };

    let row = NewMessage {
        conversation: &conversation,
        // The inbox it came through, which in a conversation across channels may not be the
        // conversation's own: its label, and where its external id is unique.
        inbox_id,
        direction: Direction::Incoming,
        sender_kind: SenderKind::Contact,
        sender_id: Some(contact_id),
        text: &message.text,
        html: message.html.as_deref(),
        external_id: Some(&external_id),
        status: DeliveryStatus::Received,
        meta: message.meta.as_ref(),
        created_at: now,
    };
    let message_id = insert_message(c, &row)
        .await?
        // Only a concurrent delivery under the same external id (from a *different* sender
        // identity, or a different message reusing the id) can get here; the caller retries and
        // finds the stored message, or stores this one beside it, on the first check.
        .ok_or(StoreError::Conflict(
            "message with this external id already exists",
        ))?;
    redelivery_sql::record(
        c,
        message_id,
        message.content_key.as_deref(),
        shares.as_deref(),
    )
    .await?;
    let mut attachments = Vec::with_capacity(message.attachments.len());
    for attachment in &message.attachments {
        let (url, data) = match &attachment.source {
            AttachmentSource::Url(url) => (Some(url.as_str()), None),
            AttachmentSource::Inline(bytes) => (None, Some(bytes.as_slice())),
        };
        let new = AttachmentRef {
            filename: &attachment.filename,
            content_type: &attachment.content_type,
            url,
            data,
        };
        attachments.push(insert_attachment(c, workspace_id, message_id, &new, now).await?);
    }
    // The row as just written, without reading it back.
    let stored = Message {
        id: message_id,
        workspace_id,
        conversation_id: conversation.id,
        inbox_id,
        channel: inbox.kind,
        direction: Direction::Incoming,
        sender_kind: SenderKind::Contact,
        sender_id: Some(contact_id),
        text: message.text.clone(),
        html: message.html.clone(),
        external_id: Some(external_id),
        status: DeliveryStatus::Received,
        error: None,
        attachments,
        created_at: now,
        meta: message.meta.clone(),
    };
    pending.push(PendingEvent::message(EventKind::MessageCreated, &stored));
    Ok(Staged {
        message: stored,
        conversation,
        created: true,
        pending,
    })
}

/// Marks the conversation active now (with `update`'s other changes) and returns its row.
async fn touched_conversation(
    c: &mut Conn,
    update: &str,
    id: Id,
    now: Millis,
) -> Result<Conversation> {
    let row =
        sqlx::query_as::<Db, ConversationRow>(&format!("{update} RETURNING {CONVERSATION_COLS}"))
            .bind(id)
            .bind(now)
            .fetch_optional(&mut *c)
            .await?
            .ok_or(StoreError::NotFound("conversation"))?;
    Conversation::try_from(row)
}

/// Stores a batch of messages in the caller's transaction and then appends all of their
/// events: one counter reservation and one multi-row insert per workspace. A message that fails
/// fails the batch (its partial writes must not commit); the caller then stores the messages one
/// batch each, so a bad one gets its own error and takes nobody with it.
async fn ingest_batch(c: &mut Conn, requests: &[IngestRequest]) -> Result<Vec<IngestOutcome>> {
    // A batch usually comes through one inbox (a mailbox, a webhook burst, one API client):
    // it is read once.
    let mut inboxes: Vec<Inbox> = Vec::new();
    let order = lock_order(requests);
    let mut staged = Vec::with_capacity(requests.len());
    for &i in &order {
        let request = &requests[i];
        let known = inboxes
            .iter()
            .position(|b| b.id == request.inbox_id && b.workspace_id == request.workspace_id);
        let at = match known {
            Some(at) => at,
            None => {
                let inbox = inbox_by_id(c, request.workspace_id, request.inbox_id)
                    .await?
                    .ok_or(StoreError::NotFound("inbox"))?;
                inboxes.push(inbox);
                inboxes.len() - 1
            }
        };
        staged.push(stage(c, &inboxes[at], request).await?);
    }
    // Events per workspace in the order the messages were stored (a conversation's creation
    // before the messages that joined it), handed back to the message that made them.
    let mut workspaces: Vec<Id> = requests.iter().map(|r| r.workspace_id).collect();
    workspaces.sort_unstable();
    workspaces.dedup();
    let now = requests.iter().map(|r| r.received_at).max().unwrap_or(0);
    let mut events: Vec<Vec<Event>> = vec![Vec::new(); staged.len()];
    for workspace_id in workspaces {
        let mine: Vec<usize> = (0..staged.len())
            .filter(|&k| requests[order[k]].workspace_id == workspace_id)
            .collect();
        let counts: Vec<usize> = mine.iter().map(|&k| staged[k].pending.len()).collect();
        let mut pending = Vec::new();
        for &k in &mine {
            pending.append(&mut staged[k].pending);
        }
        let mut appended = append_events(c, workspace_id, pending, now)
            .await?
            .into_iter();
        for (&k, count) in mine.iter().zip(counts) {
            events[k] = appended.by_ref().take(count).collect();
        }
    }
    let mut outcomes: Vec<Option<IngestOutcome>> = (0..requests.len()).map(|_| None).collect();
    for ((s, events), &i) in staged.into_iter().zip(events).zip(&order) {
        outcomes[i] = Some(IngestOutcome {
            message: s.message,
            conversation: s.conversation,
            created: s.created,
            events,
        });
    }
    Ok(outcomes.into_iter().flatten().collect())
}

/// The order a batch's messages are stored in. PostgreSQL runs batches side by side, and two
/// that lock the same two contacts in opposite orders would deadlock (PostgreSQL notices after a
/// second and refuses one); stored by sender, every batch takes contacts in one order. Each
/// sender's messages keep theirs. SQLite's one writer runs one batch at a time: as they came.
fn lock_order(requests: &[IngestRequest]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..requests.len()).collect();
    if EngineStore::ENGINE == Engine::Postgres {
        order.sort_by_key(|&i| sender_key(&requests[i].message));
    }
    order
}

/// What finds a sender's contact first (see `resolve_contact`).
fn sender_key(message: &InboundMessage) -> (&str, &str) {
    let sender = &message.sender;
    match sender.identities.first() {
        Some(identity) => (identity.namespace.as_str(), identity.identifier.as_str()),
        None => match (&sender.email, &sender.phone) {
            (Some(email), _) => ("email", email.as_str()),
            (None, Some(phone)) => ("phone", phone.as_str()),
            (None, None) => ("", ""),
        },
    }
}

#[async_trait]
impl IngestStore for EngineStore {
    #[tracing::instrument(skip_all, fields(messages = requests.len()))]
    async fn ingest_batch(&self, requests: Arc<Vec<IngestRequest>>) -> Result<Vec<IngestOutcome>> {
        self.write(move |c| Box::pin(async move { ingest_batch(c, &requests).await }))
            .await
    }
}
