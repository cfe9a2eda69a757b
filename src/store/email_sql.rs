//! SQL for the email channel's part of the store, compiled once per engine (see sql.rs).

use async_trait::async_trait;

use super::events_sql::{append_events, PendingEvent};
use super::inboxes_sql::inbox_by_id;
use super::messages_sql::message_by_id;
use super::{Db, EngineStore};
use crate::domain::*;
use crate::store::{AttachmentData, EmailStore, EmailThread, Result, StoreError};
use crate::threading::replies::{reply_references, ThreadMail};

#[async_trait]
impl EmailStore for EngineStore {
    #[tracing::instrument(level = "debug", skip_all, fields(inbox = inbox_id))]
    async fn checkpoint(&self, inbox_id: Id, mailbox: &str) -> Result<Option<(u32, u32)>> {
        let mut c = self.reader().await?;
        let row = sqlx::query_as::<Db, (i64, i64)>(
            "SELECT uid_validity, last_uid FROM mailbox_checkpoints \
             WHERE inbox_id = $1 AND mailbox = $2",
        )
        .bind(inbox_id)
        .bind(mailbox)
        .fetch_optional(&mut *c)
        .await?;
        Ok(row.map(|(v, u)| (v as u32, u as u32)))
    }

    #[tracing::instrument(skip_all, fields(inbox = inbox_id))]
    async fn save_checkpoint(
        &self,
        inbox_id: Id,
        mailbox: &str,
        uid_validity: u32,
        last_uid: u32,
        now: Millis,
    ) -> Result<()> {
        let mailbox = mailbox.to_string();
        self.write(move |c| {
            Box::pin(async move {
                sqlx::query::<Db>(
                    "INSERT INTO mailbox_checkpoints (inbox_id, mailbox, uid_validity, last_uid, \
                     updated_at) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (inbox_id, mailbox) DO UPDATE SET uid_validity = $3, \
                     last_uid = $4, updated_at = $5",
                )
                .bind(inbox_id)
                .bind(&mailbox)
                .bind(uid_validity as i64)
                .bind(last_uid as i64)
                .bind(now)
                .execute(&mut *c)
                .await?;
                Ok(())
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, conversation = conversation_id))]
    async fn thread(&self, workspace_id: Id, conversation_id: Id) -> Result<EmailThread> {
        let mut c = self.reader().await?;
        let (subject, contact_email, contact_name) =
            sqlx::query_as::<Db, (Option<String>, Option<String>, Option<String>)>(
                "SELECT c.subject, ct.email, ct.name FROM conversations c \
                 JOIN contacts ct ON ct.id = c.contact_id \
                 WHERE c.id = $1 AND c.workspace_id = $2",
            )
            .bind(conversation_id)
            .bind(workspace_id)
            .fetch_optional(&mut *c)
            .await?
            .ok_or(StoreError::NotFound("conversation"))?;
        // The newest 40 are plenty: References keeps the first and the latest ones. A mail
        // that reused another's Message-ID is stored under a longer id; the customer's client
        // knows it by the Message-ID it shares.
        let mut rows = sqlx::query_as::<Db, (String, String)>(
            "SELECT COALESCE(shared_external_id, external_id), direction FROM messages \
             WHERE conversation_id = $1 \
             AND external_id IS NOT NULL AND direction IN ('incoming', 'outgoing') \
             ORDER BY id DESC LIMIT 40",
        )
        .bind(conversation_id)
        .fetch_all(&mut *c)
        .await?;
        rows.reverse();
        let mails: Vec<ThreadMail> = rows
            .into_iter()
            .map(|(message_id, direction)| ThreadMail {
                message_id,
                incoming: direction == "incoming",
            })
            .collect();
        let references = reply_references(&mails);
        Ok(EmailThread {
            subject,
            message_ids: references.message_ids,
            last_incoming: references.answers,
            contact_email,
            contact_name,
        })
    }

    #[tracing::instrument(skip_all, fields(message = message_id))]
    async fn attachment_data(&self, message_id: Id) -> Result<Vec<AttachmentData>> {
        let mut c = self.reader().await?;
        let rows = sqlx::query_as::<Db, (String, String, Option<Vec<u8>>)>(
            "SELECT filename, content_type, data FROM attachments WHERE message_id = $1 \
             ORDER BY id",
        )
        .bind(message_id)
        .fetch_all(&mut *c)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(filename, content_type, data)| {
                Some(AttachmentData {
                    filename,
                    content_type,
                    data: data?,
                })
            })
            .collect())
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, inbox = inbox_id))]
    async fn mark_bounced(
        &self,
        workspace_id: Id,
        inbox_id: Id,
        external_ids: &[String],
        reason: &str,
        now: Millis,
    ) -> Result<Vec<Event>> {
        let ids = external_ids.to_vec();
        let reason = format!("bounced: {reason}");
        self.write(move |c| {
            Box::pin(async move {
                let mut pending = Vec::new();
                for external_id in &ids {
                    let bounced = sqlx::query_scalar::<Db, i64>(
                        "UPDATE messages SET status = 'failed', error = $4 \
                         WHERE workspace_id = $1 AND inbox_id = $2 AND external_id = $3 \
                         AND direction = 'outgoing' AND status <> 'failed' RETURNING id",
                    )
                    .bind(workspace_id)
                    .bind(inbox_id)
                    .bind(external_id)
                    .bind(&reason)
                    .fetch_optional(&mut *c)
                    .await?;
                    if let Some(id) = bounced {
                        let message = message_by_id(c, id).await?;
                        pending.push(PendingEvent::message(EventKind::MessageUpdated, &message));
                    }
                }
                if pending.is_empty() {
                    return Ok(Vec::new());
                }
                append_events(c, workspace_id, pending, now).await
            })
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn email_inboxes(&self) -> Result<Vec<(Inbox, Option<Vec<u8>>)>> {
        let mut c = self.reader().await?;
        let rows = sqlx::query_as::<Db, (i64, i64, Option<Vec<u8>>)>(
            "SELECT id, workspace_id, sealed_secret FROM inboxes WHERE kind = 'email' ORDER BY id",
        )
        .fetch_all(&mut *c)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for (id, workspace_id, sealed) in rows {
            if let Some(inbox) = inbox_by_id(&mut c, workspace_id, id).await? {
                out.push((inbox, sealed));
            }
        }
        Ok(out)
    }
}
