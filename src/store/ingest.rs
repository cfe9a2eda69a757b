//! The store's room for ingest: inbound messages stored a batch per transaction.

use std::sync::Arc;

use async_trait::async_trait;
use switchboard_connector_core::InboundMessage;

use super::{Result, StoreError};
use crate::domain::{Conversation, Event, Id, Message, Millis};

/// One inbound message on its way into the store.
#[derive(Clone)]
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
    /// Stores a batch of inbound messages in one transaction, in order: for each, the contact
    /// by identity, the conversation (as `threading::join` decides), the message (once per
    /// inbox and external id; a later one with the same id is answered with the first) and its
    /// events, all events of the batch taking the workspace's sequence at once. Either all of
    /// it commits, outcomes in the requests' order, or none of it does and the error is the
    /// first message's that failed. The requests are shared so that the caller still has them
    /// to try one by one, without copying a mail's attachments.
    async fn ingest_batch(&self, requests: Arc<Vec<IngestRequest>>) -> Result<Vec<IngestOutcome>>;

    /// Stores one inbound message in one transaction (a batch of one).
    async fn ingest(&self, request: IngestRequest) -> Result<IngestOutcome> {
        only(self.ingest_batch(Arc::new(vec![request])).await?)
    }
}

/// The outcome of a batch of one.
pub fn only(mut outcomes: Vec<IngestOutcome>) -> Result<IngestOutcome> {
    outcomes
        .pop()
        .ok_or_else(|| StoreError::Corrupt("a batch of one stored nothing".into()))
}
