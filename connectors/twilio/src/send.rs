//! Sending through Twilio's Messages API: `POST /2010-04-01/Accounts/{sid}/Messages.json`, form
//! encoded, with HTTP basic auth (account SID and auth token). The answer's `sid` is the receipt,
//! which Twilio's status callbacks name later.
//!
//! Twilio's Messages API takes no idempotency key: a request that timed out after Twilio
//! accepted it cannot be told apart from one that never arrived, so such a retry may send the
//! text twice. Only connection failures before any answer and answers Twilio documents as
//! refusals (429, 5xx) are retried; the dispatcher's stable delivery id has nowhere to go.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use switchboard_connector_core::provider::refused_by_provider;
use switchboard_connector_core::{DeliveryError, DeliveryReceipt, Outbound, OutboundDelivery};

use crate::AddressPrefix;

/// The longest body Twilio accepts, in characters.
pub const MAX_BODY_CHARS: usize = 1600;

/// Who a message is sent from: one of the account's numbers, or a Messaging Service (`MG…`),
/// which picks the number itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sender {
    Number(String),
    MessagingService(String),
}

impl Sender {
    /// Reads an inbox's `from` setting: an E.164 number or a Messaging Service SID.
    pub fn parse(from: &str) -> Option<Sender> {
        if crate::is_sid(from, "MG") {
            Some(Sender::MessagingService(from.to_string()))
        } else if crate::is_e164(from) {
            Some(Sender::Number(from.to_string()))
        } else {
            None
        }
    }
}

/// One inbox's way out through Twilio.
pub struct TwilioOutbound {
    pub client: switchboard_egress::GuardedClient,
    /// `https://api.twilio.com`, or the stand-in configured for tests.
    pub api_url: String,
    pub account_sid: String,
    pub auth_token: SecretString,
    pub sender: Sender,
    pub prefix: AddressPrefix,
    /// Where Twilio posts what becomes of each message: the inbox's webhook URL.
    pub status_callback: Option<String>,
}

/// Twilio's answer to a send: the message resource (of which only the SID matters here).
#[derive(Deserialize)]
struct Created {
    sid: String,
}

impl TwilioOutbound {
    fn messages_url(&self) -> String {
        format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            self.api_url.trim_end_matches('/'),
            self.account_sid
        )
    }

    fn form(&self, to: &str, body: &str) -> Vec<(&'static str, String)> {
        let mut form = vec![("To", self.prefix.apply(to))];
        match &self.sender {
            Sender::Number(number) => form.push(("From", self.prefix.apply(number))),
            Sender::MessagingService(sid) => form.push(("MessagingServiceSid", sid.clone())),
        }
        form.push(("Body", body.to_string()));
        if let Some(url) = &self.status_callback {
            form.push(("StatusCallback", url.clone()));
        }
        form
    }
}

/// The customer's number among a delivery's recipient identities.
pub fn phone_recipient(delivery: &OutboundDelivery) -> Option<&str> {
    delivery
        .recipient
        .iter()
        .find(|i| i.namespace == "phone")
        .map(|i| i.identifier.as_str())
}

#[async_trait::async_trait]
impl Outbound for TwilioOutbound {
    #[tracing::instrument(skip_all, fields(delivery = %delivery.delivery_id, attempt = delivery.attempt))]
    async fn deliver(&self, delivery: &OutboundDelivery) -> Result<DeliveryReceipt, DeliveryError> {
        let to = phone_recipient(delivery).ok_or_else(|| {
            DeliveryError::Permanent("the contact has no phone number to text".into())
        })?;
        if delivery.text.trim().is_empty() {
            return Err(DeliveryError::Permanent("an SMS needs text".into()));
        }
        if delivery.text.chars().count() > MAX_BODY_CHARS {
            return Err(DeliveryError::Permanent(format!(
                "Twilio takes at most {MAX_BODY_CHARS} characters in one message"
            )));
        }
        let response = self
            .client
            .post(&self.messages_url())
            .map_err(|e| DeliveryError::Permanent(format!("Twilio's API address is refused: {e}")))?
            .basic_auth(&self.account_sid, Some(self.auth_token.expose_secret()))
            .form(&self.form(to, &delivery.text))
            .send()
            .await
            .map_err(|e| DeliveryError::Transient(format!("Twilio unreachable: {e}")))?;
        let status = response.status();
        if status.is_success() {
            let created: Created = response.json().await.map_err(|e| {
                // Twilio took it: retrying would send it again.
                DeliveryError::Permanent(format!("Twilio accepted but answered oddly: {e}"))
            })?;
            return Ok(DeliveryReceipt {
                provider_message_id: Some(created.sid),
            });
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        // Twilio's error body: {"code": 21211, "message": "...", "more_info": "...", "status": 400}.
        let body = response.text().await.unwrap_or_default();
        let words = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| {
                let code = v.get("code")?.as_i64()?;
                let message = v.get("message")?.as_str()?.to_string();
                Some(format!("error {code}: {message}"))
            })
            .unwrap_or(body);
        Err(refused_by_provider(
            "Twilio",
            status.as_u16(),
            retry_after.as_deref(),
            &words,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sender_is_a_number_or_a_messaging_service() {
        assert_eq!(
            Sender::parse("+14155550100"),
            Some(Sender::Number("+14155550100".into()))
        );
        assert!(matches!(
            Sender::parse("MG0123456789abcdef0123456789abcdef"),
            Some(Sender::MessagingService(_))
        ));
        assert_eq!(Sender::parse("4155550100"), None);
        assert_eq!(Sender::parse("MG123"), None);
    }
}
