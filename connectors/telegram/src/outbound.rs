//! Agents' replies to a Telegram chat: `sendMessage` to the chat the contact's identity names.

use switchboard_connector_core::{DeliveryError, DeliveryReceipt, Outbound, OutboundDelivery};

use crate::client::{BotApi, OutgoingFile};

/// The longest text `sendMessage` takes, in characters.
pub const MAX_TEXT_CHARS: usize = 4096;
/// The longest caption a photo or document takes, in characters.
pub const MAX_CAPTION_CHARS: usize = 1024;

/// Delivers one Telegram reply: its text with `sendMessage`, or its one file (with the text as
/// caption) with `sendPhoto` / `sendDocument`.
///
/// Every reply is one Bot API call: a reply cut into several would, when a later part failed,
/// send the earlier parts again on retry. A reply that cannot be one call is refused whole,
/// and the agent sees why.
pub struct TelegramOutbound {
    api: BotApi,
    files: Vec<OutgoingFile>,
}

impl TelegramOutbound {
    pub fn new(api: BotApi) -> TelegramOutbound {
        TelegramOutbound {
            api,
            files: Vec::new(),
        }
    }

    /// The reply's files, as the hub stored them.
    pub fn with_files(mut self, files: Vec<OutgoingFile>) -> TelegramOutbound {
        self.files = files;
        self
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
        let chars = delivery.text.chars().count();
        let sent = match self.files.as_slice() {
            [] if delivery.text.trim().is_empty() => {
                return Err(DeliveryError::Permanent(
                    "a Telegram reply needs text or a file".into(),
                ))
            }
            [] if chars > MAX_TEXT_CHARS => {
                return Err(DeliveryError::Permanent(format!(
                    "Telegram takes at most {MAX_TEXT_CHARS} characters in a message; this one has {chars}"
                )))
            }
            [] => self.api.send_message(chat_id, &delivery.text).await,
            [_] if chars > MAX_CAPTION_CHARS => {
                return Err(DeliveryError::Permanent(format!(
                    "Telegram takes at most {MAX_CAPTION_CHARS} characters with a file; this one has {chars}"
                )))
            }
            [file] => {
                self.api
                    .send_file(chat_id, file, Some(&delivery.text))
                    .await
            }
            several => {
                return Err(DeliveryError::Permanent(format!(
                    "a Telegram reply carries one file; this one has {}",
                    several.len()
                )))
            }
        }
        .map_err(|e| e.into_delivery_error())?;
        Ok(DeliveryReceipt {
            provider_message_id: Some(format!("{}:{}", sent.chat.id, sent.message_id)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_connector_core::Identity;

    fn outbound(files: usize) -> TelegramOutbound {
        let http = switchboard_egress::GuardedClient::new(
            switchboard_egress::EgressPolicy::new::<&str>(&[]).unwrap(),
            Default::default(),
        )
        .unwrap();
        let token = crate::BotToken::parse("123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11").unwrap();
        let file = OutgoingFile {
            filename: "a.pdf".into(),
            content_type: "application/pdf".into(),
            data: vec![1],
        };
        TelegramOutbound::new(BotApi::new(http, "https://api.telegram.org", token))
            .with_files(vec![file; files])
    }

    fn reply(text: &str, to: &[Identity]) -> OutboundDelivery {
        OutboundDelivery {
            delivery_id: "d1".into(),
            message_id: 1,
            conversation_id: 1,
            inbox_id: 1,
            recipient: to.to_vec(),
            recipient_name: None,
            text: text.into(),
            html: None,
            sender_name: None,
            attempt: 1,
            created_at: String::new(),
            meta: None,
        }
    }

    async fn refusal(files: usize, text: &str, to: &[Identity]) -> String {
        match outbound(files).deliver(&reply(text, to)).await {
            Err(DeliveryError::Permanent(why)) => why,
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_reply_that_cannot_be_one_call_is_refused_whole_before_any_send() {
        let chat = [Identity::new("telegram", "5")];
        assert!(refusal(0, "", &chat).await.contains("needs text or a file"));
        assert!(refusal(0, &"x".repeat(4097), &chat).await.contains("4096"));
        assert!(refusal(1, &"x".repeat(1025), &chat).await.contains("1024"));
        assert!(refusal(2, "two files", &chat).await.contains("one file"));
        let email = [Identity::email("a@example.com")];
        assert!(refusal(0, "hi", &email).await.contains("no Telegram chat"));
    }
}
