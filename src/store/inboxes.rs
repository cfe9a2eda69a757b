//! The store's room for inboxes: creating them, finding them, and who is a member of which.

use async_trait::async_trait;
use switchboard_connector_core::ChannelKind;

use super::Result;
use crate::domain::{Id, Inbox, User};

pub struct NewInbox {
    pub workspace_id: Id,
    pub name: String,
    pub kind: ChannelKind,
    pub settings: serde_json::Value,
    pub sealed_secret: Option<Vec<u8>>,
}

#[async_trait]
pub trait InboxStore: Send + Sync {
    async fn create_inbox(&self, inbox: NewInbox) -> Result<Inbox>;
    async fn get_inbox(&self, workspace_id: Id, inbox_id: Id) -> Result<Option<Inbox>>;
    async fn list_inboxes(&self, workspace_id: Id, visible: Option<&[Id]>) -> Result<Vec<Inbox>>;
    async fn add_inbox_member(&self, workspace_id: Id, inbox_id: Id, user_id: Id) -> Result<()>;
    async fn list_inbox_members(&self, workspace_id: Id, inbox_id: Id) -> Result<Vec<User>>;
}
