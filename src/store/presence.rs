//! The store's room for agent presence: online, away or offline, heartbeats, and agents who
//! stopped sending them.

use async_trait::async_trait;

use super::Result;
use crate::domain::{Event, Id, Millis, Presence, PresenceStatus};

#[async_trait]
pub trait PresenceStore: Send + Sync {
    /// Sets an agent's status; returns the `presence.updated` event when it changed.
    async fn set_presence(
        &self,
        workspace_id: Id,
        user_id: Id,
        status: PresenceStatus,
        now: Millis,
    ) -> Result<Option<Event>>;
    /// A heartbeat: the agent is still there (no event).
    async fn touch_presence(&self, user_id: Id, now: Millis) -> Result<()>;
    async fn list_presence(&self, workspace_id: Id) -> Result<Vec<Presence>>;
    /// Turns agents not seen since `stale_before` offline, with an event each.
    async fn expire_presence(&self, stale_before: Millis, now: Millis) -> Result<Vec<Event>>;
}
