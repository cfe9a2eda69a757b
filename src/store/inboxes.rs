//! The store's room for inboxes: setting them up (the inbox, its settings, sealed secret and
//! website token in one transaction), finding them, and who is a member of which.

use async_trait::async_trait;
use switchboard_connector_core::ChannelKind;

use super::Result;
use crate::domain::{ConversationScope, Id, Inbox, User};

pub struct NewInbox {
    pub workspace_id: Id,
    pub name: String,
    pub kind: ChannelKind,
    pub settings: serde_json::Value,
    pub sealed_secret: Option<Vec<u8>>,
}

/// A new inbox as its channel set it up.
pub struct NewInboxSetup {
    pub inbox: NewInbox,
    /// Web chat: the website token a site's widget names the inbox by.
    pub website_token: Option<String>,
}

#[async_trait]
pub trait InboxStore: Send + Sync {
    async fn create_inbox(&self, inbox: NewInbox) -> Result<Inbox>;
    async fn get_inbox(&self, workspace_id: Id, inbox_id: Id) -> Result<Option<Inbox>>;
    async fn list_inboxes(&self, workspace_id: Id, visible: Option<&[Id]>) -> Result<Vec<Inbox>>;
    async fn add_inbox_member(&self, workspace_id: Id, inbox_id: Id, user_id: Id) -> Result<()>;
    async fn list_inbox_members(&self, workspace_id: Id, inbox_id: Id) -> Result<Vec<User>>;
    /// Writes the inbox, its settings and sealed secret, and its website token together: an
    /// inbox is never half set up.
    async fn set_up_inbox(&self, setup: NewInboxSetup) -> Result<Inbox>;
    /// The inbox at this id in any workspace, with its sealed secret: for a channel's webhook,
    /// which proves itself with that secret before anything is trusted.
    async fn webhook_inbox(&self, inbox_id: Id) -> Result<Option<(Inbox, Option<Vec<u8>>)>>;
    /// Where the inbox's next customer messages go. Conversations already open stay where they
    /// are; only the choice for arriving messages changes.
    async fn set_conversation_scope(
        &self,
        workspace_id: Id,
        inbox_id: Id,
        scope: ConversationScope,
    ) -> Result<Inbox>;
}
