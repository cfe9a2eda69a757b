//! SQL for the console's part of the store, compiled once per engine (see sql.rs).

use async_trait::async_trait;
use sqlx::QueryBuilder;

use super::rows_sql::push_inbox_filter;
use super::{Db, EngineStore};
use crate::domain::*;
use crate::store::{ConsoleStore, ConversationSummary, Result, ViewCounts};

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
}
