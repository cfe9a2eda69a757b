//! Agents' replies to a Telegram chat: `sendMessage` to the chat the contact's identity names.

use switchboard_connector_core::{DeliveryError, DeliveryReceipt, Outbound, OutboundDelivery};

use crate::client::BotApi;

/// The longest text `sendMessage` takes, in characters.
pub const MAX_TEXT_CHARS: usize = 4096;

/// Delivers one Telegram inbox's replies.
pub struct TelegramOutbound {
    api: BotApi,
}

impl TelegramOutbound {
    pub fn new(api: BotApi) -> TelegramOutbound {
        TelegramOutbound { api }
    }
}

#[async_trait::async_trait]
impl Outbound for TelegramOutbound {
    #[tracing::instrument(skip_all, fields(delivery = %delivery.delivery_id, attempt = delivery.attempt))]
    async fn deliver(&self, delivery: &OutboundDelivery) -> Result<DeliveryReceipt, DeliveryError> {
        let chat_id = delivery
            .recipient
            .iter()
            .find(|i| i.namespace == crate::IDENTITY_NAMESPACE)
            .map(|i| i.identifier.as_str())
            .ok_or_else(|| {
                DeliveryError::Permanent("the contact has no Telegram chat to write to".into())
            })?;
        if delivery.text.trim().is_empty() {
            return Err(DeliveryError::Permanent(
                "a Telegram reply needs text (files are not sent yet)".into(),
            ));
        }
        // Cut into several messages, a retry after a partial send would repeat the first
        // parts; refused whole, the agent sees why and can shorten it.
        let chars = delivery.text.chars().count();
        if chars > MAX_TEXT_CHARS {
            return Err(DeliveryError::Permanent(format!(
                "Telegram takes at most {MAX_TEXT_CHARS} characters in a message; this one has {chars}"
            )));
        }
        let sent = self
            .api
            .send_message(chat_id, &delivery.text)
            .await
            .map_err(|e| e.into_delivery_error())?;
        Ok(DeliveryReceipt {
            provider_message_id: Some(format!("{}:{}", sent.chat.id, sent.message_id)),
        })
    }
}
