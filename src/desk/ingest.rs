//! The one door every inbound message comes through, whatever its channel: check it, then hand
//! it to the intake, which stores it (with whatever arrived beside it) in one transaction and
//! tells the bus. Connectors and webhooks call this and nothing else.

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
        self.intake()
            .ingest(IngestRequest {
                workspace_id,
                inbox_id,
                message,
                received_at: now_millis(),
            })
            .await
    }
}

impl Desk {
    /// Ingests messages that came together (a webhook call carrying several, a page of a
    /// provider's updates) in one transaction, in their order. Each gets its own outcome: one
    /// that is refused (by the checks, or by the store) takes none of the others with it.
    pub async fn ingest_many(
        &self,
        workspace_id: Id,
        inbox_id: Id,
        messages: Vec<InboundMessage>,
    ) -> Vec<Result<IngestOutcome, StoreError>> {
        let received_at = now_millis();
        let mut outcomes: Vec<Option<Result<IngestOutcome, StoreError>>> = Vec::new();
        let mut requests = Vec::with_capacity(messages.len());
        for message in messages {
            match check(&message) {
                Ok(()) => {
                    outcomes.push(None);
                    requests.push(IngestRequest {
                        workspace_id,
                        inbox_id,
                        message: phones_in_one_form(message, self.phone_region()),
                        received_at,
                    });
                }
                Err(refused) => outcomes.push(Some(Err(refused))),
            }
        }
        let mut stored = self.store_together(requests).await.into_iter();
        outcomes
            .into_iter()
            .map(|o| {
                o.or_else(|| stored.next())
                    .unwrap_or(Err(StoreError::WriterGone))
            })
            .collect()
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
