//! The one door every inbound message comes through, whatever its channel: check it, store it in
//! one transaction, then tell the bus. Connectors and webhooks call this and nothing else.

use switchboard_connector_core::phone::{self, PhoneRegion};
use switchboard_connector_core::InboundMessage;

use super::Desk;
use crate::domain::{now_millis, Id};
use crate::store::{IngestOutcome, IngestRequest, StoreError};

/// The longest message text accepted, in bytes; longer input is refused rather than cut.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

impl Desk {
    #[tracing::instrument(skip_all, fields(workspace = workspace_id, inbox = inbox_id, external_id = %message.external_id))]
    pub async fn ingest(
        &self,
        workspace_id: Id,
        inbox_id: Id,
        message: InboundMessage,
    ) -> Result<IngestOutcome, StoreError> {
        check(&message)?;
        let message = phones_in_one_form(message, self.phone_region());
        let request = |message| IngestRequest {
            workspace_id,
            inbox_id,
            message,
            received_at: now_millis(),
        };
        let store = self.store();
        let outcome = match store.ingest(request(message.clone())).await {
            // A concurrent delivery of the same external id won; the second try answers with it.
            Err(StoreError::Conflict(_)) => store.ingest(request(message)).await?,
            other => other?,
        };
        self.publish(&outcome.events);
        let result = if outcome.created {
            "created"
        } else {
            "duplicate"
        };
        metrics::counter!("switchboard_ingested_messages_total", "result" => result).increment(1);
        Ok(outcome)
    }
}

impl Desk {
    /// Brings phone numbers stored before `[contacts] default_region` was set into E.164, so
    /// that the contacts behind them are found by the numbers now arriving in that form. Run
    /// once at start; with no region, or nothing left to read, it changes nothing.
    pub async fn read_stored_phones_in_region(&self) -> Result<u64, StoreError> {
        let changed = self.store().phones_in_region(self.phone_region()).await?;
        if changed > 0 {
            tracing::info!(changed, "stored phone numbers read in the default region");
        }
        Ok(changed)
    }
}

/// Every phone number the sender is known by in E.164, read in the hub's region when it has no
/// country code, so that the same number finds the same contact whichever channel brought it.
/// A number that cannot be read is kept as the channel gave it: nothing a customer sent is lost.
fn phones_in_one_form(mut message: InboundMessage, region: PhoneRegion) -> InboundMessage {
    let sender = &mut message.sender;
    for identity in &mut sender.identities {
        if identity.namespace == "phone" {
            identity.identifier = phone::normalise_or_keep(&identity.identifier, region);
        }
    }
    if let Some(number) = sender.phone.as_mut() {
        *number = phone::normalise_or_keep(number, region);
    }
    message
}

fn check(message: &InboundMessage) -> Result<(), StoreError> {
    let invalid = |m: &str| Err(StoreError::Invalid(m.to_string()));
    if message.external_id.trim().is_empty() {
        return invalid("`external_id` must not be empty");
    }
    if message.external_id.len() > 512 {
        return invalid("`external_id` is longer than 512 bytes");
    }
    if message.text.len() > MAX_TEXT_BYTES {
        return invalid("`text` is longer than 64 KiB");
    }
    if message.text.trim().is_empty() && message.attachments.is_empty() {
        return invalid("a message needs `text` or attachments");
    }
    if message.text.contains('\0') {
        return invalid("`text` contains a NUL character");
    }
    Ok(())
}
