//! Twilio Programmable Messaging, spoken in connector-core types: the `X-Twilio-Signature` check,
//! what its webhooks carry (an inbound message or a status callback), and sending through the
//! Messages API. One address prefix covers both of Twilio's messaging families: bare E.164
//! numbers for SMS/MMS, `whatsapp:+…` for WhatsApp, so the same code serves either channel.
#![forbid(unsafe_code)]

pub mod send;
pub mod signature;
pub mod webhook;

pub use send::{Sender, TwilioOutbound};
pub use webhook::{Event, InboundSms, Media, StatusCallback, WebhookError};

/// How the channel's addresses are written at Twilio: `""` for SMS numbers, `"whatsapp:"` for
/// WhatsApp senders. Stripped from what comes in, put back on what goes out, so the hub only
/// ever sees E.164 numbers (one contact per phone, whichever family it wrote from).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddressPrefix(pub &'static str);

impl AddressPrefix {
    pub const SMS: AddressPrefix = AddressPrefix("");
    pub const WHATSAPP: AddressPrefix = AddressPrefix("whatsapp:");

    /// The number without this prefix, or `None` when the address is of another family (a
    /// WhatsApp webhook reaching an SMS inbox, say).
    pub fn strip<'a>(&self, address: &'a str) -> Option<&'a str> {
        let rest = address.strip_prefix(self.0)?;
        // An SMS inbox must not take `whatsapp:`/`messenger:` addresses as numbers.
        (self.0.is_empty() && !rest.contains(':') || !self.0.is_empty()).then_some(rest)
    }

    pub fn apply(&self, number: &str) -> String {
        format!("{}{number}", self.0)
    }
}

/// Whether `value` is an E.164 number: `+`, then 8 to 15 digits, the first not 0.
pub fn is_e164(value: &str) -> bool {
    let Some(digits) = value.strip_prefix('+') else {
        return false;
    };
    (8..=15).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('0')
}

/// Whether `value` has the shape of a Twilio SID with this two-letter prefix (`AC`, `MG`, `SM`…):
/// the prefix and 32 hex digits.
pub fn is_sid(value: &str, prefix: &str) -> bool {
    value.len() == 34
        && value.starts_with(prefix)
        && value[2..].chars().all(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_keep_each_family_to_its_own_addresses() {
        assert_eq!(
            AddressPrefix::SMS.strip("+15551234567"),
            Some("+15551234567")
        );
        assert_eq!(AddressPrefix::SMS.strip("whatsapp:+15551234567"), None);
        assert_eq!(
            AddressPrefix::WHATSAPP.strip("whatsapp:+15551234567"),
            Some("+15551234567")
        );
        assert_eq!(AddressPrefix::WHATSAPP.strip("+15551234567"), None);
        assert_eq!(AddressPrefix::WHATSAPP.apply("+1555"), "whatsapp:+1555");
    }

    #[test]
    fn numbers_and_sids_are_checked_for_shape() {
        assert!(is_e164("+14155550100"));
        assert!(!is_e164("14155550100"));
        assert!(!is_e164("+0415555"));
        assert!(!is_e164("+1 415 555 0100"));
        assert!(is_sid("AC0123456789abcdef0123456789abcdef", "AC"));
        assert!(!is_sid("AC0123456789abcdef0123456789abcdeg", "AC"));
        assert!(!is_sid("MG0123456789abcdef0123456789abcdef", "AC"));
    }
}
