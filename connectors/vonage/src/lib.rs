//! The Vonage Messages API (v1) for SMS, spoken in connector-core types: its signed webhooks (a
//! JWT in `Authorization: Bearer`, HS256 with the account's signature secret, whose
//! `payload_hash` claim is the SHA-256 of the body), what they carry (an inbound message or a
//! status), and sending with a JWT the application signs with its private key (RS256).
#![forbid(unsafe_code)]

pub mod key;
pub mod send;
pub mod webhook;

pub use key::{ApplicationKey, KeyError};
pub use send::VonageOutbound;
pub use webhook::{Event, InboundSms, StatusReport, WebhookError};

/// Vonage writes numbers as E.164 digits without the `+`; the hub keeps the `+`, so a customer
/// who texts through Vonage and through Twilio is one phone.
pub fn to_e164(vonage_number: &str) -> String {
    let digits = vonage_number.trim().trim_start_matches('+');
    if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
        format!("+{digits}")
    } else {
        // An alphanumeric sender id: kept as Vonage wrote it.
        vonage_number.trim().to_string()
    }
}

/// A number as Vonage takes it: digits only.
pub fn from_e164(number: &str) -> String {
    number.trim().trim_start_matches('+').to_string()
}

/// Whether `value` can be a Vonage sender: an E.164 number (with or without `+`), or an
/// alphanumeric sender id of 1 to 11 letters and digits with at least one letter.
pub fn is_sender(value: &str) -> bool {
    let digits = value.strip_prefix('+').unwrap_or(value);
    let number = (8..=15).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('0');
    let alphanumeric = (1..=11).contains(&value.len())
        && value.chars().all(|c| c.is_ascii_alphanumeric())
        && value.chars().any(|c| c.is_ascii_alphabetic());
    number || alphanumeric
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_gain_and_lose_their_plus_at_the_border() {
        assert_eq!(to_e164("447700900001"), "+447700900001");
        assert_eq!(to_e164("+447700900001"), "+447700900001");
        assert_eq!(to_e164("ACME"), "ACME");
        assert_eq!(from_e164("+447700900001"), "447700900001");
        assert!(is_sender("+447700900000") && is_sender("447700900000") && is_sender("ACME"));
        assert!(!is_sender("ACME CORP LTD") && !is_sender("12") && !is_sender(""));
    }
}
