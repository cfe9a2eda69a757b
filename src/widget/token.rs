//! Visitor tokens: what the widget keeps in the browser to come back as the same visitor. Signed
//! by the hub (HS256, with a key derived from the hub's secret key, through `jsonwebtoken`), so
//! they need no table and cannot be forged: changing any field breaks the signature. Each token expires: a session
//! renews it while the visitor keeps coming back, and a verified visitor's token lasts no longer
//! than the verification (a JWT's `exp`, or the configured lifetime for an identifier hash).

use base64::Engine as _;
use jsonwebtoken::{crypto, Algorithm, DecodingKey, EncodingKey};
use serde::{Deserialize, Serialize};

use crate::domain::Id;

/// Not a JWT on the wire: `wv1.<base64url claims>.<base64url HS256 of the claims part>`, what
/// browsers hold since before this used `jsonwebtoken`, so their tokens stay valid. The prefix
/// tells a visitor token from a console token at a glance.
const PREFIX: &str = "wv1.";

/// Who a visitor is. `verified` holds the host site's identifier when the site vouched for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitorClaims {
    #[serde(rename = "w")]
    pub workspace_id: Id,
    #[serde(rename = "i")]
    pub inbox_id: Id,
    #[serde(rename = "c")]
    pub contact_id: Id,
    /// A random id per browser, the contact's identity in this inbox when not verified.
    #[serde(rename = "v")]
    pub visitor_id: String,
    #[serde(rename = "x", default, skip_serializing_if = "Option::is_none")]
    pub verified: Option<String>,
    #[serde(rename = "t")]
    pub issued_at: i64,
    /// Milliseconds since the epoch after which the token names nobody. Tokens issued before
    /// expiry existed have none and are given the configured lifetime from `issued_at`.
    #[serde(rename = "e", default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

/// How long tokens last, in milliseconds.
#[derive(Clone, Copy, Debug)]
pub struct Lifetimes {
    pub token: i64,
    /// Verification by an identifier hash, which carries no expiry of its own.
    pub verified: i64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("not a visitor token")]
    Malformed,
    #[error("visitor token signature does not match")]
    BadSignature,
    #[error("visitor session has expired")]
    Expired,
}

pub struct VisitorTokens {
    signing: EncodingKey,
    checking: DecodingKey,
    lifetimes: Lifetimes,
}

impl VisitorTokens {
    pub fn new(key: [u8; 32], lifetimes: Lifetimes) -> Self {
        VisitorTokens {
            signing: EncodingKey::from_secret(&key),
            checking: DecodingKey::from_secret(&key),
            lifetimes,
        }
    }

    /// When a token issued `now` expires: the token lifetime, and for a verified visitor no
    /// later than the verification itself (`verified_until`, a JWT's expiry, if it has one).
    pub fn expiry(&self, now: i64, verified: bool, verified_until: Option<i64>) -> i64 {
        let mut at = now + self.lifetimes.token;
        if verified {
            at = at.min(now + self.lifetimes.verified);
            if let Some(until) = verified_until {
                at = at.min(until);
            }
        }
        at
    }

    pub fn issue(&self, claims: &VisitorClaims) -> String {
        let body = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(claims).expect("claims serialize"));
        let signature = crypto::sign(body.as_bytes(), &self.signing, Algorithm::HS256)
            .expect("HS256 signing cannot fail");
        format!("{PREFIX}{body}.{signature}")
    }

    /// When a token with these claims expires; tokens from before expiry existed get the
    /// configured lifetime from when they were issued.
    pub fn expires_at(&self, claims: &VisitorClaims) -> i64 {
        claims
            .expires_at
            .unwrap_or_else(|| self.expiry(claims.issued_at, claims.verified.is_some(), None))
    }

    /// The claims of a genuine token that has not expired at `now` (milliseconds).
    pub fn verify(&self, token: &str, now: i64) -> Result<VisitorClaims, TokenError> {
        let rest = token.strip_prefix(PREFIX).ok_or(TokenError::Malformed)?;
        let (body, signature) = rest.split_once('.').ok_or(TokenError::Malformed)?;
        // Constant-time comparison inside `crypto::verify`.
        let genuine = crypto::verify(signature, body.as_bytes(), &self.checking, Algorithm::HS256)
            .map_err(|_| TokenError::Malformed)?;
        if !genuine {
            return Err(TokenError::BadSignature);
        }
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| TokenError::Malformed)?;
        let claims: VisitorClaims =
            serde_json::from_slice(&json).map_err(|_| TokenError::Malformed)?;
        if now >= self.expires_at(&claims) {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> VisitorClaims {
        VisitorClaims {
            workspace_id: 1,
            inbox_id: 2,
            contact_id: 3,
            visitor_id: "abc".into(),
            verified: None,
            issued_at: 1,
            expires_at: Some(1_000),
        }
    }

    const LIFETIMES: Lifetimes = Lifetimes {
        token: 500,
        verified: 100,
    };

    #[test]
    fn a_token_round_trips_and_any_change_breaks_it() {
        let tokens = VisitorTokens::new([7; 32], LIFETIMES);
        let token = tokens.issue(&claims());
        assert_eq!(tokens.verify(&token, 2).unwrap(), claims());

        // Another visitor's contact id spliced into a valid token's body.
        let mut other = claims();
        other.contact_id = 4;
        let forged_body = tokens.issue(&other);
        let (_, sig) = token.rsplit_once('.').unwrap();
        let (body, _) = forged_body.rsplit_once('.').unwrap();
        assert_eq!(
            tokens.verify(&format!("{body}.{sig}"), 2),
            Err(TokenError::BadSignature)
        );
        assert_eq!(
            VisitorTokens::new([8; 32], LIFETIMES).verify(&token, 2),
            Err(TokenError::BadSignature)
        );
        assert_eq!(tokens.verify("sbs_console", 2), Err(TokenError::Malformed));
    }

    #[test]
    fn tokens_are_signed_as_before_so_those_in_browsers_stay_valid() {
        // The signature is HMAC-SHA256 over the claims part, as the hand-written signer made it.
        let tokens = VisitorTokens::new([7; 32], LIFETIMES);
        let token = tokens.issue(&claims());
        let (body, signature) = token.strip_prefix(PREFIX).unwrap().split_once('.').unwrap();
        use hmac::Mac;
        let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(&[7; 32]).unwrap();
        mac.update(body.as_bytes());
        let expected =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        assert_eq!(signature, expected);
    }

    #[test]
    fn a_token_names_nobody_once_it_expires() {
        let tokens = VisitorTokens::new([7; 32], LIFETIMES);
        let token = tokens.issue(&claims());
        assert!(tokens.verify(&token, 999).is_ok());
        assert_eq!(tokens.verify(&token, 1_000), Err(TokenError::Expired));
    }

    #[test]
    fn a_verified_token_lasts_no_longer_than_its_verification() {
        let tokens = VisitorTokens::new([7; 32], LIFETIMES);
        assert_eq!(tokens.expiry(10, false, None), 510);
        assert_eq!(tokens.expiry(10, true, None), 110);
        assert_eq!(tokens.expiry(10, true, Some(50)), 50);
        assert_eq!(tokens.expiry(10, true, Some(9_000)), 110);
    }

    #[test]
    fn a_token_from_before_expiry_existed_gets_the_configured_lifetime() {
        let tokens = VisitorTokens::new([7; 32], LIFETIMES);
        let mut old = claims();
        old.expires_at = None;
        let anonymous = tokens.issue(&old);
        assert!(tokens.verify(&anonymous, 500).is_ok());
        assert_eq!(tokens.verify(&anonymous, 501), Err(TokenError::Expired));
        old.verified = Some("u1".into());
        let verified = tokens.issue(&old);
        assert_eq!(tokens.verify(&verified, 101), Err(TokenError::Expired));
    }
}
