//! The outbox's SQL: deliveries queued with their message, leased by dispatchers, retried and
//! settled. Compiled once per engine (see sql.rs).

use async_trait::async_trait;
use switchboard_connector_core::provider::{ProviderStatus, StatusUpdate};
use switchboard_connector_core::{Identity, OutboundDelivery};

use super::accounts_sql::user_by_id;
use super::contacts_sql::contact_by_id;
use super::conversations_sql::conversation_by_id;
use super::events_sql::{append_events, PendingEvent};
use super::inboxes_sql::inbox_by_id;
use super::messages_sql::message_by_id;
use super::{Conn, Db, EngineStore};
use crate::domain::*;
use crate::store::{ClaimedDelivery, OutboxStore, Result, StoreError};
use crate::threading::scope;

/// Queues the delivery of a new outgoing message, in the transaction that stores it.
/// `inbox_id` is the inbox the delivery goes out through (the conversation's, or in a
/// conversation across channels the one the reply was sent by).
pub(super) async fn enqueue(
    c: &mut Conn,
    conversation: &Conversation,
    inbox_id: Id,
    message_id: Id,
    now: Millis,
) -> Result<()> {
    // The delivery id is fixed now so that every retry carries the same one.
    let delivery_id = format!("sb-{}-{}", message_id, crate::crypto::random_token(8));
    sqlx::query::<Db>(
        "INSERT INTO outbox (workspace_id, message_id, inbox_id, delivery_id, state, \
         next_attempt_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'pending', $5, $5, $5)",
    )
    .bind(conversation.workspace_id)
    .bind(message_id)
    .bind(inbox_id)
    .bind(&delivery_id)
    .bind(now)
    .execute(&mut *c)
    .await?;
    Ok(())
}

async fn claim_deliveries(
    c: &mut Conn,
    owner: &str,
    now: Millis,
    lease_ms: i64,
    limit: i64,
) -> Result<Vec<(i64, i64, i64, i64, i64, String, i64)>> {
    // The lease condition is repeated outside the sub-select so that, on PostgreSQL, a row another
    // dispatcher leased meanwhile is re-checked after its lock and skipped.
    Ok(
        sqlx::query_as::<Db, (i64, i64, i64, i64, i64, String, i64)>(
            "UPDATE outbox SET lease_owner = $1, lease_until = $2, attempts = attempts + 1, \
         updated_at = $3 \
         WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= $3 \
                      AND (lease_until IS NULL OR lease_until < $3) \
                      ORDER BY next_attempt_at, id LIMIT $4) \
           AND state = 'pending' AND (lease_until IS NULL OR lease_until < $3) \
         RETURNING id, workspace_id, message_id, inbox_id, attempts, delivery_id, created_at",
        )
        .bind(owner)
        .bind(now + lease_ms)
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *c)
        .await?,
    )
}

async fn delivery_of(
    c: &mut Conn,
    claimed: (i64, i64, i64, i64, i64, String, i64),
) -> Result<ClaimedDelivery> {
    let (outbox_id, workspace_id, message_id, inbox_id, attempts, delivery_id, created_at) =
        claimed;
    let message = message_by_id(c, message_id).await?;
    let inbox = inbox_by_id(c, workspace_id, inbox_id)
        .await?
        .ok_or(StoreError::NotFound("inbox"))?;
    let sealed_secret = sqlx::query_scalar::<Db, Option<Vec<u8>>>(
        "SELECT sealed_secret FROM inboxes WHERE id = $1",
    )
    .bind(inbox_id)
    .fetch_one(&mut *c)
    .await?;
    let conversation = conversation_by_id(c, workspace_id, message.conversation_id)
        .await?
        .ok_or(StoreError::NotFound("conversation"))?;
    let contact = contact_by_id(c, workspace_id, conversation.contact_id)
        .await?
        .ok_or(StoreError::NotFound("contact"))?;
    let sender_name = match message.sender_id {
        Some(id) => user_by_id(c, workspace_id, id).await?.map(|u| u.name),
        None => None,
    };
    let created = time::OffsetDateTime::from_unix_timestamp_nanos(created_at as i128 * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    Ok(ClaimedDelivery {
        outbox_id,
        workspace_id,
        sealed_secret,
        delivery: OutboundDelivery {
            delivery_id,
            message_id,
            conversation_id: conversation.id,
            inbox_id,
            recipient: recipient(&inbox, &conversation, &contact),
            recipient_name: contact.name,
            text: message.text,
            html: message.html,
            sender_name,
            attempt: attempts as u32,
            created_at: created,
            meta: message.meta,
        },
        inbox,
    })
}

/// Who a delivery is addressed to. Through the conversation's own inbox: every identity of the
/// contact, as always (an API callback tells its integration all it knows). Through another
/// inbox of a conversation across channels: the identities that inbox can use (its phone
/// numbers for SMS and WhatsApp…), or every one when none is known to fit (a channel with
/// namespaces of its own choosing).
fn recipient(inbox: &Inbox, conversation: &Conversation, contact: &Contact) -> Vec<Identity> {
    let all = contact
        .identities
        .iter()
        .map(|i| Identity::new(&i.namespace, &i.identifier));
    if inbox.id == conversation.inbox_id {
        return all.collect();
    }
    let fitting: Vec<Identity> = all
        .clone()
        .filter(|i| scope::reaches(inbox.kind, inbox.id, &i.namespace))
        .collect();
    if fitting.is_empty() {
        all.collect()
    } else {
        fitting
    }
}

/// Moves an outgoing message to `status` and says so in the event log.
async fn settle_delivery(
    c: &mut Conn,
    outbox_id: Id,
    state: &str,
    status: DeliveryStatus,
    error: Option<&str>,
    now: Millis,
) -> Result<Vec<Event>> {
    let Some((workspace_id, message_id)) = sqlx::query_as::<Db, (i64, i64)>(
        "UPDATE outbox SET state = $2, lease_owner = NULL, lease_until = NULL, last_error = $3, \
         updated_at = $4 WHERE id = $1 AND state = 'pending' \
         RETURNING workspace_id, message_id",
    )
    .bind(outbox_id)
    .bind(state)
    .bind(error)
    .bind(now)
    .fetch_optional(&mut *c)
    .await?
    else {
        // Settled already (a lease that ran out and was taken by another dispatcher).
        return Ok(Vec::new());
    };
    // Only forward from `queued`: a visitor may have read the message already.
    sqlx::query::<Db>(
        "UPDATE messages SET status = $2, error = $3 WHERE id = $1 AND status = 'queued'",
    )
    .bind(message_id)
    .bind(status.as_str())
    .bind(error)
    .execute(&mut *c)
    .await?;
    let message = message_by_id(c, message_id).await?;
    append_events(
        c,
        workspace_id,
        vec![PendingEvent::message(EventKind::MessageUpdated, &message)],
        now,
    )
    .await
}

#[async_trait]
impl OutboxStore for EngineStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn claim_deliveries(
        &self,
        owner: &str,
        now: Millis,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<ClaimedDelivery>> {
        let owner = owner.to_string();
        let claimed = self
            .write(move |c| {
                Box::pin(async move { claim_deliveries(c, &owner, now, lease_ms, limit).await })
            })
            .await?;
        let mut c = self.reader().await?;
        let mut deliveries = Vec::with_capacity(claimed.len());
        for row in claimed {
            deliveries.push(delivery_of(&mut c, row).await?);
        }
        Ok(deliveries)
    }

    #[tracing::instrument(skip_all, fields(outbox = outbox_id))]
    async fn delivery_sent(
        &self,
        outbox_id: Id,
        provider_message_id: Option<String>,
        now: Millis,
    ) -> Result<Vec<Event>> {
        self.write(move |c| {
            Box::pin(async move {
                if let Some(provider_id) = &provider_message_id {
                    // Keep the provider's id for status callbacks, unless it would clash.
                    sqlx::query::<Db>(
                        "UPDATE messages SET external_id = $2 \
                         WHERE id = (SELECT message_id FROM outbox WHERE id = $1) \
                         AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.external_id = $2 \
                           AND m.inbox_id = (SELECT inbox_id FROM outbox WHERE id = $1))",
                    )
                    .bind(outbox_id)
                    .bind(provider_id)
                    .execute(&mut *c)
                    .await?;
                }
                let mut events =
                    settle_delivery(c, outbox_id, "done", DeliveryStatus::Sent, None, now).await?;
                if let Some(provider_id) = &provider_message_id {
                    events.extend(apply_early_statuses(c, outbox_id, provider_id, now).await?);
                }
                Ok(events)
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(outbox = outbox_id))]
    async fn delivery_retry(
        &self,
        outbox_id: Id,
        error: &str,
        next_attempt_at: Millis,
        now: Millis,
    ) -> Result<()> {
        let error = error.to_string();
        self.write(move |c| {
            Box::pin(async move {
                sqlx::query::<Db>(
                    "UPDATE outbox SET lease_owner = NULL, lease_until = NULL, \
                     next_attempt_at = $2, last_error = $3, updated_at = $4 \
                     WHERE id = $1 AND state = 'pending'",
                )
                .bind(outbox_id)
                .bind(next_attempt_at)
                .bind(&error)
                .bind(now)
                .execute(&mut *c)
                .await?;
                Ok(())
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(outbox = outbox_id))]
    async fn delivery_failed(&self, outbox_id: Id, error: &str, now: Millis) -> Result<Vec<Event>> {
        let error = error.to_string();
        self.write(move |c| {
            Box::pin(async move {
                settle_delivery(
                    c,
                    outbox_id,
                    "failed",
                    DeliveryStatus::Failed,
                    Some(&error),
                    now,
                )
                .await
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(inbox = inbox_id, status = update.status.as_str()))]
    async fn provider_status(
        &self,
        inbox_id: Id,
        update: StatusUpdate,
        now: Millis,
    ) -> Result<Vec<Event>> {
        self.write(move |c| {
            Box::pin(async move {
                let known = sqlx::query_scalar::<Db, i64>(
                    "SELECT id FROM messages WHERE inbox_id = $1 AND external_id = $2 \
                     AND direction = 'outgoing'",
                )
                .bind(inbox_id)
                .bind(&update.provider_message_id)
                .fetch_optional(&mut *c)
                .await?;
                let Some(message_id) = known else {
                    sqlx::query::<Db>(
                        "INSERT INTO early_statuses (inbox_id, provider_message_id, status, \
                         error, received_at) VALUES ($1, $2, $3, $4, $5) \
                         ON CONFLICT (inbox_id, provider_message_id, status) DO NOTHING",
                    )
                    .bind(inbox_id)
                    .bind(&update.provider_message_id)
                    .bind(update.status.as_str())
                    .bind(&update.error)
                    .bind(now)
                    .execute(&mut *c)
                    .await?;
                    // A status for a send that never got recorded waits no longer than a week.
                    sqlx::query::<Db>("DELETE FROM early_statuses WHERE received_at < $1")
                        .bind(now - 7 * 24 * 3600 * 1000)
                        .execute(&mut *c)
                        .await?;
                    return Ok(Vec::new());
                };
                apply_status(c, message_id, update.status, update.error.as_deref(), now).await
            })
        })
        .await
    }
}

/// The statuses a message may move to `status` from: forward only (callbacks come out of
/// order), and never from `received` (not ours) or `read`.
fn earlier_than(status: ProviderStatus) -> &'static str {
    match status {
        ProviderStatus::Sent => "('queued')",
        ProviderStatus::Delivered => "('queued', 'sent')",
        ProviderStatus::Failed => "('queued', 'sent', 'delivered')",
        ProviderStatus::Read => "('queued', 'sent', 'delivered', 'failed')",
    }
}

/// Moves an outgoing message to a provider's status, with a `message.updated` event when it
/// moved (a repeated or late callback changes nothing and says nothing).
async fn apply_status(
    c: &mut Conn,
    message_id: Id,
    status: ProviderStatus,
    error: Option<&str>,
    now: Millis,
) -> Result<Vec<Event>> {
    // A read message did reach the customer, whatever an earlier failure said.
    let error = if status == ProviderStatus::Failed {
        Some(error.unwrap_or("the provider could not deliver it"))
    } else {
        None
    };
    let moved = sqlx::query::<Db>(&format!(
        "UPDATE messages SET status = $2, error = $3 WHERE id = $1 AND status IN {}",
        earlier_than(status)
    ))
    .bind(message_id)
    .bind(status.as_str())
    .bind(error)
    .execute(&mut *c)
    .await?
    .rows_affected();
    if moved == 0 {
        return Ok(Vec::new());
    }
    let message = message_by_id(c, message_id).await?;
    append_events(
        c,
        message.workspace_id,
        vec![PendingEvent::message(EventKind::MessageUpdated, &message)],
        now,
    )
    .await
}

/// Applies, in order, the statuses that came before the send they speak of was recorded.
async fn apply_early_statuses(
    c: &mut Conn,
    outbox_id: Id,
    provider_id: &str,
    now: Millis,
) -> Result<Vec<Event>> {
    let Some((inbox_id, message_id)) = sqlx::query_as::<Db, (i64, i64)>(
        "SELECT o.inbox_id, o.message_id FROM outbox o JOIN messages m ON m.id = o.message_id \
         WHERE o.id = $1 AND m.external_id = $2",
    )
    .bind(outbox_id)
    .bind(provider_id)
    .fetch_optional(&mut *c)
    .await?
    else {
        return Ok(Vec::new());
    };
    let early = sqlx::query_as::<Db, (String, Option<String>)>(
        "DELETE FROM early_statuses WHERE inbox_id = $1 AND provider_message_id = $2 \
         RETURNING status, error",
    )
    .bind(inbox_id)
    .bind(provider_id)
    .fetch_all(&mut *c)
    .await?;
    let mut early: Vec<(ProviderStatus, Option<String>)> = early
        .into_iter()
        .filter_map(|(status, error)| {
            let status = serde_json::from_value(serde_json::Value::String(status)).ok()?;
            Some((status, error))
        })
        .collect();
    early.sort_by_key(|(status, _)| status.rank());
    let mut events = Vec::new();
    for (status, error) in early {
        events.extend(apply_status(c, message_id, status, error.as_deref(), now).await?);
    }
    Ok(events)
}
