//! Identity verification for logged-in customers of the host site: the site vouches for its
//! user's identifier with an HMAC-SHA256 of it (keyed with the inbox's identity secret), or with a
//! short-lived HS256 JWT (the stronger option: it expires, and it can vouch for the email too).
//! Only what the signature covers is verified: an identifier hash covers the identifier alone.
//! Comparisons are constant-time.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

/// Leeway for clocks that disagree a little.
const LEEWAY_SECS: i64 = 60;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdentityError {
    #[error("identity signature does not match")]
    BadSignature,
    #[error("identity token is malformed")]
    Malformed,
    #[error("identity token uses an unsupported algorithm (only HS256)")]
    Algorithm,
    #[error("identity token has expired")]
    Expired,
    #[error("identity token has no expiry")]
    NoExpiry,
    #[error("this inbox requires a verified identity")]
    Required,
}

/// What a verified identity says about the visitor: only what the site signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedIdentity {
    pub identifier: String,
    pub name: Option<String>,
    pub email: Option<String>,
    /// Milliseconds since the epoch after which the verification no longer holds (a JWT's
    /// `exp` with the leeway); `None` for an identifier hash, which has no expiry of its own.
    pub expires_at: Option<i64>,
}

fn mac(secret: &[u8]) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length")
}

/// The hash a host site computes: hex HMAC-SHA256(secret, identifier).
pub fn identifier_hash(secret: &[u8], identifier: &str) -> String {
    let mut m = mac(secret);
    m.update(identifier.as_bytes());
    hex::encode(m.finalize().into_bytes())
}

pub fn verify_identifier_hash(
    secret: &[u8],
    identifier: &str,
    hash_hex: &str,
) -> Result<(), IdentityError> {
    let given = hex::decode(hash_hex.trim()).map_err(|_| IdentityError::BadSignature)?;
    let mut m = mac(secret);
    m.update(identifier.as_bytes());
    m.verify_slice(&given)
        .map_err(|_| IdentityError::BadSignature)
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

#[derive(Deserialize)]
struct Claims {
    sub: Option<String>,
    exp: Option<i64>,
    name: Option<String>,
    email: Option<String>,
}

/// Verifies an HS256 JWT: signature first (constant time), then expiry and subject.
pub fn verify_jwt(
    secret: &[u8],
    jwt: &str,
    now_secs: i64,
) -> Result<VerifiedIdentity, IdentityError> {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut parts = jwt.trim().split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(IdentityError::Malformed);
    };
    let header: Header = b64
        .decode(header)
        .ok()
        .and_then(|h| serde_json::from_slice(&h).ok())
        .ok_or(IdentityError::Malformed)?;
    // Never let the token choose its own algorithm ("none", RS256 with our secret as a key…).
    if header.alg != "HS256" {
        return Err(IdentityError::Algorithm);
    }
    let signature = b64
        .decode(signature)
        .map_err(|_| IdentityError::Malformed)?;
    let mut m = mac(secret);
    m.update(
        jwt.trim()
            .rsplit_once('.')
            .map(|(signed, _)| signed)
            .unwrap_or("")
            .as_bytes(),
    );
    m.verify_slice(&signature)
        .map_err(|_| IdentityError::BadSignature)?;
    let claims: Claims = b64
        .decode(payload)
        .ok()
        .and_then(|p| serde_json::from_slice(&p).ok())
        .ok_or(IdentityError::Malformed)?;
    let exp = claims.exp.ok_or(IdentityError::NoExpiry)?;
    if exp + LEEWAY_SECS < now_secs {
        return Err(IdentityError::Expired);
    }
    let identifier = claims
        .sub
        .filter(|s| !s.trim().is_empty())
        .ok_or(IdentityError::Malformed)?;
    Ok(VerifiedIdentity {
        identifier,
        name: claims.name,
        email: claims.email,
        expires_at: Some((exp + LEEWAY_SECS).saturating_mul(1000)),
    })
}

/// Makes an HS256 JWT; what a host site's backend does (used by tests and documentation).
pub fn sign_jwt(secret: &[u8], claims: &serde_json::Value) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let signed = format!(
        "{}.{}",
        b64.encode(br#"{"alg":"HS256","typ":"JWT"}"#),
        b64.encode(claims.to_string())
    );
    let mut m = mac(secret);
    m.update(signed.as_bytes());
    format!("{signed}.{}", b64.encode(m.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_identifier_hash_verifies_only_for_its_identifier_and_secret() {
        let hash = identifier_hash(b"inbox-secret", "user-42");
        assert_eq!(
            verify_identifier_hash(b"inbox-secret", "user-42", &hash),
            Ok(())
        );
        assert!(verify_identifier_hash(b"inbox-secret", "user-43", &hash).is_err());
        assert!(verify_identifier_hash(b"other", "user-42", &hash).is_err());
        assert!(verify_identifier_hash(b"inbox-secret", "user-42", "zz").is_err());
    }

    #[test]
    fn a_jwt_is_refused_when_expired_forged_or_unsigned() {
        let good = sign_jwt(b"s", &json!({"sub": "u1", "exp": 2_000, "name": "Nia"}));
        let who = verify_jwt(b"s", &good, 1_000).unwrap();
        assert_eq!(who.identifier, "u1");
        assert_eq!(who.name.as_deref(), Some("Nia"));
        assert_eq!(who.expires_at, Some((2_000 + LEEWAY_SECS) * 1000));
        assert_eq!(verify_jwt(b"s", &good, 3_000), Err(IdentityError::Expired));
        assert_eq!(
            verify_jwt(b"wrong", &good, 1_000),
            Err(IdentityError::BadSignature)
        );
        let no_exp = sign_jwt(b"s", &json!({"sub": "u1"}));
        assert_eq!(
            verify_jwt(b"s", &no_exp, 1_000),
            Err(IdentityError::NoExpiry)
        );
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let none = format!(
            "{}.{}.",
            b64.encode(br#"{"alg":"none"}"#),
            b64.encode(br#"{"sub":"admin","exp":9999999999}"#)
        );
        assert_eq!(
            verify_jwt(b"s", &none, 1_000),
            Err(IdentityError::Algorithm)
        );
        // A valid signature over a different payload.
        let (head, _) = good.split_once('.').unwrap();
        let sig = good.rsplit_once('.').unwrap().1;
        let tampered = format!("{head}.{}.{sig}", b64.encode(br#"{"sub":"u2","exp":2000}"#));
        assert_eq!(
            verify_jwt(b"s", &tampered, 1_000),
            Err(IdentityError::BadSignature)
        );
    }
}
