//! Identity verification for logged-in customers of the host site: the site vouches for its
//! user's identifier with an HMAC-SHA256 of it (keyed with the inbox's identity secret), or with a
//! short-lived HS256 JWT (the stronger option: it expires, and it can vouch for the email too),
//! checked by `jsonwebtoken`. Only what the signature covers is verified: an identifier hash
//! covers the identifier alone. Comparisons are constant-time.

use hmac::{Hmac, Mac};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
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
struct Claims {
    sub: Option<String>,
    exp: Option<i64>,
    name: Option<String>,
    email: Option<String>,
}

/// Verifies an HS256 JWT against the clock: signature and algorithm first, then expiry (with
/// the leeway) and subject.
pub fn verify_jwt(secret: &[u8], jwt: &str) -> Result<VerifiedIdentity, IdentityError> {
    // Only HS256: never let the token choose its own algorithm ("none", RS256 with our secret
    // as a key…). A site's token names no audience of ours, so one with `aud` is not refused.
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = LEEWAY_SECS as u64;
    validation.validate_aud = false;
    let claims =
        jsonwebtoken::decode::<Claims>(jwt.trim(), &DecodingKey::from_secret(secret), &validation)
            .map_err(|e| match e.kind() {
                ErrorKind::InvalidSignature => IdentityError::BadSignature,
                ErrorKind::InvalidAlgorithm => IdentityError::Algorithm,
                ErrorKind::ExpiredSignature => IdentityError::Expired,
                ErrorKind::MissingRequiredClaim(_) => IdentityError::NoExpiry,
                _ => IdentityError::Malformed,
            })?
            .claims;
    let exp = claims.exp.ok_or(IdentityError::NoExpiry)?;
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
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .expect("HS256 signing of JSON claims cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
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

    fn now() -> i64 {
        crate::domain::now_millis() / 1000
    }

    #[test]
    fn a_jwt_is_refused_when_expired_forged_or_unsigned() {
        let exp = now() + 1_000;
        let good = sign_jwt(b"s", &json!({"sub": "u1", "exp": exp, "name": "Nia"}));
        let who = verify_jwt(b"s", &good).unwrap();
        assert_eq!(who.identifier, "u1");
        assert_eq!(who.name.as_deref(), Some("Nia"));
        assert_eq!(who.expires_at, Some((exp + LEEWAY_SECS) * 1000));
        let expired = sign_jwt(b"s", &json!({"sub": "u1", "exp": now() - LEEWAY_SECS - 5}));
        assert_eq!(verify_jwt(b"s", &expired), Err(IdentityError::Expired));
        let in_leeway = sign_jwt(b"s", &json!({"sub": "u1", "exp": now() - 30}));
        assert!(verify_jwt(b"s", &in_leeway).is_ok());
        assert_eq!(
            verify_jwt(b"wrong", &good),
            Err(IdentityError::BadSignature)
        );
        let no_exp = sign_jwt(b"s", &json!({"sub": "u1"}));
        assert_eq!(verify_jwt(b"s", &no_exp), Err(IdentityError::NoExpiry));
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let other_alg = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &json!({"sub": "admin", "exp": exp}),
            &EncodingKey::from_secret(b"s"),
        )
        .unwrap();
        assert_eq!(verify_jwt(b"s", &other_alg), Err(IdentityError::Algorithm));
        // "none" is not even an algorithm to jsonwebtoken: the header does not parse.
        let none = format!(
            "{}.{}.",
            b64.encode(br#"{"alg":"none"}"#),
            b64.encode(br#"{"sub":"admin","exp":9999999999}"#)
        );
        assert_eq!(verify_jwt(b"s", &none), Err(IdentityError::Malformed));
        // A valid signature over a different payload.
        let (head, _) = good.split_once('.').unwrap();
        let sig = good.rsplit_once('.').unwrap().1;
        let tampered = format!(
            "{head}.{}.{sig}",
            b64.encode(format!(r#"{{"sub":"u2","exp":{exp}}}"#))
        );
        assert_eq!(
            verify_jwt(b"s", &tampered),
            Err(IdentityError::BadSignature)
        );
    }
}
