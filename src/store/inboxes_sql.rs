//! Inboxes' and inbox members' SQL, compiled once per engine (see sql.rs).

use async_trait::async_trait;
use sqlx::QueryBuilder;

use super::accounts_sql::user_by_id;
use super::rows_sql::{push_inbox_filter, InboxRow, UserRow, INBOX_COLS};
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
        let mut c = self.reader().await?;
        inbox_by_id(&mut c, workspace_id, inbox_id).await
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
        self.write(move |c| {
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

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, inbox = inbox_id))]
    async fn list_inbox_members(&self, workspace_id: Id, inbox_id: Id) -> Result<Vec<User>> {
        let mut c = self.reader().await?;
        sqlx::query_as::<Db, UserRow>(
            "SELECT u.id, u.workspace_id, u.email, u.name, u.role, u.created_at, u.disabled_at \
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
        self.write(move |c| {
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
}
