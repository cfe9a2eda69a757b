//! SQL for channel setup, compiled once per engine like the other `*_sql.rs` rooms.

use async_trait::async_trait;

use super::shared::{InboxRow, INBOX_COLS};
use super::{Db, EngineStore};
use crate::domain::*;
use crate::store::{InboxSetupStore, NewInboxSetup, Result};

#[async_trait]
impl InboxSetupStore for EngineStore {
    #[tracing::instrument(skip_all, fields(kind = %setup.inbox.kind))]
    async fn set_up_inbox(&self, setup: NewInboxSetup) -> Result<Inbox> {
        self.write(move |c| {
            Box::pin(async move {
                let inbox = setup.inbox;
                let row = sqlx::query_as::<Db, InboxRow>(&format!(
                    "INSERT INTO inboxes (workspace_id, name, kind, settings, sealed_secret, \
                     created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING {INBOX_COLS}"
                ))
                .bind(inbox.workspace_id)
                .bind(&inbox.name)
                .bind(inbox.kind.as_str())
                .bind(inbox.settings.to_string())
                .bind(&inbox.sealed_secret)
                .bind(now_millis())
                .fetch_one(&mut *c)
                .await?;
                let created = Inbox::try_from(row)?;
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
}
