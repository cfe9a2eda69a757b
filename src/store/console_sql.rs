//! SQL for the console's part of the store, compiled once per engine (see sql.rs).

use async_trait::async_trait;
use sqlx::QueryBuilder;

use super::rows_sql::{is_unique_violation, push_inbox_filter};
use super::{Db, EngineStore};
use crate::domain::*;
use crate::store::{
    CannedResponse, ConsoleStore, ConversationSummary, Result, StoreError, ViewCounts,
};

/// Characters of the last message shown in the inbox list.
const PREVIEW_CHARS: usize = 140;

fn preview(text: String) -> String {
    match text.char_indices().nth(PREVIEW_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

#[async_trait]
impl ConsoleStore for EngineStore {
    #[tracing::instrument(skip_all, fields(workspace = workspace_id, user = user_id))]
    async fn summaries(
        &self,
        workspace_id: Id,
        user_id: Id,
        conversation_ids: &[Id],
    ) -> Result<Vec<ConversationSummary>> {
        if conversation_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut c = self.reader().await?;
        let mut q = QueryBuilder::<Db>::new(
            "SELECT c.id, ct.name, \
             (SELECT m.text FROM messages m WHERE m.conversation_id = c.id \
               AND m.direction IN ('incoming', 'outgoing') ORDER BY m.id DESC LIMIT 1), \
             (SELECT m.direction FROM messages m WHERE m.conversation_id = c.id \
               AND m.direction IN ('incoming', 'outgoing') ORDER BY m.id DESC LIMIT 1), \
             (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id \
               AND m.direction = 'incoming' AND m.id > COALESCE((SELECT r.last_read_message_id \
               FROM conversation_reads r WHERE r.conversation_id = c.id AND r.user_id = ",
        );
        q.push_bind(user_id)
            .push("), 0)) FROM conversations c JOIN contacts ct ON ct.id = c.contact_id WHERE c.workspace_id = ")
            .push_bind(workspace_id)
            .push(" AND c.id IN (");
        let mut ids = q.separated(", ");
        for id in conversation_ids {
            ids.push_bind(*id);
        }
        q.push(")");
        let rows = q
            .build_query_as::<(i64, Option<String>, Option<String>, Option<String>, i64)>()
            .fetch_all(&mut *c)
            .await?;
        Ok(rows
            .into_iter()
            .map(
                |(conversation_id, contact_name, text, direction, unread)| ConversationSummary {
                    conversation_id,
                    contact_name,
                    last_message: text.map(preview),
                    last_message_direction: direction,
                    unread,
                },
            )
            .collect())
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, user = user_id))]
    async fn view_counts(
        &self,
        workspace_id: Id,
        user_id: Id,
        visible_inboxes: Option<&[Id]>,
    ) -> Result<ViewCounts> {
        let mut c = self.reader().await?;
        let mut q = QueryBuilder::<Db>::new("SELECT COALESCE(SUM(CASE WHEN assignee_id = ");
        q.push_bind(user_id).push(
            " THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN assignee_id IS NULL THEN 1 ELSE 0 END), 0), \
             COUNT(*) FROM conversations WHERE status = 'open' AND workspace_id = ",
        );
        q.push_bind(workspace_id);
        push_inbox_filter(&mut q, "inbox_id", visible_inboxes);
        let (mine, unassigned, all) = q
            .build_query_as::<(i64, i64, i64)>()
            .fetch_one(&mut *c)
            .await?;

        let mut q = QueryBuilder::<Db>::new(
            "SELECT inbox_id, COUNT(*) FROM conversations WHERE status = 'open' AND workspace_id = ",
        );
        q.push_bind(workspace_id);
        push_inbox_filter(&mut q, "inbox_id", visible_inboxes);
        q.push(" GROUP BY inbox_id ORDER BY inbox_id");
        let by_inbox = q.build_query_as::<(i64, i64)>().fetch_all(&mut *c).await?;

        let mut q = QueryBuilder::<Db>::new(
            "SELECT status, COUNT(*) FROM conversations WHERE workspace_id = ",
        );
        q.push_bind(workspace_id);
        push_inbox_filter(&mut q, "inbox_id", visible_inboxes);
        q.push(" GROUP BY status ORDER BY status");
        let by_status = q
            .build_query_as::<(String, i64)>()
            .fetch_all(&mut *c)
            .await?;
        Ok(ViewCounts {
            mine,
            unassigned,
            all,
            by_inbox,
            by_status,
        })
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id))]
    async fn canned_responses(&self, workspace_id: Id) -> Result<Vec<CannedResponse>> {
        let mut c = self.reader().await?;
        let rows = sqlx::query_as::<Db, (i64, String, String, i64)>(
            "SELECT id, short_code, content, created_at FROM canned_responses \
             WHERE workspace_id = $1 ORDER BY short_code",
        )
        .bind(workspace_id)
        .fetch_all(&mut *c)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, short_code, content, created_at)| CannedResponse {
                id,
                short_code,
                content,
                created_at,
            })
            .collect())
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id))]
    async fn create_canned_response(
        &self,
        workspace_id: Id,
        short_code: &str,
        content: &str,
        now: Millis,
    ) -> Result<CannedResponse> {
        let (short_code, content) = (short_code.to_string(), content.to_string());
        self.write(move |c| {
            Box::pin(async move {
                let id = sqlx::query_scalar::<Db, i64>(
                    "INSERT INTO canned_responses (workspace_id, short_code, content, created_at) \
                     VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .bind(workspace_id)
                .bind(&short_code)
                .bind(&content)
                .bind(now)
                .fetch_one(&mut *c)
                .await
                .map_err(|e| {
                    if is_unique_violation(&e) {
                        StoreError::Conflict("a canned response with this short code exists")
                    } else {
                        e.into()
                    }
                })?;
                Ok(CannedResponse {
                    id,
                    short_code,
                    content,
                    created_at: now,
                })
            })
        })
        .await
    }
}
