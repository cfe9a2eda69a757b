//! Messages' SQL: a conversation's thread, the message rows every room writes, and agents'
//! replies and notes. Compiled once per engine (see sql.rs).

use async_trait::async_trait;
use sqlx::{FromRow, QueryBuilder};

use super::conversations_sql::conversation_by_id;
use super::events_sql::{append_events, PendingEvent};
use super::inboxes_sql::inbox_by_id;
use super::rows_sql::{AttachmentRow, MessageRow, MESSAGE_COLS};
use super::{outbox_sql, reply_clients_sql, Conn, Db, EngineStore};
use crate::domain::*;
use crate::store::{
    Activity, AttachmentBlob, MessageStore, NewAttachment, NewReply, Page, Result, StoreError,
};
use crate::threading::scope;

async fn messages_with_attachments(c: &mut Conn, rows: Vec<MessageRow>) -> Result<Vec<Message>> {
    let mut attachments: Vec<AttachmentRow> = Vec::new();
    if !rows.is_empty() {
        let mut q = QueryBuilder::<Db>::new(
            "SELECT id, message_id, filename, content_type, size, url FROM attachments \
             WHERE message_id IN (",
        );
        let mut ids = q.separated(", ");
        for r in &rows {
            ids.push_bind(r.id);
        }
        q.push(") ORDER BY id");
        attachments = q.build_query_as().fetch_all(&mut *c).await?;
    }
    rows.into_iter()
        .map(|r| {
            let mine = attachments
                .iter()
                .filter(|a| a.message_id == r.id)
                .map(|a| Attachment {
                    id: a.id,
                    filename: a.filename.clone(),
                    content_type: a.content_type.clone(),
                    size: a.size,
                    url: a.url.clone(),
                })
                .collect();
            r.into_message(mine)
        })
        .collect()
}

pub(super) async fn message_by_id(c: &mut Conn, id: Id) -> Result<Message> {
    let row = sqlx::query_as::<Db, MessageRow>(&format!(
        "SELECT {MESSAGE_COLS} FROM messages WHERE id = $1"
    ))
    .bind(id)
    .fetch_one(&mut *c)
    .await?;
    messages_with_attachments(c, vec![row])
        .await?
        .pop()
        .ok_or(StoreError::NotFound("message"))
}

/// A message row as every room writes it: an incoming message, a reply or note, an activity line.
pub(super) struct NewMessage<'a> {
    pub(super) workspace_id: Id,
    pub(super) conversation_id: Id,
    /// The inbox the message came or goes through (see `Message::inbox_id`).
    pub(super) inbox_id: Id,
    pub(super) direction: Direction,
    pub(super) sender_kind: SenderKind,
    /// The contact or user who wrote it; `None` for the system.
    pub(super) sender_id: Option<Id>,
    pub(super) text: &'a str,
    pub(super) html: Option<&'a str>,
    /// The channel's id for it (unique per inbox); `None` for what the hub writes itself.
    pub(super) external_id: Option<&'a str>,
    pub(super) status: DeliveryStatus,
    pub(super) meta: Option<&'a serde_json::Value>,
    pub(super) created_at: Millis,
}

/// Inserts a message row; `None` when the inbox holds a message with this external id already.
pub(super) async fn insert_message(c: &mut Conn, message: &NewMessage<'_>) -> Result<Option<Id>> {
    Ok(sqlx::query_scalar::<Db, i64>(
        "INSERT INTO messages (workspace_id, conversation_id, inbox_id, direction, sender_kind, \
         sender_id, text, html, external_id, status, created_at, meta) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (inbox_id, external_id) DO NOTHING RETURNING id",
    )
    .bind(message.workspace_id)
    .bind(message.conversation_id)
    .bind(message.inbox_id)
    .bind(message.direction.as_str())
    .bind(message.sender_kind.as_str())
    .bind(message.sender_id)
    .bind(message.text)
    .bind(message.html)
    .bind(message.external_id)
    .bind(message.status.as_str())
    .bind(message.created_at)
    .bind(message.meta.map(|m| m.to_string()))
    .fetch_optional(&mut *c)
    .await?)
}

/// Inserts message rows that each carry an external id, in one statement; for each, in their
/// order, its id, or `None` when its inbox holds a message with that external id already.
pub(super) async fn insert_messages(
    c: &mut Conn,
    messages: &[NewMessage<'_>],
) -> Result<Vec<Option<Id>>> {
    let mut ids = Vec::with_capacity(messages.len());
    // Twelve parameters a row: SQLite allows 32,766 a statement, PostgreSQL 65,535.
    for messages in messages.chunks(1_000) {
        let mut q = QueryBuilder::<Db>::new(
            "INSERT INTO messages (workspace_id, conversation_id, inbox_id, direction, \
             sender_kind, sender_id, text, html, external_id, status, created_at, meta) ",
        );
        q.push_values(messages, |mut row, m| {
            row.push_bind(m.workspace_id)
                .push_bind(m.conversation_id)
                .push_bind(m.inbox_id)
                .push_bind(m.direction.as_str())
                .push_bind(m.sender_kind.as_str())
                .push_bind(m.sender_id)
                .push_bind(m.text)
                .push_bind(m.html)
                .push_bind(m.external_id)
                .push_bind(m.status.as_str())
                .push_bind(m.created_at)
                .push_bind(m.meta.map(|m| m.to_string()));
        });
        // The rows come back in no promised order: matched by where their external id is unique.
        q.push(
            " ON CONFLICT (inbox_id, external_id) DO NOTHING RETURNING id, inbox_id, external_id",
        );
        let written: Vec<(i64, i64, Option<String>)> =
            q.build_query_as().fetch_all(&mut *c).await?;
        ids.extend(messages.iter().map(|m| {
            written
                .iter()
                .find(|(_, inbox_id, external_id)| {
                    *inbox_id == m.inbox_id && external_id.as_deref() == m.external_id
                })
                .map(|(id, _, _)| *id)
        }));
    }
    Ok(ids)
}

/// An attachment as it is written: borrowed from a reply or an inbound message, so a large
/// file is bound to the statement where it lies rather than copied first.
pub(super) struct AttachmentRef<'a> {
    pub(super) filename: &'a str,
    pub(super) content_type: &'a str,
    pub(super) url: Option<&'a str>,
    pub(super) data: Option<&'a [u8]>,
}

impl<'a> From<&'a NewAttachment> for AttachmentRef<'a> {
    fn from(a: &'a NewAttachment) -> Self {
        AttachmentRef {
            filename: &a.filename,
            content_type: &a.content_type,
            url: a.url.as_deref(),
            data: a.data.as_deref(),
        }
    }
}

/// Inserts an attachment row and returns it as a message lists it.
pub(super) async fn insert_attachment(
    c: &mut Conn,
    workspace_id: Id,
    message_id: Id,
    attachment: &AttachmentRef<'_>,
    now: Millis,
) -> Result<Attachment> {
    let size = attachment.data.map_or(0, |d| d.len() as i64);
    let id = sqlx::query_scalar::<Db, i64>(
        "INSERT INTO attachments (workspace_id, message_id, filename, content_type, size, url, \
         data, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(workspace_id)
    .bind(message_id)
    .bind(attachment.filename)
    .bind(attachment.content_type)
    .bind(size)
    .bind(attachment.url)
    .bind(attachment.data)
    .bind(now)
    .fetch_one(&mut *c)
    .await?;
    Ok(Attachment {
        id,
        filename: attachment.filename.to_owned(),
        content_type: attachment.content_type.to_owned(),
        size,
        url: attachment.url.map(str::to_owned),
    })
}

/// An activity line in the thread ("Ana resolved the conversation"), so the history tells what
/// happened and who did it.
pub(super) async fn insert_activity(
    c: &mut Conn,
    conversation: &Conversation,
    activity: Activity<'_>,
    now: Millis,
) -> Result<Message> {
    let text = activity.text();
    let meta = activity.meta();
    let line = NewMessage {
        workspace_id: conversation.workspace_id,
        conversation_id: conversation.id,
        inbox_id: conversation.inbox_id,
        direction: Direction::Activity,
        sender_kind: SenderKind::System,
        sender_id: None,
        text: &text,
        html: None,
        external_id: None,
        status: DeliveryStatus::Sent,
        meta: Some(&meta),
        created_at: now,
    };
    let id = insert_message(c, &line)
        .await?
        .ok_or(StoreError::Conflict("activity message already exists"))?;
    message_by_id(c, id).await
}

/// The inbox the customer last wrote through in this conversation.
async fn last_incoming_inbox(c: &mut Conn, conversation_id: Id) -> Result<Option<Id>> {
    Ok(sqlx::query_scalar::<Db, i64>(
        "SELECT inbox_id FROM messages WHERE conversation_id = $1 AND direction = 'incoming' \
         ORDER BY id DESC LIMIT 1",
    )
    .bind(conversation_id)
    .fetch_optional(&mut *c)
    .await?)
}

async fn post_reply(
    c: &mut Conn,
    reply: NewReply,
    via: Option<Id>,
) -> Result<(Message, Vec<Event>)> {
    let now = now_millis();
    let conversation = conversation_by_id(c, reply.workspace_id, reply.conversation_id)
        .await?
        .ok_or(StoreError::NotFound("conversation"))?;
    if let Some(client) = &reply.client {
        let claim = reply_clients_sql::claim(
            c,
            reply.workspace_id,
            conversation.id,
            reply.author.user_id,
            client,
            now,
        )
        .await?;
        if let reply_clients_sql::Claim::Stored(message) = claim {
            return Ok((*message, Vec::new()));
        }
    }
    // A note stays in the conversation's inbox; a reply goes where the agent picked (the desk
    // checked the pick) or where the customer last wrote.
    let inbox_id = match (reply.private, via) {
        (true, _) => conversation.inbox_id,
        (false, Some(via)) => via,
        (false, None) => scope::reply_inbox(
            conversation.inbox_id,
            last_incoming_inbox(c, conversation.id).await?,
        ),
    };
    if inbox_id != conversation.inbox_id
        && inbox_by_id(c, reply.workspace_id, inbox_id)
            .await?
            .is_none()
    {
        return Err(StoreError::NotFound("inbox"));
    }
    let (direction, status) = if reply.private {
        (Direction::Note, DeliveryStatus::Sent)
    } else {
        (Direction::Outgoing, DeliveryStatus::Queued)
    };
    let row = NewMessage {
        workspace_id: conversation.workspace_id,
        conversation_id: conversation.id,
        inbox_id,
        direction,
        sender_kind: SenderKind::User,
        sender_id: Some(reply.author.user_id),
        text: &reply.text,
        html: reply.html.as_deref(),
        external_id: None,
        status,
        meta: reply.meta.as_ref(),
        created_at: now,
    };
    let id = insert_message(c, &row)
        .await?
        .ok_or(StoreError::Conflict("message already exists"))?;
    for attachment in &reply.attachments {
        insert_attachment(c, reply.workspace_id, id, &attachment.into(), now).await?;
    }
    if let Some(client) = &reply.client {
        reply_clients_sql::settle(c, conversation.id, reply.author.user_id, client, id).await?;
    }
    let mut pending = Vec::new();
    let mut took = false;
    if !reply.private {
        outbox_sql::enqueue(c, &conversation, inbox_id, id, now).await?;
        if reply.assign_to_author {
            took = take_unassigned(c, &conversation, &reply.author).await?;
        }
        sqlx::query::<Db>(
            "UPDATE conversations SET first_reply_at = COALESCE(first_reply_at, $2), \
             waiting_since = NULL, last_activity_at = $2 WHERE id = $1",
        )
        .bind(conversation.id)
        .bind(now)
        .execute(&mut *c)
        .await?;
        let updated = conversation_by_id(c, reply.workspace_id, conversation.id)
            .await?
            .ok_or(StoreError::NotFound("conversation"))?;
        pending.push(PendingEvent::conversation(
            EventKind::ConversationUpdated,
            &updated,
        ));
    }
    let message = message_by_id(c, id).await?;
    pending.push(PendingEvent::message(EventKind::MessageCreated, &message));
    if took {
        let line = Activity::TookByReplying {
            assignee: &reply.author.name,
        };
        let activity = insert_activity(c, &conversation, line, now).await?;
        pending.push(PendingEvent::message(EventKind::MessageCreated, &activity));
    }
    let events = append_events(c, reply.workspace_id, pending, now).await?;
    Ok((message, events))
}

/// Makes the conversation the replying agent's if it still has nobody (checked in the update
/// itself, so a concurrent assignment is never overwritten). The activity line when it did.
async fn take_unassigned(
    c: &mut Conn,
    conversation: &Conversation,
    author: &crate::store::Actor,
) -> Result<bool> {
    if conversation.assignee_id.is_some() {
        return Ok(false);
    }
    let taken = sqlx::query_scalar::<Db, i64>(
        "UPDATE conversations SET assignee_id = $2 WHERE id = $1 AND assignee_id IS NULL \
         RETURNING id",
    )
    .bind(conversation.id)
    .bind(author.user_id)
    .fetch_optional(&mut *c)
    .await?;
    Ok(taken.is_some())
}

#[async_trait]
impl MessageStore for EngineStore {
    #[tracing::instrument(skip_all, fields(workspace = workspace_id, conversation = conversation_id))]
    async fn list_messages(
        &self,
        workspace_id: Id,
        conversation_id: Id,
        page: &Page,
    ) -> Result<Vec<Message>> {
        let mut c = self.reader().await?;
        let rows = sqlx::query_as::<Db, MessageRow>(&format!(
            "SELECT {MESSAGE_COLS} FROM messages WHERE workspace_id = $1 \
             AND conversation_id = $2 AND id > $3 ORDER BY id LIMIT $4"
        ))
        .bind(workspace_id)
        .bind(conversation_id)
        .bind(page.after.map_or(0, |(_, id)| id))
        .bind(page.limit)
        .fetch_all(&mut *c)
        .await?;
        messages_with_attachments(&mut c, rows).await
    }

    #[tracing::instrument(skip_all, fields(workspace = reply.workspace_id, conversation = reply.conversation_id))]
    async fn post_reply(&self, reply: NewReply) -> Result<(Message, Vec<Event>)> {
        self.write(move |c| Box::pin(post_reply(c, reply, None)))
            .await
    }

    #[tracing::instrument(skip_all, fields(workspace = reply.workspace_id, conversation = reply.conversation_id, via = via))]
    async fn post_reply_via(&self, reply: NewReply, via: Id) -> Result<(Message, Vec<Event>)> {
        self.write(move |c| Box::pin(post_reply(c, reply, Some(via))))
            .await
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, conversation = conversation_id))]
    async fn last_incoming_inbox(
        &self,
        workspace_id: Id,
        conversation_id: Id,
    ) -> Result<Option<Id>> {
        let mut c = self.reader().await?;
        if conversation_by_id(&mut c, workspace_id, conversation_id)
            .await?
            .is_none()
        {
            return Err(StoreError::NotFound("conversation"));
        }
        last_incoming_inbox(&mut c, conversation_id).await
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, contact = contact_id, inbox = inbox_id))]
    async fn wrote_through(&self, workspace_id: Id, contact_id: Id, inbox_id: Id) -> Result<bool> {
        let mut c = self.reader().await?;
        let found = sqlx::query_scalar::<Db, i64>(
            "SELECT m.id FROM messages m JOIN conversations c ON c.id = m.conversation_id \
             WHERE m.workspace_id = $1 AND c.contact_id = $2 AND m.inbox_id = $3 \
             AND m.direction = 'incoming' LIMIT 1",
        )
        .bind(workspace_id)
        .bind(contact_id)
        .bind(inbox_id)
        .fetch_optional(&mut *c)
        .await?;
        Ok(found.is_some())
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, attachment = attachment_id))]
    async fn get_attachment(
        &self,
        workspace_id: Id,
        attachment_id: Id,
    ) -> Result<Option<AttachmentBlob>> {
        let mut c = self.reader().await?;
        #[derive(FromRow)]
        struct Row {
            id: i64,
            message_id: i64,
            filename: String,
            content_type: String,
            size: i64,
            url: Option<String>,
            data: Option<Vec<u8>>,
            conversation_id: i64,
            inbox_id: i64,
        }
        let row = sqlx::query_as::<Db, Row>(
            "SELECT a.id, a.message_id, a.filename, a.content_type, a.size, a.url, a.data, \
             m.conversation_id, m.inbox_id FROM attachments a JOIN messages m ON m.id = a.message_id \
             WHERE a.workspace_id = $1 AND a.id = $2",
        )
        .bind(workspace_id)
        .bind(attachment_id)
        .fetch_optional(&mut *c)
        .await?;
        Ok(row.map(|r| AttachmentBlob {
            attachment: Attachment::from(AttachmentRow {
                id: r.id,
                message_id: r.message_id,
                filename: r.filename,
                content_type: r.content_type,
                size: r.size,
                url: r.url,
            }),
            conversation_id: r.conversation_id,
            inbox_id: r.inbox_id,
            data: r.data,
        }))
    }
    #[tracing::instrument(skip_all, fields(workspace = workspace_id, conversation = conversation_id))]
    async fn last_customer_message_at(
        &self,
        workspace_id: Id,
        conversation_id: Id,
    ) -> Result<Option<Millis>> {
        let mut c = self.reader().await?;
        let at = sqlx::query_scalar::<Db, Option<i64>>(
            "SELECT MAX(m.created_at) FROM conversations this \
             JOIN conversations c ON c.contact_id = this.contact_id AND c.inbox_id = this.inbox_id \
             JOIN messages m ON m.conversation_id = c.id AND m.direction = 'incoming' \
             WHERE this.workspace_id = $1 AND this.id = $2",
        )
        .bind(workspace_id)
        .bind(conversation_id)
        .fetch_one(&mut *c)
        .await?;
        Ok(at)
    }

    #[tracing::instrument(skip_all, fields(inbox = inbox_id))]
    async fn replies_sent_until(
        &self,
        inbox_id: Id,
        identity: &switchboard_connector_core::Identity,
        until: Millis,
        limit: i64,
    ) -> Result<Vec<String>> {
        let mut c = self.reader().await?;
        // The outbox row is settled (`done`, at `updated_at`) only after the provider accepted
        // the send, so a reply settled by `until` was on the provider's side by then.
        let ids = sqlx::query_scalar::<Db, String>(
            "SELECT m.external_id FROM inboxes i \
             JOIN contact_identities ci ON ci.workspace_id = i.workspace_id \
               AND ci.namespace = $2 AND ci.identifier = $3 \
             JOIN conversations c ON c.contact_id = ci.contact_id AND c.inbox_id = i.id \
             JOIN messages m ON m.conversation_id = c.id AND m.direction = 'outgoing' \
             JOIN outbox o ON o.message_id = m.id \
             WHERE i.id = $1 AND m.external_id IS NOT NULL \
               AND m.status IN ('sent', 'delivered') AND o.state = 'done' AND o.updated_at <= $4 \
             ORDER BY m.id LIMIT $5",
        )
        .bind(inbox_id)
        .bind(&identity.namespace)
        .bind(&identity.identifier)
        .bind(until)
        .bind(limit)
        .fetch_all(&mut *c)
        .await?;
        Ok(ids)
    }
}
