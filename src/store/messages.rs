//! The store's room for messages: a conversation's thread, agents' replies and notes, and the
//! files attached to them.

use async_trait::async_trait;

use super::Actor;
use super::{Page, Result};
use crate::domain::{Attachment, ConversationStatus, Event, Id, Message, Millis};
use switchboard_connector_core::Identity;

pub struct NewAttachment {
    pub filename: String,
    pub content_type: String,
    pub url: Option<String>,
    pub data: Option<Vec<u8>>,
}

pub struct NewReply {
    pub workspace_id: Id,
    pub conversation_id: Id,
    pub author: Actor,
    pub text: String,
    pub html: Option<String>,
    /// A private note is seen by agents only and never delivered.
    pub private: bool,
    pub attachments: Vec<NewAttachment>,
    /// Channel details for the delivery (email: cc, bcc).
    pub meta: Option<serde_json::Value>,
    /// The console's id for this send, so that a retry is stored once.
    pub client: Option<ReplyClient>,
    /// A reply (never a note) makes the conversation the author's if nobody has it, in the
    /// reply's transaction. The desk sets it from the inbox's routing policy.
    pub assign_to_author: bool,
}

/// What a retried reply is recognised by: the client id its author's console made for the send,
/// and a fingerprint of what the request asked for (the same id with another body is refused).
pub struct ReplyClient {
    pub id: String,
    pub fingerprint: String,
}

/// An activity line in a thread ("Ana resolved the conversation"). Kept twice: the English
/// sentence is the message's `text` (what the API and older consoles show), and its parts go in
/// `meta.activity` so that a console can say it in its agent's language.
#[derive(Clone, Copy, Debug)]
pub enum Activity<'a> {
    Status {
        actor: &'a str,
        status: ConversationStatus,
    },
    Assigned {
        actor: &'a str,
        assignee: &'a str,
    },
    Unassigned {
        actor: &'a str,
    },
    /// An agent replied in an unassigned conversation and so took it (the inbox's
    /// "assign to whoever replies").
    TookByReplying {
        assignee: &'a str,
    },
    /// The routing engine handed the conversation to an agent.
    Routed {
        assignee: &'a str,
    },
    /// The routing engine took it back; `reason` is the code kept with the assignment.
    Rerouted {
        reason: &'a str,
        why: &'a str,
    },
}

impl Activity<'_> {
    pub fn text(&self) -> String {
        match self {
            Activity::Status { actor, status } => {
                format!("{actor} set the conversation to {status}")
            }
            Activity::Assigned { actor, assignee } => {
                format!("{actor} assigned the conversation to {assignee}")
            }
            Activity::Unassigned { actor } => format!("{actor} unassigned the conversation"),
            Activity::TookByReplying { assignee } => {
                format!("{assignee} replied and was assigned the conversation")
            }
            Activity::Routed { assignee } => format!("Routed to {assignee}"),
            Activity::Rerouted { why, .. } => why.to_string(),
        }
    }

    /// `{"activity": {"kind": …, …}}`, the message's `meta`.
    pub fn meta(&self) -> serde_json::Value {
        let parts = match self {
            Activity::Status { actor, status } => {
                serde_json::json!({"kind": "status", "actor": actor, "status": status})
            }
            Activity::Assigned { actor, assignee } => {
                serde_json::json!({"kind": "assigned", "actor": actor, "assignee": assignee})
            }
            Activity::Unassigned { actor } => {
                serde_json::json!({"kind": "unassigned", "actor": actor})
            }
            Activity::TookByReplying { assignee } => {
                serde_json::json!({"kind": "replied_assigned", "assignee": assignee})
            }
            Activity::Routed { assignee } => {
                serde_json::json!({"kind": "routed", "assignee": assignee})
            }
            Activity::Rerouted { reason, .. } => {
                serde_json::json!({"kind": "rerouted", "reason": reason})
            }
        };
        serde_json::json!({ "activity": parts })
    }
}

pub struct AttachmentBlob {
    pub attachment: Attachment,
    pub conversation_id: Id,
    pub inbox_id: Id,
    pub data: Option<Vec<u8>>,
}

#[async_trait]
pub trait MessageStore: Send + Sync {
    async fn list_messages(
        &self,
        workspace_id: Id,
        conversation_id: Id,
        page: &Page,
    ) -> Result<Vec<Message>>;
    /// A reply (with its outbox row, in the same transaction) or a private note. A reply goes
    /// out through the inbox the customer last wrote through (in a conversation across
    /// channels, not always the conversation's own). A retry of a reply with a known client id
    /// answers the stored message and no events (`StoreError::Conflict` when its body differs).
    async fn post_reply(&self, reply: NewReply) -> Result<(Message, Vec<Event>)>;
    /// A reply that goes out through `via`, an inbox of the workspace the caller has checked
    /// may carry it (`threading::scope::check_via`).
    async fn post_reply_via(&self, reply: NewReply, via: Id) -> Result<(Message, Vec<Event>)>;
    /// The inbox the customer last wrote through in this conversation.
    async fn last_incoming_inbox(
        &self,
        workspace_id: Id,
        conversation_id: Id,
    ) -> Result<Option<Id>>;
    /// Whether the contact has written through this inbox (in any conversation).
    async fn wrote_through(&self, workspace_id: Id, contact_id: Id, inbox_id: Id) -> Result<bool>;
    async fn get_attachment(
        &self,
        workspace_id: Id,
        attachment_id: Id,
    ) -> Result<Option<AttachmentBlob>>;
    /// When the contact of `conversation_id` last wrote to that conversation's inbox, in any of
    /// its conversations there: where a provider's reply window opens (Messenger's 24 hours and
    /// its human-agent tag's 7 days). `None` when the contact never wrote there.
    async fn last_customer_message_at(
        &self,
        workspace_id: Id,
        conversation_id: Id,
    ) -> Result<Option<Millis>>;
    /// What a read receipt by watermark covers (Messenger's `read.watermark`: every message up
    /// to that time was read): the provider ids of `inbox_id`'s replies to the contact known
    /// there by `identity` that the provider had accepted by `until` and that are not read yet,
    /// oldest first, at most `limit`.
    async fn replies_sent_until(
        &self,
        inbox_id: Id,
        identity: &Identity,
        until: Millis,
        limit: i64,
    ) -> Result<Vec<String>>;
}
