//! Agents whose consoles stopped sending heartbeats are turned offline, so the router never hands
//! work to someone who closed the laptop.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::bus::EventBus;
use crate::domain::now_millis;
use crate::store::Store;

pub async fn expire_silent_agents(
    store: Arc<dyn Store>,
    bus: Arc<dyn EventBus>,
    timeout: Duration,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(every.max(Duration::from_millis(10)));
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let now = now_millis();
                match store.expire_presence(now - timeout.as_millis() as i64, now).await {
                    Ok(events) => bus.publish(&events),
                    Err(e) => tracing::warn!(error = %e, "presence expiry failed"),
                }
            }
            _ = shutdown.changed() => return,
        }
    }
}
