//! Inboxes' and inbox members' SQL, compiled once per engine (see sql.rs).

use async_trait::async_trait;
use sqlx::QueryBuilder;

use super::accounts_sql::user_by_id;
use super::events_sql::{append_event, PendingEvent};
use super::rows_sql::{corrupt, push_inbox_filter, InboxRow, UserRow, INBOX_COLS};
use super::{Conn, Db, EngineStore};
use crate::domain::*;
use crate::store::{InboxStore, NewInbox, NewInboxSetup, Result, StoreError};

pub(super) async fn inbox_by_id(
    c: &mut Conn,
    workspace_id: Id,
    inbox_id: Id,
) -> Result<Option<Inbox>> {
    sqlx::query_as::<Db, InboxRow>(&format!(
        "SELECT {INBOX_COLS} FROM inboxes WHERE workspace_id = $1 AND id = $2"
    ))
    .bind(workspace_id)
    .bind(inbox_id)
    .fetch_optional(&mut *c)
    .await?
    .map(Inbox::try_from)
    .transpose()
}

/// The inbox row itself; a channel's setup adds what it keeps beside it.
async fn insert_inbox(c: &mut Conn, inbox: &NewInbox) -> Result<Inbox> {
    let row = sqlx::query_as::<Db, InboxRow>(&format!(
        "INSERT INTO inboxes (workspace_id, name, kind, settings, sealed_secret, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {INBOX_COLS}"
    ))
    .bind(inbox.workspace_id)
    .bind(&inbox.name)
    .bind(inbox.kind.as_str())
    .bind(inbox.settings.to_string())
    .bind(&inbox.sealed_secret)
    .bind(now_millis())
    .fetch_one(&mut *c)
    .await?;
    Inbox::try_from(row)
}

#[async_trait]
impl InboxStore for EngineStore {
    #[tracing::instrument(skip_all, fields(workspace = inbox.workspace_id))]
    async fn create_inbox(&self, inbox: NewInbox) -> Result<Inbox> {
        self.write(move |c| Box::pin(async move { insert_inbox(c, &inbox).await }))
            .await
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, inbox = inbox_id))]
    async fn get_inbox(&self, workspace_id: Id, inbox_id: Id) -> Result<Option<Inbox>> {
        let key = (workspace_id, inbox_id);
        if let Some(inbox) = self.inboxes.answer(&key, |inbox| Some(inbox.clone())) {
            return Ok(Some(inbox));
        }
        let generation = self.inboxes.generation();
        let mut c = self.reader().await?;
        let inbox = inbox_by_id(&mut c, workspace_id, inbox_id).await?;
        // Only an inbox found is remembered: one created a moment later must be found then.
        if let Some(inbox) = &inbox {
            self.inboxes.keep(key, inbox.clone(), generation);
        }
        Ok(inbox)
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id))]
    async fn list_inboxes(&self, workspace_id: Id, visible: Option<&[Id]>) -> Result<Vec<Inbox>> {
        let mut c = self.reader().await?;
        let mut q = QueryBuilder::<Db>::new(format!(
            "SELECT {INBOX_COLS} FROM inboxes WHERE workspace_id = "
        ));
        q.push_bind(workspace_id);
        push_inbox_filter(&mut q, "id", visible);
        q.push(" ORDER BY id");
        q.build_query_as::<InboxRow>()
            .fetch_all(&mut *c)
            .await?
            .into_iter()
            .map(Inbox::try_from)
            .collect()
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, inbox = inbox_id, user = user_id))]
    async fn add_inbox_member(&self, workspace_id: Id, inbox_id: Id, user_id: Id) -> Result<()> {
        self.write_access(move |c| {
            Box::pin(async move {
                inbox_by_id(c, workspace_id, inbox_id)
                    .await?
                    .ok_or(StoreError::NotFound("inbox"))?;
                user_by_id(c, workspace_id, user_id)
                    .await?
                    .ok_or_else(|| StoreError::Invalid(format!("no user {user_id} here")))?;
                sqlx::query::<Db>(
                    "INSERT INTO inbox_members (inbox_id, user_id) VALUES ($1, $2) \
                     ON CONFLICT (inbox_id, user_id) DO NOTHING",
                )
                .bind(inbox_id)
                .bind(user_id)
                .execute(&mut *c)
                .await?;
                Ok(())
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, inbox = inbox_id, user = user_id))]
    async fn remove_inbox_member(
        &self,
        workspace_id: Id,
        inbox_id: Id,
        user_id: Id,
    ) -> Result<bool> {
        self.write_access(move |c| {
            Box::pin(async move {
                inbox_by_id(c, workspace_id, inbox_id)
                    .await?
                    .ok_or(StoreError::NotFound("inbox"))?;
                let done = sqlx::query::<Db>(
                    "DELETE FROM inbox_members WHERE inbox_id = $1 AND user_id = $2",
                )
                .bind(inbox_id)
                .bind(user_id)
                .execute(&mut *c)
                .await?;
                Ok(done.rows_affected() > 0)
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, inbox = inbox_id))]
    async fn list_inbox_members(&self, workspace_id: Id, inbox_id: Id) -> Result<Vec<User>> {
        let mut c = self.reader().await?;
        sqlx::query_as::<Db, UserRow>(
            "SELECT u.id, u.workspace_id, u.email, u.name, u.role, u.created_at, u.disabled_at, \
             (u.password_hash = '') AS invited \
             FROM users u \
             JOIN inbox_members m ON m.user_id = u.id \
             WHERE u.workspace_id = $1 AND m.inbox_id = $2 ORDER BY u.id",
        )
        .bind(workspace_id)
        .bind(inbox_id)
        .fetch_all(&mut *c)
        .await?
        .into_iter()
        .map(User::try_from)
        .collect()
    }

    #[tracing::instrument(skip_all, fields(kind = %setup.inbox.kind))]
    async fn set_up_inbox(&self, setup: NewInboxSetup) -> Result<Inbox> {
        self.write(move |c| {
            Box::pin(async move {
                let created = insert_inbox(c, &setup.inbox).await?;
                if let Some(token) = &setup.website_token {
                    sqlx::query::<Db>(
                        "INSERT INTO web_chat_inboxes (inbox_id, website_token) VALUES ($1, $2)",
                    )
                    .bind(created.id)
                    .bind(token)
                    .execute(&mut *c)
                    .await?;
                }
                Ok(created)
            })
        })
        .await
    }

    #[tracing::instrument(skip(self))]
    async fn webhook_inbox(&self, inbox_id: Id) -> Result<Option<(Inbox, Option<Vec<u8>>)>> {
        let mut c = self.reader().await?;
        let Some(row) = sqlx::query_as::<Db, InboxRow>(&format!(
            "SELECT {INBOX_COLS} FROM inboxes WHERE id = $1"
        ))
        .bind(inbox_id)
        .fetch_optional(&mut *c)
        .await?
        else {
            return Ok(None);
        };
        let sealed: Option<Vec<u8>> = sqlx::query_scalar::<Db, Option<Vec<u8>>>(
            "SELECT sealed_secret FROM inboxes WHERE id = $1",
        )
        .bind(inbox_id)
        .fetch_one(&mut *c)
        .await?;
        Ok(Some((Inbox::try_from(row)?, sealed)))
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, inbox = inbox_id, scope = scope.as_str()))]
    async fn set_conversation_scope(
        &self,
        workspace_id: Id,
        inbox_id: Id,
        scope: ConversationScope,
    ) -> Result<Inbox> {
        self.write_inbox(move |c| {
            Box::pin(async move {
                sqlx::query::<Db>(
                    "UPDATE inboxes SET conversation_scope = $3 WHERE workspace_id = $1 AND id = $2",
                )
                .bind(workspace_id)
                .bind(inbox_id)
                .bind(scope.as_str())
                .execute(&mut *c)
                .await?;
                inbox_by_id(c, workspace_id, inbox_id)
                    .await?
                    .ok_or(StoreError::NotFound("inbox"))
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, inbox = inbox_id, part = part.as_str()))]
    async fn record_inbox_health(
        &self,
        workspace_id: Id,
        inbox_id: Id,
        part: InboxPart,
        problem: Option<String>,
        now: Millis,
    ) -> Result<Option<Event>> {
        self.write(move |c| {
            Box::pin(async move {
                let before = sqlx::query_scalar::<Db, String>(
                    "SELECT problem FROM inbox_problems WHERE inbox_id = $1 AND part = $2",
                )
                .bind(inbox_id)
                .bind(part.as_str())
                .fetch_optional(&mut *c)
                .await?;
                match &problem {
                    None if before.is_none() => return Ok(None),
                    None => {
                        sqlx::query::<Db>(
                            "DELETE FROM inbox_problems WHERE inbox_id = $1 AND part = $2",
                        )
                        .bind(inbox_id)
                        .bind(part.as_str())
                        .execute(&mut *c)
                        .await?;
                    }
                    Some(problem) => {
                        // The inbox must be this workspace's: a stale task of a deleted inbox
                        // records nothing.
                        if inbox_by_id(c, workspace_id, inbox_id).await?.is_none() {
                            return Ok(None);
                        }
                        sqlx::query::<Db>(
                            "INSERT INTO inbox_problems \
                             (inbox_id, part, workspace_id, problem, since, last_seen) \
                             VALUES ($1, $2, $3, $4, $5, $5) \
                             ON CONFLICT (inbox_id, part) DO UPDATE SET \
                             problem = excluded.problem, last_seen = excluded.last_seen",
                        )
                        .bind(inbox_id)
                        .bind(part.as_str())
                        .bind(workspace_id)
                        .bind(problem)
                        .bind(now)
                        .execute(&mut *c)
                        .await?;
                        if before.as_ref() == Some(problem) {
                            return Ok(None);
                        }
                    }
                }
                let event = PendingEvent::inbox(
                    inbox_id,
                    serde_json::json!({
                        "inbox_id": inbox_id,
                        "change": "health",
                        "part": part,
                        "problem": problem,
                    }),
                );
                Ok(Some(append_event(c, workspace_id, event, now).await?))
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, inbox = inbox_id, change))]
    async fn announce_inbox(
        &self,
        workspace_id: Id,
        inbox_id: Id,
        change: &'static str,
        now: Millis,
    ) -> Result<Event> {
        self.write(move |c| {
            Box::pin(async move {
                let payload = serde_json::json!({"inbox_id": inbox_id, "change": change});
                append_event(c, workspace_id, PendingEvent::inbox(inbox_id, payload), now).await
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, inbox = inbox_id))]
    async fn delete_inbox(&self, workspace_id: Id, inbox_id: Id) -> Result<Event> {
        self.write_access(move |c| {
            Box::pin(async move {
                inbox_by_id(c, workspace_id, inbox_id)
                    .await?
                    .ok_or(StoreError::NotFound("inbox"))?;
                for table in ["conversations", "messages", "outbox"] {
                    let used = sqlx::query_scalar::<Db, i64>(&format!(
                        "SELECT inbox_id FROM {table} WHERE inbox_id = $1 LIMIT 1"
                    ))
                    .bind(inbox_id)
                    .fetch_optional(&mut *c)
                    .await?;
                    if used.is_some() {
                        return Err(StoreError::Conflict(
                            "this inbox has conversations: they are kept, so it cannot be \
                             deleted (remove its members to stop its work reaching anyone)",
                        ));
                    }
                }
                for table in [
                    "inbox_members",
                    "routing_policies",
                    "web_chat_inboxes",
                    "mailbox_checkpoints",
                    "early_statuses",
                    "inbox_problems",
                ] {
                    sqlx::query::<Db>(&format!("DELETE FROM {table} WHERE inbox_id = $1"))
                        .bind(inbox_id)
                        .execute(&mut *c)
                        .await?;
                }
                sqlx::query::<Db>("DELETE FROM inboxes WHERE workspace_id = $1 AND id = $2")
                    .bind(workspace_id)
                    .bind(inbox_id)
                    .execute(&mut *c)
                    .await?;
                let payload = serde_json::json!({"inbox_id": inbox_id, "change": "deleted"});
                append_event(
                    c,
                    workspace_id,
                    PendingEvent::inbox(inbox_id, payload),
                    now_millis(),
                )
                .await
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id))]
    async fn inbox_problems(
        &self,
        workspace_id: Id,
        visible: Option<&[Id]>,
    ) -> Result<Vec<InboxProblem>> {
        let mut c = self.reader().await?;
        let mut q = QueryBuilder::<Db>::new(
            "SELECT inbox_id, part, problem, since, last_seen FROM inbox_problems \
             WHERE workspace_id = ",
        );
        q.push_bind(workspace_id);
        push_inbox_filter(&mut q, "inbox_id", visible);
        q.push(" ORDER BY inbox_id, part");
        q.build_query_as::<(i64, String, String, i64, i64)>()
            .fetch_all(&mut *c)
            .await?
            .into_iter()
            .map(|(inbox_id, part, problem, since, last_seen)| {
                Ok(InboxProblem {
                    inbox_id,
                    part: InboxPart::parse(&part).ok_or_else(|| corrupt("inbox part", &part))?,
                    problem,
                    since,
                    last_seen,
                })
            })
            .collect()
    }
}
