//! The store's part for the email channel: IMAP checkpoints, what a reply needs to thread, and
//! bounces that fail the mail they name.

use async_trait::async_trait;

use super::Result;
use crate::domain::{Event, Id, Inbox, Millis};

/// What an outgoing mail needs from its conversation to thread in the customer's client.
#[derive(Clone, Debug, Default)]
pub struct EmailThread {
    pub subject: Option<String>,
    /// External ids (Message-IDs) of the conversation's mails, oldest first.
    pub message_ids: Vec<String>,
    /// The customer's latest mail: what the reply answers.
    pub last_incoming: Option<String>,
    pub contact_email: Option<String>,
    pub contact_name: Option<String>,
}

/// A file of an outgoing message, with its bytes.
#[derive(Clone, Debug)]
pub struct AttachmentData {
    pub filename: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

#[async_trait]
pub trait EmailStore: Send + Sync {
    /// (UIDVALIDITY, last committed UID) of an inbox's mailbox.
    async fn checkpoint(&self, inbox_id: Id, mailbox: &str) -> Result<Option<(u32, u32)>>;
    async fn save_checkpoint(
        &self,
        inbox_id: Id,
        mailbox: &str,
        uid_validity: u32,
        last_uid: u32,
        now: Millis,
    ) -> Result<()>;
    async fn thread(&self, workspace_id: Id, conversation_id: Id) -> Result<EmailThread>;
    async fn attachment_data(&self, message_id: Id) -> Result<Vec<AttachmentData>>;
    /// Fails the outgoing messages of `inbox_id` with these external ids; returns the events.
    async fn mark_bounced(
        &self,
        workspace_id: Id,
        inbox_id: Id,
        external_ids: &[String],
        reason: &str,
        now: Millis,
    ) -> Result<Vec<Event>>;
    /// Every email inbox of every workspace, with its sealed secret.
    async fn email_inboxes(&self) -> Result<Vec<(Inbox, Option<Vec<u8>>)>>;
}
