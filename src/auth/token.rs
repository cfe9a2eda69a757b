//! Bearer tokens: 32 random bytes shown once to their owner; only their SHA-256 is stored, so a
//! leaked database holds no usable token. The prefix tells a session from an API token at a
//! glance (and lets secret scanners find leaked ones).

use sha2::{Digest, Sha256};

pub const TOKEN_PREFIX_SESSION: &str = "sbs_";
pub const TOKEN_PREFIX_API: &str = "sba_";

// Lives below the store, which needs it too (delivery ids).
pub use crate::crypto::random_token;

/// A fresh token and the hash to store for it.
pub fn new_token(prefix: &str) -> (String, Vec<u8>) {
    let token = format!("{prefix}{}", random_token(32));
    let hash = hash_token(&token);
    (token, hash)
}

pub fn hash_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_prefixed_and_hashed() {
        let (a, hash_a) = new_token(TOKEN_PREFIX_SESSION);
        let (b, _) = new_token(TOKEN_PREFIX_SESSION);
        assert_ne!(a, b);
        assert!(a.starts_with("sbs_") && a.len() > 40);
        assert_eq!(hash_token(&a), hash_a);
        assert_ne!(hash_token(&b), hash_a);
    }
}
