//! Ingest's SQL: one inbound message stored in one transaction, its conversation chosen by
//! `crate::threading`. Compiled once per engine (see sql.rs).

use async_trait::async_trait;
use switchboard_connector_core::{AttachmentSource, InboundMessage};

use super::contacts_sql::{contact_by_id, resolve_contact};
use super::conversations_sql::conversation_by_id;
use super::events_sql::{append_events, PendingEvent};
use super::inboxes_sql::inbox_by_id;
use super::messages_sql::{insert_attachment, insert_message, message_by_id, NewMessage};
use super::rows_sql::corrupt;
use super::{redelivery_sql, Conn, Db, EngineStore};
use crate::domain::*;
use crate::store::{IngestOutcome, IngestRequest, IngestStore, NewAttachment, Result, StoreError};
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

async fn ingest(c: &mut Conn, request: IngestRequest) -> Result<IngestOutcome> {
    let IngestRequest {
        workspace_id,
        inbox_id,
        message,
        received_at: now,
    } = request;
    let inbox = inbox_by_id(c, workspace_id, inbox_id)
        .await?
        .ok_or(StoreError::NotFound("inbox"))?;
    if let Arrival::Again(id) = redelivery_sql::arrival(c, inbox_id, &message).await? {
        return seen_again(c, workspace_id, id).await;
    }
    let (contact_id, contact_created) =
        resolve_contact(c, workspace_id, &message.sender, now).await?;
    // Under the contact's lock a concurrent delivery of the same message has either committed
    // (and we answer with it) or not started.
    let (external_id, shares) = match redelivery_sql::arrival(c, inbox_id, &message).await? {
        Arrival::Again(id) => return seen_again(c, workspace_id, id).await,
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

    let conversation = match threading::join(&snapshot(c, &inbox, &message, contact_id).await?) {
        Join::Keep(id) => {
            sqlx::query::<Db>("UPDATE conversations SET last_activity_at = $2 WHERE id = $1")
                .bind(id)
                .bind(now)
                .execute(&mut *c)
                .await?;
            conversation_by_id(c, workspace_id, id)
                .await?
                .ok_or(StoreError::NotFound("conversation"))?
        }
        Join::Wake { id, reopened } => {
            sqlx::query::<Db>(
                "UPDATE conversations SET last_activity_at = $2, \
                 waiting_since = COALESCE(waiting_since, $2), status = 'open', \
                 snoozed_until = NULL WHERE id = $1",
            )
            .bind(id)
            .bind(now)
            .execute(&mut *c)
            .await?;
            let conversation = conversation_by_id(c, workspace_id, id)
                .await?
                .ok_or(StoreError::NotFound("conversation"))?;
            if reopened {
                pending.push(PendingEvent::conversation(
                    EventKind::ConversationUpdated,
                    &conversation,
                ));
            }
            conversation
        }
        Join::Start => {
            let id = sqlx::query_scalar::<Db, i64>(
                "INSERT INTO conversations (workspace_id, inbox_id, contact_id, status, subject, \
                 thread_key, created_at, last_activity_at, waiting_since) \
                 VALUES ($1, $2, $3, 'open', $4, $5, $6, $6, $6) RETURNING id",
            )
            .bind(workspace_id)
            .bind(inbox_id)
            .bind(contact_id)
            .bind(&message.subject)
            .bind(&message.thread_key)
            .bind(now)
            .fetch_one(&mut *c)
            .await?;
            let conversation = conversation_by_id(c, workspace_id, id)
                .await?
                .ok_or(StoreError::NotFound("conversation"))?;
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
    for attachment in &message.attachments {
        let (url, data) = match &attachment.source {
            AttachmentSource::Url(url) => (Some(url.clone()), None),
            AttachmentSource::Inline(bytes) => (None, Some(bytes.clone())),
        };
        let new = NewAttachment {
            filename: attachment.filename.clone(),
            content_type: attachment.content_type.clone(),
            url,
            data,
        };
        insert_attachment(c, workspace_id, message_id, &new, now).await?;
    }
    let stored = message_by_id(c, message_id).await?;
    pending.push(PendingEvent::message(EventKind::MessageCreated, &stored));
    let events = append_events(c, workspace_id, pending, now).await?;
    Ok(IngestOutcome {
        message: stored,
        conversation,
        created: true,
        events,
    })
}

#[async_trait]
impl IngestStore for EngineStore {
    #[tracing::instrument(skip_all, fields(workspace = request.workspace_id, inbox = request.inbox_id))]
    async fn ingest(&self, request: IngestRequest) -> Result<IngestOutcome> {
        self.write(move |c| Box::pin(ingest(c, request))).await
    }
}
