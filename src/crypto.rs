//! Sealing provider secrets at rest (ChaCha20-Poly1305 with a random nonce per value), with the
//! hub's secret key from configuration or, on an embedded install, from a key file in the data
//! directory created on first start.

use std::path::Path;

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretSlice};

/// `bytes` random bytes, URL-safe base64 without padding.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

#[derive(Clone)]
pub struct SecretBox {
    cipher: ChaCha20Poly1305,
    /// Kept for deriving subkeys; zeroed when dropped.
    key: SecretSlice<u8>,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the secret key must be 32 bytes of base64")]
    BadKey,
    #[error("a sealed secret could not be opened: wrong key or damaged data")]
    Unseal,
    #[error("cannot read or write the key file: {0}")]
    Io(#[from] std::io::Error),
}

impl SecretBox {
    pub fn from_base64(key: &str) -> Result<Self, SecretError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(key.trim())
            .map_err(|_| SecretError::BadKey)?;
        if bytes.len() != 32 {
            return Err(SecretError::BadKey);
        }
        Ok(SecretBox {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&bytes)),
            key: bytes.into(),
        })
    }

    /// Reads the key file, creating it (readable by the owner only) when there is none.
    pub fn from_key_file(path: &Path) -> Result<Self, SecretError> {
        if !path.exists() {
            let mut key = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut key);
            let encoded = base64::engine::general_purpose::STANDARD.encode(key);
            write_private(path, encoded.as_bytes())?;
        }
        Self::from_base64(&std::fs::read_to_string(path)?)
    }

    /// A key for one purpose (signing visitor tokens…), derived from the hub key so that no
    /// second secret needs managing, and distinct per purpose.
    pub fn subkey(&self, purpose: &str) -> [u8; 32] {
        use hmac::Mac;
        let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(self.key.expose_secret())
            .expect("HMAC takes keys of any length");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    pub fn seal(&self, plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let mut out = nonce.to_vec();
        out.extend(
            self.cipher
                .encrypt(Nonce::from_slice(&nonce), plaintext)
                .expect("ChaCha20-Poly1305 encryption of an in-memory buffer cannot fail"),
        );
        out
    }

    pub fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, SecretError> {
        if sealed.len() < 12 {
            return Err(SecretError::Unseal);
        }
        let (nonce, ciphertext) = sealed.split_at(12);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| SecretError::Unseal)
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_with_the_same_key_only() {
        let dir = tempfile::tempdir().unwrap();
        let a = SecretBox::from_key_file(&dir.path().join("key")).unwrap();
        let again = SecretBox::from_key_file(&dir.path().join("key")).unwrap();
        let other = SecretBox::from_key_file(&dir.path().join("other")).unwrap();
        let sealed = a.seal(b"twilio-auth-token");
        assert!(!sealed.windows(6).any(|w| w == b"twilio"));
        assert_eq!(again.open(&sealed).unwrap(), b"twilio-auth-token");
        assert!(other.open(&sealed).is_err());
        assert!(SecretBox::from_base64("c2hvcnQ=").is_err());
    }
}
