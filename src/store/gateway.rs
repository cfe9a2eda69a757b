//! The store's part for the live gateway: where a workspace's event log stands, and agents' read
//! markers.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::Result;
use crate::domain::{Event, Id, Millis};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReadMarker {
    pub user_id: Id,
    pub conversation_id: Id,
    pub last_read_message_id: Id,
    /// Messages after the marker (customer and agent messages; not notes or activity).
    pub unread: i64,
}

#[async_trait]
pub trait GatewayStore: Send + Sync {
    /// The sequence number of the workspace's newest event.
    async fn current_seq(&self, workspace_id: Id) -> Result<i64>;
    /// Moves the agent's marker forward (never back) and logs `conversation.read`.
    async fn mark_read(
        &self,
        workspace_id: Id,
        user_id: Id,
        conversation_id: Id,
        message_id: Id,
        now: Millis,
    ) -> Result<Vec<Event>>;
    async fn read_marker(
        &self,
        workspace_id: Id,
        user_id: Id,
        conversation_id: Id,
    ) -> Result<ReadMarker>;
}
