//! The store's room for the event log: what consoles and widgets that reconnect read to catch up.

use async_trait::async_trait;

use super::Result;
use crate::domain::{Event, Id};

#[async_trait]
pub trait EventStore: Send + Sync {
    /// The workspace's events after `after_seq`, in order.
    async fn events_after(
        &self,
        workspace_id: Id,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<Event>>;
}
