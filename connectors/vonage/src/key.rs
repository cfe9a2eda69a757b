//! The application's private key (the PEM Vonage hands out when an application is made) and the
//! RS256 JWT it signs for every API call.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("the private key is not PEM (-----BEGIN PRIVATE KEY-----)")]
    NotPem,
    #[error("the private key is not an RSA key: {0}")]
    Rejected(String),
    #[error("cannot sign with the private key")]
    Signing,
}

/// An application's RSA key, checked when it is read.
pub struct ApplicationKey {
    pair: RsaKeyPair,
}

impl std::fmt::Debug for ApplicationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApplicationKey(..)")
    }
}

impl ApplicationKey {
    /// Reads a PKCS#8 (`PRIVATE KEY`, as Vonage issues them) or PKCS#1 (`RSA PRIVATE KEY`) PEM.
    pub fn from_pem(pem: &str) -> Result<ApplicationKey, KeyError> {
        let (label, der) = pem_body(pem).ok_or(KeyError::NotPem)?;
        let pair = match label.as_str() {
            "PRIVATE KEY" => RsaKeyPair::from_pkcs8(&der),
            "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der),
            _ => return Err(KeyError::NotPem),
        }
        .map_err(|e| KeyError::Rejected(e.to_string()))?;
        Ok(ApplicationKey { pair })
    }

    /// An RS256 JWT over `claims`.
    pub fn sign(&self, claims: &serde_json::Value) -> Result<String, KeyError> {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signing_input = format!("{header}.{claims}");
        let mut signature = vec![0; self.pair.public().modulus_len()];
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| KeyError::Signing)?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }

    /// The public half as base64url modulus and exponent (what Vonage keeps; tests verify with
    /// it as Vonage does).
    pub fn public_components(&self) -> (String, String) {
        let public: ring::rsa::PublicKeyComponents<Vec<u8>> = self.pair.public().into();
        (
            URL_SAFE_NO_PAD.encode(public.n),
            URL_SAFE_NO_PAD.encode(public.e),
        )
    }
}

/// The label and decoded body of the first PEM block in `pem`.
fn pem_body(pem: &str) -> Option<(String, Vec<u8>)> {
    let pem = pem.trim();
    let rest = pem.strip_prefix("-----BEGIN ")?;
    let (label, rest) = rest.split_once("-----")?;
    let end = format!("-----END {label}-----");
    let (body, _) = rest.split_once(end.as_str())?;
    let body: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    Some((label.to_string(), STANDARD.decode(body).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_not_an_rsa_pem_is_refused() {
        assert_eq!(
            ApplicationKey::from_pem("hello").unwrap_err(),
            KeyError::NotPem
        );
        let garbage = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----";
        assert!(matches!(
            ApplicationKey::from_pem(garbage),
            Err(KeyError::Rejected(_))
        ));
        let cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----";
        assert_eq!(
            ApplicationKey::from_pem(cert).unwrap_err(),
            KeyError::NotPem
        );
    }
}
