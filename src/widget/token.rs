//! Visitor tokens: what the widget keeps in the browser to come back as the same visitor. Signed
//! by the hub (HMAC-SHA256 with a key derived from the hub's secret key), so they need no table
//! and cannot be forged: changing any field breaks the signature.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::domain::Id;

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
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("not a visitor token")]
    Malformed,
    #[error("visitor token signature does not match")]
    BadSignature,
}

pub struct VisitorTokens {
    key: [u8; 32],
}

impl VisitorTokens {
    pub fn new(key: [u8; 32]) -> Self {
        VisitorTokens { key }
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes keys of any length")
    }

    pub fn issue(&self, claims: &VisitorClaims) -> String {
        let body = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(claims).expect("claims serialize"));
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        let signature =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{PREFIX}{body}.{signature}")
    }

    pub fn verify(&self, token: &str) -> Result<VisitorClaims, TokenError> {
        let rest = token.strip_prefix(PREFIX).ok_or(TokenError::Malformed)?;
        let (body, signature) = rest.split_once('.').ok_or(TokenError::Malformed)?;
        let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| TokenError::Malformed)?;
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        // Constant-time comparison inside `verify_slice`.
        mac.verify_slice(&signature)
            .map_err(|_| TokenError::BadSignature)?;
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| TokenError::Malformed)?;
        serde_json::from_slice(&json).map_err(|_| TokenError::Malformed)
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
        }
    }

    #[test]
    fn a_token_round_trips_and_any_change_breaks_it() {
        let tokens = VisitorTokens::new([7; 32]);
        let token = tokens.issue(&claims());
        assert_eq!(tokens.verify(&token).unwrap(), claims());

        // Another visitor's contact id spliced into a valid token's body.
        let mut other = claims();
        other.contact_id = 4;
        let forged_body = tokens.issue(&other);
        let (_, sig) = token.rsplit_once('.').unwrap();
        let (body, _) = forged_body.rsplit_once('.').unwrap();
        assert_eq!(
            tokens.verify(&format!("{body}.{sig}")),
            Err(TokenError::BadSignature)
        );
        assert_eq!(
            VisitorTokens::new([8; 32]).verify(&token),
            Err(TokenError::BadSignature)
        );
        assert_eq!(tokens.verify("sbs_console"), Err(TokenError::Malformed));
    }
}
