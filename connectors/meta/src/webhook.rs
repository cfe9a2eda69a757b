//! The two checks every Meta webhook call passes: the subscription handshake (a GET with
//! `hub.mode=subscribe`, `hub.verify_token` and `hub.challenge`, answered with the challenge
//! only when the token is the one the inbox gave Meta) and the payload signature
//! (`X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, keyed with the app secret>`).

use hmac::{Hmac, Mac};
use subtle::ConstantTimeEq;

/// What a subscription handshake asked, from its query string.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Handshake {
    #[serde(rename = "hub.mode")]
    pub mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    pub verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    pub challenge: Option<String>,
}

/// The challenge to echo when the handshake is a subscription with the right token; `None`
/// otherwise (answer 403).
pub fn verify_handshake<'a>(handshake: &'a Handshake, expected_token: &str) -> Option<&'a str> {
    let token = handshake.verify_token.as_deref()?;
    let right =
        !expected_token.is_empty() && bool::from(token.as_bytes().ct_eq(expected_token.as_bytes()));
    (handshake.mode.as_deref() == Some("subscribe") && right)
        .then_some(())
        .and(handshake.challenge.as_deref())
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no X-Hub-Signature-256 header")]
    Missing,
    #[error("the X-Hub-Signature-256 header is not sha256=<hex>")]
    Malformed,
    #[error("the signature does not match the body")]
    Mismatch,
}

/// Checks `X-Hub-Signature-256` against the raw body, in constant time.
pub fn verify_signature(
    app_secret: &[u8],
    header: Option<&str>,
    body: &[u8],
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?.trim();
    let hex_sig = header
        .strip_prefix("sha256=")
        .ok_or(SignatureError::Malformed)?;
    let given = hex::decode(hex_sig).map_err(|_| SignatureError::Malformed)?;
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(app_secret).map_err(|_| SignatureError::Mismatch)?;
    mac.update(body);
    mac.verify_slice(&given)
        .map_err(|_| SignatureError::Mismatch)
}

/// The header value Meta would send for `body` (for tests and local stand-ins).
pub fn sign(app_secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(app_secret).expect("any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_matches_its_body_and_secret_only() {
        // The same scheme GitHub documents for its X-Hub-Signature-256, with its published
        // example: secret "It's a Secret to Everybody", body "Hello, World!".
        let secret = b"It's a Secret to Everybody";
        let header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(sign(secret, b"Hello, World!"), header);
        assert_eq!(
            verify_signature(secret, Some(header), b"Hello, World!"),
            Ok(())
        );
        assert_eq!(
            verify_signature(secret, Some(header), b"Hello, World?"),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(b"another app", Some(header), b"Hello, World!"),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(secret, None, b"Hello, World!"),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify_signature(secret, Some("sha1=abc"), b"Hello, World!"),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn the_handshake_echoes_the_challenge_for_the_right_token_only() {
        let asked = |mode: &str, token: &str| Handshake {
            mode: Some(mode.into()),
            verify_token: Some(token.into()),
            challenge: Some("1158201444".into()),
        };
        assert_eq!(
            verify_handshake(&asked("subscribe", "vt-1"), "vt-1"),
            Some("1158201444")
        );
        assert_eq!(verify_handshake(&asked("subscribe", "vt-2"), "vt-1"), None);
        assert_eq!(
            verify_handshake(&asked("unsubscribe", "vt-1"), "vt-1"),
            None
        );
        assert_eq!(verify_handshake(&asked("subscribe", ""), ""), None);
        assert_eq!(verify_handshake(&Handshake::default(), "vt-1"), None);
    }
}
