//! The store's room for the outbox: deliveries waiting for the dispatcher, leased, retried and
//! settled.

use async_trait::async_trait;
use switchboard_connector_core::provider::StatusUpdate;
use switchboard_connector_core::OutboundDelivery;

use super::Result;
use crate::domain::{Event, Id, Inbox, Millis};

/// An outbox row the dispatcher has leased, with all it takes to hand it to a connector.
#[derive(Clone, Debug)]
pub struct ClaimedDelivery {
    pub outbox_id: Id,
    pub workspace_id: Id,
    pub inbox: Inbox,
    pub sealed_secret: Option<Vec<u8>>,
    pub delivery: OutboundDelivery,
}

#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Leases up to `limit` due deliveries for `lease_ms` to `owner`.
    async fn claim_deliveries(
        &self,
        owner: &str,
        now: Millis,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<ClaimedDelivery>>;
    async fn delivery_sent(
        &self,
        outbox_id: Id,
        provider_message_id: Option<String>,
        now: Millis,
    ) -> Result<Vec<Event>>;
    async fn delivery_retry(
        &self,
        outbox_id: Id,
        error: &str,
        next_attempt_at: Millis,
        now: Millis,
    ) -> Result<()>;
    async fn delivery_failed(&self, outbox_id: Id, error: &str, now: Millis) -> Result<Vec<Event>>;
    /// A provider's status callback for a message it accepted, found by the provider's id in
    /// the inbox. Statuses only move forward. One that names no sent message yet is kept and
    /// applied when the send is recorded (`delivery_sent`); `Ok(vec![])` then.
    async fn provider_status(
        &self,
        inbox_id: Id,
        update: StatusUpdate,
        now: Millis,
    ) -> Result<Vec<Event>>;
}
