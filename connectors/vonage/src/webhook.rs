//! Vonage's signed webhooks and what they carry. Inbound messages and message statuses share the
//! inbox's one URL; a status has `status`, a message has `message_type`.

use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use switchboard_connector_core::provider::ProviderStatus;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WebhookError {
    /// No `Authorization: Bearer` JWT, a wrong signature, or a body that is not the one signed.
    #[error("the webhook's signature does not hold")]
    Unsigned,
    #[error("the webhook body is not a Vonage message or status: {0}")]
    Invalid(String),
}

/// The claims of a webhook's JWT that matter here.
#[derive(Debug, Deserialize)]
pub struct Claims {
    pub payload_hash: String,
    #[serde(default)]
    pub api_key: Option<String>,
    #[serde(default)]
    pub application_id: Option<String>,
}

/// Checks the JWT in `authorization` (the whole header value) against the signature secret and
/// the raw body. Both checks are made: a valid token lifted onto another body is refused.
///
/// The token's age is not held against it: Vonage signs each attempt, and a replayed body can
/// only repeat a message ingest already keeps once by its `message_uuid`.
pub fn verify(
    signature_secret: &[u8],
    authorization: Option<&str>,
    body: &[u8],
) -> Result<Claims, WebhookError> {
    let token = authorization
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(WebhookError::Unsigned)?;
    if signature_secret.is_empty() {
        return Err(WebhookError::Unsigned);
    }
    let mut validation = Validation::new(Algorithm::HS256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    let claims = decode::<Claims>(
        token,
        &DecodingKey::from_secret(signature_secret),
        &validation,
    )
    .map_err(|_| WebhookError::Unsigned)?
    .claims;
    let expected = hex::encode(Sha256::digest(body));
    let given = claims.payload_hash.to_ascii_lowercase();
    if !bool::from(expected.as_bytes().ct_eq(given.as_bytes())) {
        return Err(WebhookError::Unsigned);
    }
    Ok(claims)
}

/// A message a customer sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboundSms {
    pub message_uuid: String,
    /// The customer's number in E.164 (with `+`).
    pub from: String,
    pub to: String,
    pub text: String,
    /// Media a non-text message links to (MMS image, audio…), with its message type.
    pub media: Option<(String, String)>,
    pub channel: String,
}

/// What became of a message we sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusReport {
    pub message_uuid: String,
    pub status: ProviderStatus,
    /// Vonage's words when it failed (`error.title` and `error.detail`).
    pub error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Inbound(InboundSms),
    Status(StatusReport),
    /// A status the hub does not record (none today, but Vonage adds them).
    Ignored,
}

#[derive(Deserialize)]
struct Body {
    message_uuid: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    channel: String,
    status: Option<String>,
    message_type: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    error: Option<serde_json::Value>,
    #[serde(flatten)]
    rest: serde_json::Map<String, serde_json::Value>,
}

/// Reads a verified webhook body.
pub fn parse(body: &[u8]) -> Result<Event, WebhookError> {
    let body: Body =
        serde_json::from_slice(body).map_err(|e| WebhookError::Invalid(e.to_string()))?;
    if body.message_uuid.trim().is_empty() {
        return Err(WebhookError::Invalid("`message_uuid` is empty".into()));
    }
    if let Some(status) = body.status {
        let status = match status.as_str() {
            "submitted" => ProviderStatus::Sent,
            "delivered" => ProviderStatus::Delivered,
            "read" => ProviderStatus::Read,
            "rejected" | "undeliverable" => ProviderStatus::Failed,
            _ => return Ok(Event::Ignored),
        };
        let error = body.error.map(|e| {
            let part = |k: &str| match e.get(k) {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(other) if !other.is_null() => other.to_string(),
                _ => String::new(),
            };
            let words = format!("{} {}", part("title"), part("detail"));
            words.trim().chars().take(300).collect()
        });
        return Ok(Event::Status(StatusReport {
            message_uuid: body.message_uuid,
            status,
            error: error.filter(|e: &String| !e.is_empty()),
        }));
    }
    let message_type = body
        .message_type
        .ok_or_else(|| WebhookError::Invalid("neither `status` nor `message_type`".into()))?;
    if body.from.trim().is_empty() {
        return Err(WebhookError::Invalid("`from` is empty".into()));
    }
    let media = match message_type.as_str() {
        "text" => None,
        other => {
            let url = body
                .rest
                .get(other)
                .and_then(|m| m.get("url"))
                .and_then(|u| u.as_str())
                .ok_or_else(|| WebhookError::Invalid(format!("a {other} message without a url")))?;
            Some((other.to_string(), url.to_string()))
        }
    };
    Ok(Event::Inbound(InboundSms {
        message_uuid: body.message_uuid,
        from: crate::to_e164(&body.from),
        to: crate::to_e164(&body.to),
        text: body.text.unwrap_or_default(),
        media,
        channel: body.channel,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{encode, EncodingKey, Header};

    fn token(secret: &[u8], body: &[u8]) -> String {
        let claims = serde_json::json!({
            "iat": 1_700_000_000, "jti": "3f0b", "iss": "Vonage",
            "payload_hash": hex::encode(Sha256::digest(body)),
            "api_key": "abcd1234", "application_id": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
        });
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret),
        )
        .unwrap()
    }

    #[test]
    fn the_signature_and_the_payload_hash_must_both_hold() {
        let body = br#"{"message_uuid":"u1","status":"delivered"}"#;
        let jwt = format!(
            "Bearer {}",
            token(b"secret-32-bytes-long-enough!!!!!", body)
        );
        assert!(verify(b"secret-32-bytes-long-enough!!!!!", Some(&jwt), body).is_ok());
        assert_eq!(
            verify(b"another-secret-entirely-!!!!!!!!", Some(&jwt), body).unwrap_err(),
            WebhookError::Unsigned
        );
        let tampered = br#"{"message_uuid":"u1","status":"read"}"#;
        assert!(verify(b"secret-32-bytes-long-enough!!!!!", Some(&jwt), tampered).is_err());
        assert!(verify(b"secret-32-bytes-long-enough!!!!!", None, body).is_err());
    }

    #[test]
    fn statuses_and_messages_are_told_apart() {
        let inbound = br#"{"channel":"sms","message_uuid":"aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
            "to":"447700900000","from":"447700900001","timestamp":"2025-02-03T12:14:25Z",
            "text":"Hello From Vonage!","sms":{"num_messages":"1"},"message_type":"text"}"#;
        let Event::Inbound(sms) = parse(inbound).unwrap() else {
            panic!("a message")
        };
        assert_eq!(
            (sms.from.as_str(), sms.text.as_str()),
            ("+447700900001", "Hello From Vonage!")
        );
        let failed = br#"{"message_uuid":"u1","status":"rejected","channel":"sms",
            "error":{"type":"https://developer.vonage.com/api-errors/messages#1250","title":1250,"detail":"Invalid recipient"}}"#;
        assert_eq!(
            parse(failed).unwrap(),
            Event::Status(StatusReport {
                message_uuid: "u1".into(),
                status: ProviderStatus::Failed,
                error: Some("1250 Invalid recipient".into()),
            })
        );
        assert!(parse(b"{}").is_err());
        assert!(parse(br#"{"message_uuid":"u1"}"#).is_err());
    }
}
