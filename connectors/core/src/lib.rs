//! The language every channel connector speaks: channel kinds, what an inbound message carries
//! into the hub, what the dispatcher hands a connector to deliver, and how a delivery can fail.
//!
//! Nothing here does I/O. Connectors depend on this crate and never on the hub's store or HTTP
//! layer, so a connector can be tested on its own against a local stand-in for its provider.
#![forbid(unsafe_code)]

pub mod backoff;
pub mod phone;
pub mod provider;

use std::fmt;

use serde::{Deserialize, Serialize};

/// The family a channel belongs to; an inbox is one instance of a kind.
///
/// The named kinds are the ones the hub ships; `Registered` carries a kind that a channel
/// defined elsewhere (a plugin crate, a test) announced with [`ChannelKind::register`], so the
/// store can read its inboxes back and the registry can find its channel. Every kind is written
/// and read as its name, the same text in JSON and in the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChannelKind {
    Email,
    WebChat,
    Sms,
    Whatsapp,
    Messenger,
    Instagram,
    Telegram,
    Api,
    Registered(&'static str),
}

/// Kinds announced at start-up by channels outside the named list. Only ever grows, and only by
/// a handful of names (one per channel), so a leak-free `&'static str` per kind is cheap.
static REGISTERED: std::sync::RwLock<Vec<&'static str>> = std::sync::RwLock::new(Vec::new());

impl ChannelKind {
    pub const ALL: [ChannelKind; 8] = [
        ChannelKind::Email,
        ChannelKind::WebChat,
        ChannelKind::Sms,
        ChannelKind::Whatsapp,
        ChannelKind::Messenger,
        ChannelKind::Instagram,
        ChannelKind::Telegram,
        ChannelKind::Api,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Email => "email",
            ChannelKind::WebChat => "web_chat",
            ChannelKind::Sms => "sms",
            ChannelKind::Whatsapp => "whatsapp",
            ChannelKind::Messenger => "messenger",
            ChannelKind::Instagram => "instagram",
            ChannelKind::Telegram => "telegram",
            ChannelKind::Api => "api",
            ChannelKind::Registered(name) => name,
        }
    }

    /// A named kind, or one a channel has registered; `None` for a name nobody knows.
    pub fn parse(s: &str) -> Option<ChannelKind> {
        ChannelKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .or_else(|| {
                let registered = REGISTERED.read().unwrap_or_else(|e| e.into_inner());
                registered
                    .iter()
                    .find(|name| **name == s)
                    .map(|name| ChannelKind::Registered(name))
            })
    }

    /// Announces a kind so that `parse` knows it from now on. A named kind's own name answers
    /// that kind (registering "email" is not a second email).
    pub fn register(name: &'static str) -> ChannelKind {
        if let Some(kind) = ChannelKind::ALL.into_iter().find(|k| k.as_str() == name) {
            return kind;
        }
        let mut registered = REGISTERED.write().unwrap_or_else(|e| e.into_inner());
        if !registered.contains(&name) {
            registered.push(name);
        }
        ChannelKind::Registered(name)
    }
}

impl fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ChannelKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ChannelKind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        ChannelKind::parse(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown channel kind {name:?}")))
    }
}

/// How a contact is known on a channel. The same person may have several: an email address, a
/// phone number, a widget visitor id. `namespace` is usually a channel kind ("email", "sms"), or a
/// per-inbox namespace for identifiers that only mean something inside one integration.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Identity {
    pub namespace: String,
    pub identifier: String,
}

impl Identity {
    pub fn new(namespace: impl Into<String>, identifier: impl Into<String>) -> Self {
        Identity {
            namespace: namespace.into(),
            identifier: identifier.into(),
        }
    }

    pub fn email(address: &str) -> Self {
        Identity::new("email", address.trim().to_lowercase())
    }

    /// A phone number as a provider sent it (`+49 151…`, `whatsapp:+49151…`, `tel:…`), in
    /// E.164 so that SMS and WhatsApp from one number find one contact. A number without a
    /// country code is kept as its digits here; the hub's ingest reads it in its default region
    /// ([`phone::normalise_or_keep`]). What cannot be read is kept as given, never refused.
    pub fn phone(number: &str) -> Self {
        Identity::new(
            "phone",
            phone::normalise_or_keep(number, phone::PhoneRegion::NONE),
        )
    }

    /// A phone number a provider sends in international form without its plus (WhatsApp
    /// Cloud's `from` and `wa_id`, Vonage's `msisdn`: `4915112345678`).
    pub fn international_phone(digits: &str) -> Self {
        let digits = digits.trim();
        if digits.starts_with('+') {
            Identity::phone(digits)
        } else {
            Identity::phone(&format!("+{digits}"))
        }
    }
}

/// Who sent an inbound message, as the channel tells it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct InboundSender {
    /// Identities in order of strength: the first is the channel's own key for this person.
    pub identities: Vec<Identity>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// A file that came with a message: either fetched by reference or carried inline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InboundAttachment {
    pub filename: String,
    pub content_type: String,
    pub source: AttachmentSource,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttachmentSource {
    Url(String),
    Inline(Vec<u8>),
}

/// One message a connector hands to ingest. `external_id` is the provider's id for it
/// (Message-ID, SID, wamid…): ingest stores each (inbox, external id) once, whatever the retries.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct InboundMessage {
    pub external_id: String,
    /// Tells apart different messages that came under the same external id (mail clients reuse
    /// Message-IDs): a message whose key differs from the stored one's is stored as a message of
    /// its own, one whose key matches is the same message delivered again. `None` where the
    /// external id alone names a message.
    #[serde(default)]
    pub content_key: Option<String>,
    pub sender: InboundSender,
    pub text: String,
    pub html: Option<String>,
    pub subject: Option<String>,
    pub attachments: Vec<InboundAttachment>,
    /// A key the channel uses to keep a thread together (an email thread root, a chat session).
    /// Messages with the same key join the same conversation while it is not resolved.
    pub thread_key: Option<String>,
    /// External ids of earlier messages this one answers, nearest first (email's In-Reply-To and
    /// References). A message that answers a stored one joins its conversation, even a resolved
    /// one, which it reopens.
    #[serde(default)]
    pub references: Vec<String>,
    /// A conversation the channel has proved this message belongs to (a signed reply address or
    /// marker); ingest checks it is in the same inbox before trusting it.
    #[serde(default)]
    pub conversation_hint: Option<i64>,
    /// Sent by a machine (auto-reply, out-of-office): stored in its conversation, but it neither
    /// reopens it nor makes it wait for an agent, and nothing ever answers it automatically.
    #[serde(default)]
    pub automatic: bool,
    /// Channel details kept with the message (email: from, to, cc, flags); shown, never parsed
    /// by the hub.
    #[serde(default)]
    pub meta: Option<serde_json::Value>,
}

/// Everything a connector needs to deliver one outgoing message to the customer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutboundDelivery {
    /// Stable across retries: providers that deduplicate (or email's Message-ID) key on it.
    pub delivery_id: String,
    pub message_id: i64,
    pub conversation_id: i64,
    pub inbox_id: i64,
    pub recipient: Vec<Identity>,
    pub recipient_name: Option<String>,
    pub text: String,
    pub html: Option<String>,
    pub sender_name: Option<String>,
    pub attempt: u32,
    pub created_at: String,
    /// Channel details the author gave (email: cc, bcc).
    #[serde(default)]
    pub meta: Option<serde_json::Value>,
}

/// What a provider said when it accepted a delivery.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DeliveryReceipt {
    pub provider_message_id: Option<String>,
}

/// Why a delivery did not go through. Transient failures are retried with backoff; permanent
/// ones fail the message at once, because retrying cannot help.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("temporary delivery failure: {0}")]
    Transient(String),
    #[error("permanent delivery failure: {0}")]
    Permanent(String),
    /// The provider is overloaded and said how long to wait (`Retry-After`): retried, but not
    /// before `wait` has passed.
    #[error("throttled by the provider (retry after {}s): {reason}", wait.as_secs())]
    Throttled {
        wait: std::time::Duration,
        reason: String,
    },
}

impl DeliveryError {
    /// The least wait before the next attempt that the provider asked for, if it asked.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            DeliveryError::Throttled { wait, .. } => Some(*wait),
            _ => None,
        }
    }

    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            DeliveryError::Transient(_) | DeliveryError::Throttled { .. }
        )
    }
}

/// The sending half of a channel.
#[async_trait::async_trait]
pub trait Outbound: Send + Sync {
    async fn deliver(&self, delivery: &OutboundDelivery) -> Result<DeliveryReceipt, DeliveryError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_kinds_round_trip_through_their_names() {
        for kind in ChannelKind::ALL {
            assert_eq!(ChannelKind::parse(kind.as_str()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        assert_eq!(ChannelKind::parse("carrier_pigeon"), None);
    }

    #[test]
    fn a_registered_kind_is_known_by_its_name_from_then_on() {
        assert_eq!(ChannelKind::parse("semaphore_flags"), None);
        let kind = ChannelKind::register("semaphore_flags");
        assert_eq!(kind, ChannelKind::Registered("semaphore_flags"));
        assert_eq!(ChannelKind::parse("semaphore_flags"), Some(kind));
        assert_eq!(serde_json::to_string(&kind).unwrap(), "\"semaphore_flags\"");
        let back: ChannelKind = serde_json::from_str("\"semaphore_flags\"").unwrap();
        assert_eq!(back, kind);
        assert_eq!(ChannelKind::register("email"), ChannelKind::Email);
    }

    #[test]
    fn email_and_phone_identities_are_normalised() {
        assert_eq!(
            Identity::email("  Ana@Example.COM "),
            Identity::new("email", "ana@example.com")
        );
        assert_eq!(
            Identity::phone("+1 (415) 555-0100"),
            Identity::new("phone", "+14155550100")
        );
        assert_eq!(
            Identity::phone("whatsapp:+49 151 1234-5678"),
            Identity::new("phone", "+4915112345678")
        );
        assert_eq!(
            Identity::phone("0049 (151) 12345678"),
            Identity::phone("tel:+4915112345678")
        );
        assert_eq!(
            Identity::international_phone("4915112345678"),
            Identity::new("phone", "+4915112345678")
        );
    }
}
