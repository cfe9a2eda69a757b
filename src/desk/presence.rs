//! Agents' availability: what their consoles say, and silence turning into offline, so the
//! router never hands work to someone who closed the laptop.

use std::time::Duration;

use tokio::sync::watch;

use super::Desk;
use crate::domain::{now_millis, Id, PresenceStatus};
use crate::store::StoreError;

impl Desk {
    /// Sets an agent's status; announced when it changed.
    #[tracing::instrument(skip_all, fields(workspace = workspace_id, user = user_id, status = %status))]
    pub async fn set_presence(
        &self,
        workspace_id: Id,
        user_id: Id,
        status: PresenceStatus,
    ) -> Result<(), StoreError> {
        let changed = self
            .store()
            .set_presence(workspace_id, user_id, status, now_millis())
            .await?;
        self.publish(&changed.into_iter().collect::<Vec<_>>());
        Ok(())
    }

    /// Turns agents not heard from for `timeout` offline.
    #[tracing::instrument(skip_all)]
    pub async fn expire_presence(&self, timeout: Duration) -> Result<(), StoreError> {
        let now = now_millis();
        let stale_before = now - i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX);
        let events = self.store().expire_presence(stale_before, now).await?;
        self.publish(&events);
        Ok(())
    }

    /// Every `every`, agents silent for `timeout` go offline; until shutdown.
    pub async fn expire_silent_agents(
        self,
        timeout: Duration,
        every: Duration,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut tick = tokio::time::interval(every.max(Duration::from_millis(10)));
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    if let Err(e) = self.expire_presence(timeout).await {
                        tracing::warn!(error = %e, "presence expiry failed");
                    }
                }
                _ = shutdown.changed() => return,
            }
        }
    }
}
