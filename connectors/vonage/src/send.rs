//! Sending an SMS through `POST {api}/v1/messages`, authorised by a short-lived JWT the
//! application signs with its private key. The answer's `message_uuid` is the receipt, which
//! status webhooks name. The delivery id goes as `client_ref`, so Vonage's records tie back to
//! the hub's, but Vonage does not deduplicate on it: a retry after a lost answer can send twice.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use switchboard_connector_core::provider::refused_by_provider;
use switchboard_connector_core::{DeliveryError, DeliveryReceipt, Outbound, OutboundDelivery};

use crate::ApplicationKey;

/// How long the API JWT is good for: one request.
const TOKEN_SECONDS: u64 = 300;
/// The longest SMS text the Messages API takes, in characters.
pub const MAX_TEXT_CHARS: usize = 1000;

pub struct VonageOutbound {
    pub client: switchboard_egress::GuardedClient,
    /// `https://api.nexmo.com`, or the stand-in configured for tests.
    pub api_url: String,
    pub application_id: String,
    pub key: ApplicationKey,
    /// The inbox's sender: a number or an alphanumeric sender id.
    pub from: String,
}

#[derive(Deserialize)]
struct Accepted {
    message_uuid: String,
}

impl VonageOutbound {
    fn token(&self) -> Result<String, DeliveryError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let jti: [u8; 16] = rand::random();
        let claims = serde_json::json!({
            "application_id": self.application_id,
            "iat": now,
            "exp": now + TOKEN_SECONDS,
            "jti": hex::encode(jti),
        });
        self.key
            .sign(&claims)
            .map_err(|e| DeliveryError::Permanent(e.to_string()))
    }
}

#[async_trait::async_trait]
impl Outbound for VonageOutbound {
    #[tracing::instrument(skip_all, fields(delivery = %delivery.delivery_id, attempt = delivery.attempt))]
    async fn deliver(&self, delivery: &OutboundDelivery) -> Result<DeliveryReceipt, DeliveryError> {
        let to = delivery
            .recipient
            .iter()
            .find(|i| i.namespace == "phone")
            .map(|i| crate::from_e164(&i.identifier))
            .ok_or_else(|| {
                DeliveryError::Permanent("the contact has no phone number to text".into())
            })?;
        if delivery.text.trim().is_empty() {
            return Err(DeliveryError::Permanent("an SMS needs text".into()));
        }
        if delivery.text.chars().count() > MAX_TEXT_CHARS {
            return Err(DeliveryError::Permanent(format!(
                "Vonage takes at most {MAX_TEXT_CHARS} characters in one SMS"
            )));
        }
        let body = serde_json::json!({
            "message_type": "text",
            "channel": "sms",
            "to": to,
            "from": crate::from_e164(&self.from),
            "text": delivery.text,
            "client_ref": delivery.delivery_id,
        });
        let url = format!("{}/v1/messages", self.api_url.trim_end_matches('/'));
        let response = self
            .client
            .post(&url)
            .map_err(|e| DeliveryError::Permanent(format!("Vonage's API address is refused: {e}")))?
            .bearer_auth(self.token()?)
            .json(&body)
            .send()
            .await
            .map_err(|e| DeliveryError::Transient(format!("Vonage unreachable: {e}")))?;
        let status = response.status();
        if status.is_success() {
            let accepted: Accepted = response.json().await.map_err(|e| {
                DeliveryError::Permanent(format!("Vonage accepted but answered oddly: {e}"))
            })?;
            return Ok(DeliveryReceipt {
                provider_message_id: Some(accepted.message_uuid),
            });
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        // Vonage answers RFC 7807 problems: {"type", "title", "detail", "instance"}.
        let text = response.text().await.unwrap_or_default();
        let words = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| {
                let title = v.get("title")?.as_str()?.to_string();
                let detail = v.get("detail").and_then(|d| d.as_str()).unwrap_or_default();
                Some(format!("{title}: {detail}"))
            })
            .unwrap_or(text);
        Err(refused_by_provider(
            "Vonage",
            status.as_u16(),
            retry_after.as_deref(),
            &words,
        ))
    }
}
