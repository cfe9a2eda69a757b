//! What became of outgoing messages: sent, failed for good, bounced. (A retry changes nothing
//! a console shows, so it makes no event and stays the dispatcher's business with the store.)

use switchboard_connector_core::provider::StatusUpdate;

use super::Desk;
use crate::domain::{now_millis, Id};
use crate::store::StoreError;

type Result<T> = std::result::Result<T, StoreError>;

impl Desk {
    #[tracing::instrument(skip_all, fields(outbox = outbox_id))]
    pub async fn delivery_sent(
        &self,
        outbox_id: Id,
        provider_message_id: Option<String>,
    ) -> Result<()> {
        let events = self
            .store()
            .delivery_sent(outbox_id, provider_message_id, now_millis())
            .await?;
        self.publish(&events);
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(outbox = outbox_id))]
    pub async fn delivery_failed(&self, outbox_id: Id, error: &str) -> Result<()> {
        let events = self
            .store()
            .delivery_failed(outbox_id, error, now_millis())
            .await?;
        self.publish(&events);
        Ok(())
    }

    /// Fails the outgoing messages a bounce names. False when it named none of ours.
    #[tracing::instrument(skip_all, fields(workspace = workspace_id, inbox = inbox_id))]
    pub async fn mark_bounced(
        &self,
        workspace_id: Id,
        inbox_id: Id,
        external_ids: &[String],
        reason: &str,
    ) -> Result<bool> {
        let events = self
            .store()
            .email()
            .mark_bounced(workspace_id, inbox_id, external_ids, reason, now_millis())
            .await?;
        self.publish(&events);
        Ok(!events.is_empty())
    }

    /// A provider's status callback (delivered, read, failed) for a message it accepted: moves
    /// the message forward and tells the consoles. Channels call this from their webhooks.
    #[tracing::instrument(skip_all, fields(inbox = inbox_id, status = update.status.as_str()))]
    pub async fn provider_status(&self, inbox_id: Id, update: StatusUpdate) -> Result<()> {
        let events = self
            .store()
            .provider_status(inbox_id, update, now_millis())
            .await?;
        self.publish(&events);
        Ok(())
    }
}
