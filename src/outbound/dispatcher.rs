//! The dispatcher: leases due outbox rows, hands each to its channel's connector, and records the
//! outcome: sent, retry later (exponential backoff with jitter), or failed once the attempt budget
//! is spent or the provider refuses for good. Every status change goes through the desk, which
//! announces it, and so is the inbox's health (a channel that keeps refusing shows in the
//! console).
//!
//! A lease (not a lock) marks a row as taken, so a dispatcher that dies mid-delivery only delays
//! the row until the lease runs out, and several dispatchers (cluster mode) never send one row
//! twice at the same time.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::{watch, Notify};

use super::backoff;
use crate::channels::{ChannelContext, ChannelRegistry};
use crate::config::DispatcherSettings;
use crate::desk::Desk;
use crate::domain::{now_millis, InboxPart};
use crate::store::{ClaimedDelivery, Store};

pub struct Dispatcher {
    store: Arc<dyn Store>,
    /// Where sent and failed deliveries are recorded and announced.
    desk: Desk,
    settings: DispatcherSettings,
    /// Names the sender of each row, by its inbox's channel.
    channels: Arc<ChannelRegistry>,
    channel_context: ChannelContext,
    owner: String,
}

impl Dispatcher {
    pub fn new(
        settings: DispatcherSettings,
        channels: Arc<ChannelRegistry>,
        channel_context: ChannelContext,
    ) -> Self {
        Dispatcher {
            store: channel_context.desk.store().clone(),
            desk: channel_context.desk.clone(),
            settings,
            channels,
            channel_context,
            owner: format!("dispatcher-{}", crate::auth::random_token(6)),
        }
    }

    /// Works the outbox until `shutdown` turns true; `wake` cuts the wait short when a reply
    /// has just been queued.
    pub async fn run(self, wake: Arc<Notify>, mut shutdown: watch::Receiver<bool>) {
        let idle = Duration::from_millis(self.settings.poll_interval_ms.max(10));
        loop {
            let worked = match self.tick().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "outbox claim failed");
                    0
                }
            };
            if *shutdown.borrow() {
                return;
            }
            if worked == 0 {
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(idle) => {}
                    _ = shutdown.changed() => return,
                }
            }
        }
    }

    /// One round: claim what is due and deliver it. Returns how many deliveries it handled.
    pub async fn tick(&self) -> Result<usize, crate::store::StoreError> {
        let lease_ms = self.settings.lease_secs.max(1) * 1000;
        let claimed = self
            .store
            .claim_deliveries(
                &self.owner,
                now_millis(),
                lease_ms,
                self.settings.batch.max(1),
            )
            .await?;
        let count = claimed.len();
        futures::stream::iter(claimed)
            .for_each_concurrent(self.settings.concurrency.max(1), |c| self.deliver(c))
            .await;
        Ok(count)
    }

    #[tracing::instrument(skip_all, fields(outbox = claimed.outbox_id, attempt = claimed.delivery.attempt))]
    async fn deliver(&self, claimed: ClaimedDelivery) {
        let outcome = match self.channels.sender(&self.channel_context, &claimed) {
            Ok(connector) => connector.deliver(&claimed.delivery).await,
            Err(e) => Err(e),
        };
        let now = now_millis();
        // The inbox's health: a channel that refuses or cannot be reached shows in the console.
        let health = outcome.as_ref().map(|_| ()).map_err(|e| e.to_string());
        if let Err(e) = self
            .desk
            .inbox_health(
                claimed.workspace_id,
                claimed.inbox.id,
                InboxPart::Delivery,
                health,
            )
            .await
        {
            tracing::warn!(error = %e, "cannot record the inbox's health");
        }
        let result = match outcome {
            Ok(receipt) => {
                metrics::counter!("switchboard_deliveries_total", "result" => "sent").increment(1);
                self.desk
                    .delivery_sent(claimed.outbox_id, receipt.provider_message_id)
                    .await
            }
            Err(e) if e.is_transient() && claimed.delivery.attempt < self.settings.max_attempts => {
                metrics::counter!("switchboard_deliveries_total", "result" => "retry").increment(1);
                // Never sooner than the provider asked (Retry-After), whatever the backoff says.
                let wait = backoff(
                    claimed.delivery.attempt,
                    Duration::from_millis(self.settings.base_backoff_ms),
                    Duration::from_millis(self.settings.max_backoff_ms),
                )
                .max(e.retry_after().unwrap_or_default());
                tracing::info!(error = %e, retry_in_ms = wait.as_millis() as u64, "delivery will be retried");
                self.store
                    .delivery_retry(
                        claimed.outbox_id,
                        &e.to_string(),
                        now + wait.as_millis() as i64,
                        now,
                    )
                    .await
            }
            Err(e) => {
                metrics::counter!("switchboard_deliveries_total", "result" => "failed")
                    .increment(1);
                tracing::warn!(error = %e, "delivery failed for good");
                self.desk
                    .delivery_failed(claimed.outbox_id, &e.to_string())
                    .await
            }
        };
        match result {
            Ok(()) => {}
            // The lease runs out and the row is tried again; nothing is lost.
            Err(e) => tracing::error!(error = %e, "cannot record a delivery outcome"),
        }
    }
}
