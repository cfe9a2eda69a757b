//! The store's room for ingest: one inbound message stored in one transaction.

use async_trait::async_trait;
use switchboard_connector_core::InboundMessage;

use super::Result;
use crate::domain::{Conversation, Event, Id, Message, Millis};

/// One inbound message on its way into the store.
pub struct IngestRequest {
    pub workspace_id: Id,
    pub inbox_id: Id,
    pub message: InboundMessage,
    pub received_at: Millis,
}

#[derive(Clone, Debug)]
pub struct IngestOutcome {
    pub message: Message,
    pub conversation: Conversation,
    /// False when this external id was already stored: the same message is answered again.
    pub created: bool,
    pub events: Vec<Event>,
}

#[async_trait]
pub trait IngestStore: Send + Sync {
    /// Stores one inbound message in one transaction: contact by identity, conversation (as
    /// `threading::join` decides), message (once per inbox and external id) and events.
    async fn ingest(&self, request: IngestRequest) -> Result<IngestOutcome>;
}
