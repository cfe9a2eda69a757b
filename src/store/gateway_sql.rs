//! SQL for the gateway's part of the store, compiled once per engine (see sql.rs).

use async_trait::async_trait;

use super::conversations_sql::conversation_by_id;
use super::events_sql::{append_events, PendingEvent};
use super::messages_sql::message_by_id;
use super::{Db, EngineStore};
use crate::domain::*;
use crate::store::{GatewayStore, ReadMarker, Result, StoreError};

#[async_trait]
impl GatewayStore for EngineStore {
    #[tracing::instrument(level = "debug", skip_all, fields(workspace = workspace_id))]
    async fn current_seq(&self, workspace_id: Id) -> Result<i64> {
        let mut c = self.reader().await?;
        sqlx::query_scalar::<Db, i64>("SELECT event_seq FROM workspaces WHERE id = $1")
            .bind(workspace_id)
            .fetch_optional(&mut *c)
            .await?
            .ok_or(StoreError::NotFound("workspace"))
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, user = user_id, conversation = conversation_id, message = message_id))]
    async fn mark_read(
        &self,
        workspace_id: Id,
        user_id: Id,
        conversation_id: Id,
        message_id: Id,
        now: Millis,
    ) -> Result<Vec<Event>> {
        self.write(move |c| {
            Box::pin(async move {
                let conversation = conversation_by_id(c, workspace_id, conversation_id)
                    .await?
                    .ok_or(StoreError::NotFound("conversation"))?;
                // A marker past the conversation's newest message would count messages not yet
                // written as read.
                let newest = sqlx::query_scalar::<Db, Option<i64>>(
                    "SELECT MAX(id) FROM messages WHERE conversation_id = $1",
                )
                .bind(conversation_id)
                .fetch_one(&mut *c)
                .await?
                .unwrap_or(0);
                let message_id = message_id.min(newest);
                // The customer's messages up to here are read (the widget says "Seen"): as
                // message updates, which carry no word of which agent read them.
                let seen = sqlx::query_scalar::<Db, i64>(
                    "UPDATE messages SET status = 'read' WHERE workspace_id = $1 \
                     AND conversation_id = $2 AND id <= $3 AND direction = 'incoming' \
                     AND status <> 'read' RETURNING id",
                )
                .bind(workspace_id)
                .bind(conversation_id)
                .bind(message_id)
                .fetch_all(&mut *c)
                .await?;
                let mut pending = Vec::with_capacity(seen.len() + 1);
                for id in seen {
                    let message = message_by_id(c, id).await?;
                    pending.push(PendingEvent::message(EventKind::MessageUpdated, &message));
                }
                let moved = sqlx::query::<Db>(
                    "INSERT INTO conversation_reads (user_id, conversation_id, workspace_id, \
                     last_read_message_id, updated_at) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (user_id, conversation_id) DO UPDATE SET \
                     last_read_message_id = excluded.last_read_message_id, \
                     updated_at = excluded.updated_at \
                     WHERE conversation_reads.last_read_message_id < excluded.last_read_message_id",
                )
                .bind(user_id)
                .bind(conversation_id)
                .bind(workspace_id)
                .bind(message_id)
                .bind(now)
                .execute(&mut *c)
                .await?;
                if moved.rows_affected() == 0 {
                    return append_events(c, workspace_id, pending, now).await;
                }
                pending.push(PendingEvent {
                    kind: EventKind::ConversationRead,
                    inbox_id: Some(conversation.inbox_id),
                    conversation_id: Some(conversation_id),
                    payload: serde_json::json!({
                        "user_id": user_id,
                        "conversation_id": conversation_id,
                        "last_read_message_id": message_id,
                    }),
                });
                append_events(c, workspace_id, pending, now).await
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, user = user_id, conversation = conversation_id))]
    async fn read_marker(
        &self,
        workspace_id: Id,
        user_id: Id,
        conversation_id: Id,
    ) -> Result<ReadMarker> {
        let mut c = self.reader().await?;
        let last = sqlx::query_scalar::<Db, i64>(
            "SELECT last_read_message_id FROM conversation_reads \
             WHERE user_id = $1 AND conversation_id = $2 AND workspace_id = $3",
        )
        .bind(user_id)
        .bind(conversation_id)
        .bind(workspace_id)
        .fetch_optional(&mut *c)
        .await?
        .unwrap_or(0);
        let unread = sqlx::query_scalar::<Db, i64>(
            "SELECT COUNT(*) FROM messages WHERE conversation_id = $1 AND workspace_id = $2 \
             AND id > $3 AND direction IN ('incoming', 'outgoing')",
        )
        .bind(conversation_id)
        .bind(workspace_id)
        .bind(last)
        .fetch_one(&mut *c)
        .await?;
        Ok(ReadMarker {
            user_id,
            conversation_id,
            last_read_message_id: last,
            unread,
        })
    }
}
