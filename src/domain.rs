//! The product's vocabulary: roles, conversation and message states, and the records the store
//! hands out. Values are parsed at the edge (`EmailAddress::parse`, `Role::parse`) so that inner
//! code only ever sees valid ones.

use serde::{Deserialize, Serialize};
use switchboard_connector_core::ChannelKind;
use utoipa::ToSchema;

pub type Id = i64;
/// Unix time in milliseconds: one portable representation for both engines.
pub type Millis = i64;

pub fn now_millis() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or_default()
}

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(
    /// What a user may do in their workspace. Owners and admins see every inbox; agents see the
    /// inboxes they are members of.
    Role { Owner = "owner", Admin = "admin", Agent = "agent" }
);

impl Role {
    pub fn is_admin(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

text_enum!(
    /// Where a customer's next message on an inbox goes. `Inbox` (the default): into the
    /// contact's open conversation of that inbox. `Contact`: into the contact's open
    /// conversation in any contact-scoped inbox of the workspace, so one person writing by SMS
    /// and by WhatsApp is one conversation.
    ConversationScope { Inbox = "inbox", Contact = "contact" }
);

text_enum!(ConversationStatus {
    Open = "open",
    Pending = "pending",
    Snoozed = "snoozed",
    Resolved = "resolved",
});

text_enum!(
    /// `note` is a private note between agents; `activity` is the system saying what happened.
    Direction { Incoming = "incoming", Outgoing = "outgoing", Note = "note", Activity = "activity" }
);

text_enum!(SenderKind {
    Contact = "contact",
    User = "user",
    System = "system",
});

text_enum!(
    /// Incoming messages are `received`; outgoing ones move queued → sent → delivered → read, or
    /// to failed.
    DeliveryStatus {
        Received = "received",
        Queued = "queued",
        Sent = "sent",
        Delivered = "delivered",
        Read = "read",
        Failed = "failed",
    }
);

text_enum!(
    /// An agent's availability. Only `online` agents receive new conversations; `busy` agents
    /// keep what they have; `offline` is also what missed heartbeats turn into.
    PresenceStatus { Online = "online", Busy = "busy", Offline = "offline" }
);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Presence {
    pub user_id: Id,
    pub status: PresenceStatus,
    pub last_seen_at: Millis,
    pub changed_at: Millis,
}

/// An email address checked at the edge, kept lower-cased.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        let (local, domain) = s
            .rsplit_once('@')
            .ok_or_else(|| format!("{raw:?} is not an email address"))?;
        let valid = !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && s.len() <= 254
            && !s.chars().any(|c| c.is_whitespace() || c.is_control());
        if valid {
            Ok(EmailAddress(s.to_lowercase()))
        } else {
            Err(format!("{raw:?} is not an email address"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Workspace {
    pub id: Id,
    pub name: String,
    pub created_at: Millis,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct User {
    pub id: Id,
    pub workspace_id: Id,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub created_at: Millis,
    /// A disabled user cannot sign in and has no working session or token.
    pub disabled: bool,
    /// Invited and not yet arrived: no password until they follow their invitation link.
    pub invited: bool,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Team {
    pub id: Id,
    pub workspace_id: Id,
    pub name: String,
    pub member_ids: Vec<Id>,
    pub created_at: Millis,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Inbox {
    pub id: Id,
    pub workspace_id: Id,
    pub name: String,
    #[schema(value_type = String, example = "api")]
    pub kind: ChannelKind,
    /// Non-secret settings (callback URL, greeting…). Secrets are sealed apart and never returned.
    pub settings: serde_json::Value,
    /// Whether this inbox's messages join the contact's conversation across contact-scoped
    /// inboxes (`contact`) or stay in conversations of their own (`inbox`).
    pub conversation_scope: ConversationScope,
    pub created_at: Millis,
}

/// What part of an inbox's work a health record is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InboxPart {
    /// Reading the mailbox (IMAP): the server cannot be reached, or refuses the login.
    Mailbox,
    /// Sending through the channel: the provider, the SMTP server or the callback URL refused
    /// or could not be reached.
    Delivery,
}

impl InboxPart {
    pub fn as_str(self) -> &'static str {
        match self {
            InboxPart::Mailbox => "mailbox",
            InboxPart::Delivery => "delivery",
        }
    }

    pub fn parse(s: &str) -> Option<InboxPart> {
        match s {
            "mailbox" => Some(InboxPart::Mailbox),
            "delivery" => Some(InboxPart::Delivery),
            _ => None,
        }
    }
}

/// Something in an inbox's work that is failing now, as the server or provider said it: shown
/// in the console until the next attempt that works.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InboxProblem {
    pub inbox_id: Id,
    pub part: InboxPart,
    /// The error, in the words of the server or provider (capped).
    pub problem: String,
    /// When the part started failing (the first failure since it last worked).
    pub since: Millis,
    /// The newest failed attempt.
    pub last_seen: Millis,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ContactIdentity {
    pub namespace: String,
    pub identifier: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Contact {
    pub id: Id,
    pub workspace_id: Id,
    pub name: Option<String>,
    pub email: Option<String>,
    /// The email is one of the contact's identities (the address mail came from, or one a site
    /// signed), not only what a visitor typed into a form.
    pub email_verified: bool,
    pub phone: Option<String>,
    pub phone_verified: bool,
    pub attributes: serde_json::Value,
    pub identities: Vec<ContactIdentity>,
    pub created_at: Millis,
    pub last_activity_at: Millis,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Conversation {
    pub id: Id,
    pub workspace_id: Id,
    pub inbox_id: Id,
    pub contact_id: Id,
    pub status: ConversationStatus,
    pub assignee_id: Option<Id>,
    pub team_id: Option<Id>,
    pub priority: i64,
    pub labels: Vec<String>,
    pub subject: Option<String>,
    pub created_at: Millis,
    pub last_activity_at: Millis,
    pub waiting_since: Option<Millis>,
    pub first_reply_at: Option<Millis>,
    pub resolved_at: Option<Millis>,
    pub snoozed_until: Option<Millis>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Attachment {
    pub id: Id,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    /// Where the file lives when it came by reference; uploaded files are served by the hub.
    pub url: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Message {
    pub id: Id,
    pub workspace_id: Id,
    pub conversation_id: Id,
    /// The inbox the message came or went through: in a contact-scoped conversation, not
    /// always the conversation's own.
    pub inbox_id: Id,
    /// That inbox's kind (`sms`, `whatsapp`…), so a thread can show each message's channel.
    #[schema(value_type = String, example = "sms")]
    pub channel: ChannelKind,
    pub direction: Direction,
    pub sender_kind: SenderKind,
    pub sender_id: Option<Id>,
    pub text: String,
    pub html: Option<String>,
    pub external_id: Option<String>,
    pub status: DeliveryStatus,
    pub error: Option<String>,
    pub attachments: Vec<Attachment>,
    pub created_at: Millis,
    /// What the channel carried beyond the words (email: from, to, cc, flags). An activity line
    /// has its parts in `activity` (`kind`: status, assigned, unassigned, routed, rerouted; the
    /// names and codes it was made of), so a console can say it in its agent's language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<serde_json::Value>,
}

/// What an event says happened. Serialised (and stored) as the dotted names clients have always
/// seen, so matching on the enum changes nothing on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum EventKind {
    #[serde(rename = "message.created")]
    MessageCreated,
    #[serde(rename = "message.updated")]
    MessageUpdated,
    #[serde(rename = "conversation.created")]
    ConversationCreated,
    #[serde(rename = "conversation.updated")]
    ConversationUpdated,
    #[serde(rename = "conversation.read")]
    ConversationRead,
    #[serde(rename = "conversation.rated")]
    ConversationRated,
    #[serde(rename = "contact.created")]
    ContactCreated,
    #[serde(rename = "presence.updated")]
    PresenceUpdated,
    /// An inbox's routing policy or an agent's routing settings changed.
    #[serde(rename = "routing.updated")]
    RoutingUpdated,
    /// An inbox was set up, or its settings or health changed: consoles reload their inboxes.
    #[serde(rename = "inbox.updated")]
    InboxUpdated,
}

/// A stored event kind this build does not know: the log row is corrupt or from a newer build.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event kind {0:?}")]
pub struct UnknownEventKind(pub String);

impl EventKind {
    pub const ALL: [EventKind; 10] = [
        EventKind::MessageCreated,
        EventKind::MessageUpdated,
        EventKind::ConversationCreated,
        EventKind::ConversationUpdated,
        EventKind::ConversationRead,
        EventKind::ConversationRated,
        EventKind::ContactCreated,
        EventKind::PresenceUpdated,
        EventKind::RoutingUpdated,
        EventKind::InboxUpdated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::MessageCreated => "message.created",
            EventKind::MessageUpdated => "message.updated",
            EventKind::ConversationCreated => "conversation.created",
            EventKind::ConversationUpdated => "conversation.updated",
            EventKind::ConversationRead => "conversation.read",
            EventKind::ConversationRated => "conversation.rated",
            EventKind::ContactCreated => "contact.created",
            EventKind::PresenceUpdated => "presence.updated",
            EventKind::RoutingUpdated => "routing.updated",
            EventKind::InboxUpdated => "inbox.updated",
        }
    }

    /// About a conversation itself (not one of its messages).
    pub fn is_conversation(self) -> bool {
        matches!(
            self,
            EventKind::ConversationCreated
                | EventKind::ConversationUpdated
                | EventKind::ConversationRead
                | EventKind::ConversationRated
        )
    }

    pub fn is_message(self) -> bool {
        matches!(self, EventKind::MessageCreated | EventKind::MessageUpdated)
    }
}

impl std::str::FromStr for EventKind {
    type Err = UnknownEventKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| UnknownEventKind(s.to_string()))
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Lets code and tests compare a kind with its wire name (`event.kind == "message.created"`).
impl PartialEq<&str> for EventKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<str> for EventKind {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

/// One entry of the append-only event log. `seq` is dense and ordered per workspace: a client that
/// saw seq N resumes with every event after N.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Event {
    pub id: Id,
    pub workspace_id: Id,
    pub seq: i64,
    pub kind: EventKind,
    pub inbox_id: Option<Id>,
    pub conversation_id: Option<Id>,
    pub payload: serde_json::Value,
    pub created_at: Millis,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_addresses_are_checked_and_lower_cased() {
        assert_eq!(
            EmailAddress::parse(" Ana@Example.org ").unwrap().as_str(),
            "ana@example.org"
        );
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.org",
            "ana@localhost",
            "a b@x.org",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn event_kinds_serialise_as_their_wire_names() {
        for kind in EventKind::ALL {
            let json = serde_json::to_value(kind).unwrap();
            assert_eq!(json, kind.as_str());
            assert_eq!(kind.as_str().parse::<EventKind>(), Ok(kind));
            assert_eq!(serde_json::from_value::<EventKind>(json).unwrap(), kind);
        }
        assert_eq!(
            "message.deleted".parse::<EventKind>(),
            Err(UnknownEventKind("message.deleted".into()))
        );
    }

    #[test]
    fn states_round_trip_through_their_names() {
        for s in ["open", "pending", "snoozed", "resolved"] {
            assert_eq!(ConversationStatus::parse(s).unwrap().as_str(), s);
        }
        assert_eq!(Role::parse("root"), None);
        assert!(Role::Owner.is_admin() && !Role::Agent.is_admin());
    }
}
