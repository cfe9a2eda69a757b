//! The API channel's sending half: every outgoing reply is POSTed as JSON to the inbox's callback
//! URL, signed with HMAC-SHA256 so the receiver can tell it came from this hub and was not replayed.
//!
//! Signature header, in the style receivers already know from Stripe and Slack:
//! `X-Switchboard-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
//! `X-Switchboard-Delivery` carries a delivery id that stays the same across retries, so a receiver
//! that saw a delivery once can drop the retry.
#![forbid(unsafe_code)]

use secrecy::{ExposeSecret, SecretSlice};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use switchboard_connector_core::provider::refused_by_provider;
use switchboard_connector_core::{DeliveryError, DeliveryReceipt, Outbound, OutboundDelivery};

pub const SIGNATURE_HEADER: &str = "x-switchboard-signature";
pub const DELIVERY_HEADER: &str = "x-switchboard-delivery";

type HmacSha256 = Hmac<Sha256>;

/// Computes the `X-Switchboard-Signature` value for a body sent at `timestamp`.
pub fn sign(secret: &[u8], timestamp: u64, body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("signature header is malformed")]
    Malformed,
    #[error("signature is older than the allowed tolerance")]
    Expired,
    #[error("signature does not match")]
    Mismatch,
}

/// Checks a signature header as a receiver would: right format, fresh enough, and matching in
/// constant time. Shipped here so that integrators (and our tests) verify exactly what we sign.
pub fn verify(
    secret: &[u8],
    header: &str,
    body: &[u8],
    now: u64,
    tolerance: Duration,
) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut digest = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => timestamp = v.parse::<u64>().ok(),
            Some(("v1", v)) => digest = hex::decode(v).ok(),
            _ => {}
        }
    }
    let (timestamp, digest) = timestamp.zip(digest).ok_or(SignatureError::Malformed)?;
    if now.abs_diff(timestamp) > tolerance.as_secs() {
        return Err(SignatureError::Expired);
    }
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&digest)
        .map_err(|_| SignatureError::Mismatch)
}

/// Delivers replies of one API inbox to its callback URL.
pub struct CallbackOutbound {
    client: switchboard_egress::GuardedClient,
    url: String,
    /// The inbox's signing secret, zeroed when dropped.
    secret: SecretSlice<u8>,
}

impl CallbackOutbound {
    pub fn new(client: switchboard_egress::GuardedClient, url: String, secret: Vec<u8>) -> Self {
        CallbackOutbound {
            client,
            url,
            secret: secret.into(),
        }
    }
}

#[derive(serde::Serialize)]
struct CallbackBody<'a> {
    event: &'static str,
    delivery_id: &'a str,
    message_id: i64,
    conversation_id: i64,
    inbox_id: i64,
    recipient: &'a [switchboard_connector_core::Identity],
    text: &'a str,
    html: Option<&'a str>,
    sender_name: Option<&'a str>,
    created_at: &'a str,
}

#[async_trait::async_trait]
impl Outbound for CallbackOutbound {
    #[tracing::instrument(skip_all, fields(delivery = %delivery.delivery_id, attempt = delivery.attempt))]
    async fn deliver(&self, delivery: &OutboundDelivery) -> Result<DeliveryReceipt, DeliveryError> {
        let body = serde_json::to_vec(&CallbackBody {
            event: "message.outgoing",
            delivery_id: &delivery.delivery_id,
            message_id: delivery.message_id,
            conversation_id: delivery.conversation_id,
            inbox_id: delivery.inbox_id,
            recipient: &delivery.recipient,
            text: &delivery.text,
            html: delivery.html.as_deref(),
            sender_name: delivery.sender_name.as_deref(),
            created_at: &delivery.created_at,
        })
        .map_err(|e| DeliveryError::Permanent(format!("cannot encode callback: {e}")))?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        // A refused destination is the inbox's settings being wrong, not the receiver being
        // down: retrying would not help.
        let response = self
            .client
            .post(&self.url)
            .map_err(|e| DeliveryError::Permanent(format!("callback refused: {e}")))?
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(
                SIGNATURE_HEADER,
                sign(self.secret.expose_secret(), now, &body),
            )
            .header(DELIVERY_HEADER, &delivery.delivery_id)
            .body(body)
            .send()
            .await
            .map_err(|e| match switchboard_egress::refusal(&e) {
                Some(refused) if !matches!(refused, switchboard_egress::Refused::Unresolved(_)) => {
                    DeliveryError::Permanent(format!("callback refused: {refused}"))
                }
                _ => DeliveryError::Transient(format!("callback unreachable: {e}")),
            })?;
        let status = response.status();
        if status.is_redirection() {
            return Err(DeliveryError::Permanent(format!(
                "callback answered {status}; redirects are not followed"
            )));
        }
        if status.is_success() {
            // A receiver may answer with its own id for the message; anything else is fine too.
            let provider_message_id =
                response
                    .json::<serde_json::Value>()
                    .await
                    .ok()
                    .and_then(|v| match v.get("id")? {
                        serde_json::Value::String(s) => Some(s.clone()),
                        serde_json::Value::Number(n) => Some(n.to_string()),
                        _ => None,
                    });
            return Ok(DeliveryReceipt {
                provider_message_id,
            });
        }
        // A receiver that is overloaded may say when to come back; its body is not ours to keep.
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Err(refused_by_provider(
            "callback",
            status.as_u16(),
            retry_after.as_deref(),
            "",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_with_the_same_secret_only() {
        let header = sign(b"s3cret", 1_700_000_000, b"{\"a\":1}");
        let tolerance = Duration::from_secs(300);
        assert_eq!(
            verify(b"s3cret", &header, b"{\"a\":1}", 1_700_000_010, tolerance),
            Ok(())
        );
        assert_eq!(
            verify(b"other", &header, b"{\"a\":1}", 1_700_000_010, tolerance),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"s3cret", &header, b"{\"a\":2}", 1_700_000_010, tolerance),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn an_old_or_garbled_signature_is_refused() {
        let header = sign(b"k", 1_000, b"x");
        assert_eq!(
            verify(b"k", &header, b"x", 2_000, Duration::from_secs(300)),
            Err(SignatureError::Expired)
        );
        assert_eq!(
            verify(b"k", "v1=zz", b"x", 1_000, Duration::from_secs(300)),
            Err(SignatureError::Malformed)
        );
    }
}
