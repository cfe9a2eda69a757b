//! SQL for the website chat channel's part of the store, compiled once per engine (see sql.rs).

use async_trait::async_trait;
use sqlx::QueryBuilder;

use super::contacts_sql::{contact_by_id, resolve_contact};
use super::conversations_sql::conversation_by_id;
use super::events_sql::{append_events, PendingEvent};
use super::inboxes_sql::inbox_by_id;
use super::messages_sql::message_by_id;
use super::rows_sql::{InboxRow, INBOX_COLS};
use super::{Conn, Db, EngineStore};
use crate::domain::*;
use crate::store::{Rating, Result, StoreError, Unverified, WidgetStore};

#[async_trait]
impl WidgetStore for EngineStore {
    #[tracing::instrument(skip_all, fields(workspace = workspace_id))]
    async fn find_or_create_contact(
        &self,
        workspace_id: Id,
        sender: switchboard_connector_core::InboundSender,
        unverified: Unverified,
        now: Millis,
    ) -> Result<(Contact, Vec<Event>)> {
        self.write(move |c| {
            Box::pin(async move {
                let (id, created) = resolve_contact(c, workspace_id, &sender, now).await?;
                sqlx::query::<Db>(
                    "UPDATE contacts SET name = COALESCE(name, $2), email = COALESCE(email, $3), \
                     phone = COALESCE(phone, $4) WHERE id = $1",
                )
                .bind(id)
                .bind(&unverified.name)
                .bind(unverified.email.as_deref().map(|e| e.trim().to_lowercase()))
                .bind(&unverified.phone)
                .execute(&mut *c)
                .await?;
                let attributes = unverified.attributes;
                if !attributes.is_empty() {
                    // Pre-chat answers join the contact's attributes; newer answers win.
                    let current = contact_by_id(c, workspace_id, id)
                        .await?
                        .ok_or(StoreError::NotFound("contact"))?;
                    let mut merged = current.attributes.as_object().cloned().unwrap_or_default();
                    merged.extend(attributes);
                    sqlx::query::<Db>("UPDATE contacts SET attributes = $2 WHERE id = $1")
                        .bind(id)
                        .bind(serde_json::Value::Object(merged).to_string())
                        .execute(&mut *c)
                        .await?;
                }
                let contact = contact_by_id(c, workspace_id, id)
                    .await?
                    .ok_or(StoreError::NotFound("contact"))?;
                let events = if created {
                    let event = PendingEvent {
                        kind: EventKind::ContactCreated,
                        inbox_id: None,
                        conversation_id: None,
                        payload: serde_json::to_value(&contact).unwrap_or_default(),
                    };
                    append_events(c, workspace_id, vec![event], now).await?
                } else {
                    Vec::new()
                };
                Ok((contact, events))
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(inbox = inbox_id))]
    async fn set_website_token(&self, inbox_id: Id, website_token: &str) -> Result<()> {
        let website_token = website_token.to_string();
        self.write(move |c| {
            Box::pin(async move {
                sqlx::query::<Db>(
                    "INSERT INTO web_chat_inboxes (inbox_id, website_token) VALUES ($1, $2) \
                     ON CONFLICT (inbox_id) DO UPDATE SET website_token = excluded.website_token",
                )
                .bind(inbox_id)
                .bind(&website_token)
                .execute(&mut *c)
                .await?;
                Ok(())
            })
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn inbox_by_website_token(
        &self,
        website_token: &str,
    ) -> Result<Option<(Inbox, Option<Vec<u8>>)>> {
        let mut c = self.reader().await?;
        let Some(inbox_id) = sqlx::query_scalar::<Db, i64>(
            "SELECT inbox_id FROM web_chat_inboxes WHERE website_token = $1",
        )
        .bind(website_token)
        .fetch_optional(&mut *c)
        .await?
        else {
            return Ok(None);
        };
        let row = sqlx::query_as::<Db, InboxRow>(&format!(
            "SELECT {INBOX_COLS} FROM inboxes WHERE id = $1"
        ))
        .bind(inbox_id)
        .fetch_one(&mut *c)
        .await?;
        let sealed = sqlx::query_scalar::<Db, Option<Vec<u8>>>(
            "SELECT sealed_secret FROM inboxes WHERE id = $1",
        )
        .bind(inbox_id)
        .fetch_one(&mut *c)
        .await?;
        Ok(Some((Inbox::try_from(row)?, sealed)))
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, inbox = inbox_id))]
    async fn update_inbox_settings(
        &self,
        workspace_id: Id,
        inbox_id: Id,
        settings: serde_json::Value,
        sealed_secret: Option<Vec<u8>>,
    ) -> Result<Inbox> {
        self.write_inbox(move |c| {
            Box::pin(async move {
                let changed = sqlx::query::<Db>(
                    "UPDATE inboxes SET settings = $3, \
                     sealed_secret = COALESCE($4, sealed_secret) \
                     WHERE workspace_id = $1 AND id = $2",
                )
                .bind(workspace_id)
                .bind(inbox_id)
                .bind(settings.to_string())
                .bind(sealed_secret)
                .execute(&mut *c)
                .await?;
                if changed.rows_affected() == 0 {
                    return Err(StoreError::NotFound("inbox"));
                }
                inbox_by_id(c, workspace_id, inbox_id)
                    .await?
                    .ok_or(StoreError::NotFound("inbox"))
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, conversation = conversation_id, up_to))]
    async fn mark_read_by_contact(
        &self,
        workspace_id: Id,
        conversation_id: Id,
        up_to: Id,
        now: Millis,
    ) -> Result<Vec<Event>> {
        self.write(move |c| {
            Box::pin(async move {
                let ids = sqlx::query_scalar::<Db, i64>(
                    "UPDATE messages SET status = 'read' WHERE workspace_id = $1 \
                     AND conversation_id = $2 AND id <= $3 AND direction = 'outgoing' \
                     AND status IN ('queued', 'sent', 'delivered') RETURNING id",
                )
                .bind(workspace_id)
                .bind(conversation_id)
                .bind(up_to)
                .fetch_all(&mut *c)
                .await?;
                let mut pending = Vec::with_capacity(ids.len());
                for id in ids {
                    let message = message_by_id(c, id).await?;
                    pending.push(PendingEvent::message(EventKind::MessageUpdated, &message));
                }
                append_events(c, workspace_id, pending, now).await
            })
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn unread_by_contact(&self, conversation_ids: &[Id]) -> Result<Vec<(Id, i64)>> {
        if conversation_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut c = self.reader().await?;
        let mut q = QueryBuilder::<Db>::new(
            "SELECT conversation_id, COUNT(*) FROM messages WHERE direction = 'outgoing' \
             AND status <> 'read' AND conversation_id IN (",
        );
        let mut ids = q.separated(", ");
        for id in conversation_ids {
            ids.push_bind(*id);
        }
        q.push(") GROUP BY conversation_id");
        Ok(q.build_query_as::<(i64, i64)>().fetch_all(&mut *c).await?)
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, conversation = conversation_id))]
    async fn rate_conversation(
        &self,
        workspace_id: Id,
        conversation_id: Id,
        score: i64,
        comment: Option<String>,
        now: Millis,
    ) -> Result<Vec<Event>> {
        self.write(move |c| {
            Box::pin(async move {
                let conversation = conversation_by_id(c, workspace_id, conversation_id)
                    .await?
                    .ok_or(StoreError::NotFound("conversation"))?;
                if conversation.status != ConversationStatus::Resolved {
                    return Err(StoreError::Invalid(
                        "a conversation is rated once it is resolved".into(),
                    ));
                }
                let inserted = sqlx::query::<Db>(
                    "INSERT INTO conversation_ratings (conversation_id, workspace_id, score, \
                     comment, created_at) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (conversation_id) DO NOTHING",
                )
                .bind(conversation_id)
                .bind(workspace_id)
                .bind(score)
                .bind(&comment)
                .bind(now)
                .execute(&mut *c)
                .await?;
                if inserted.rows_affected() == 0 {
                    return Err(StoreError::Conflict("this conversation is rated already"));
                }
                let rating = Rating {
                    conversation_id,
                    score,
                    comment,
                    created_at: now,
                };
                let event = PendingEvent {
                    kind: EventKind::ConversationRated,
                    inbox_id: Some(conversation.inbox_id),
                    conversation_id: Some(conversation_id),
                    payload: serde_json::to_value(&rating).unwrap_or_default(),
                };
                append_events(c, workspace_id, vec![event], now).await
            })
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn ratings(&self, conversation_ids: &[Id]) -> Result<Vec<Rating>> {
        if conversation_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut c = self.reader().await?;
        let mut q = QueryBuilder::<Db>::new(
            "SELECT conversation_id, score, comment, created_at FROM conversation_ratings \
             WHERE conversation_id IN (",
        );
        let mut ids = q.separated(", ");
        for id in conversation_ids {
            ids.push_bind(*id);
        }
        q.push(")");
        fetch_ratings(q, &mut c).await
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, contact = contact_id))]
    async fn contact_ratings(
        &self,
        workspace_id: Id,
        contact_id: Id,
        inboxes: Option<&[Id]>,
    ) -> Result<Vec<Rating>> {
        if inboxes.is_some_and(|i| i.is_empty()) {
            return Ok(Vec::new());
        }
        let mut c = self.reader().await?;
        let mut q = QueryBuilder::<Db>::new(
            "SELECT r.conversation_id, r.score, r.comment, r.created_at FROM conversation_ratings r \
             JOIN conversations c ON c.id = r.conversation_id WHERE c.workspace_id = ",
        );
        q.push_bind(workspace_id);
        q.push(" AND c.contact_id = ");
        q.push_bind(contact_id);
        if let Some(inboxes) = inboxes {
            q.push(" AND c.inbox_id IN (");
            let mut ids = q.separated(", ");
            for id in inboxes {
                ids.push_bind(*id);
            }
            q.push(")");
        }
        q.push(" ORDER BY r.created_at DESC, r.conversation_id DESC LIMIT 50");
        fetch_ratings(q, &mut c).await
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, conversation = conversation_id))]
    async fn queue_position(&self, workspace_id: Id, conversation_id: Id) -> Result<i64> {
        let mut c = self.reader().await?;
        let conversation = conversation_by_id(&mut c, workspace_id, conversation_id)
            .await?
            .ok_or(StoreError::NotFound("conversation"))?;
        // Someone has it, or an agent has answered: the visitor is not waiting in line.
        if conversation.assignee_id.is_some()
            || conversation.first_reply_at.is_some()
            || conversation.status != ConversationStatus::Open
        {
            return Ok(0);
        }
        let since = conversation
            .waiting_since
            .unwrap_or(conversation.created_at);
        let ahead = sqlx::query_scalar::<Db, i64>(
            // Spelled as the partial index conversations_waiting is, so both engines walk only
            // the entries ahead in the queue.
            "SELECT COUNT(*) FROM conversations WHERE inbox_id = $1 AND status = 'open' \
             AND assignee_id IS NULL \
             AND (COALESCE(waiting_since, created_at) < $3 \
               OR (COALESCE(waiting_since, created_at) = $3 AND id < $2))",
        )
        .bind(conversation.inbox_id)
        .bind(conversation.id)
        .bind(since)
        .fetch_one(&mut *c)
        .await?;
        Ok(ahead + 1)
    }
}

/// Runs a query that selects `conversation_id, score, comment, created_at` of ratings.
async fn fetch_ratings(mut q: QueryBuilder<'_, Db>, c: &mut Conn) -> Result<Vec<Rating>> {
    Ok(q.build_query_as::<(i64, i64, Option<String>, i64)>()
        .fetch_all(&mut *c)
        .await?
        .into_iter()
        .map(|(conversation_id, score, comment, created_at)| Rating {
            conversation_id,
            score,
            comment,
            created_at,
        })
        .collect())
}
