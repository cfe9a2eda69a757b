//! The store's part for channel setup: a new inbox with its settings, sealed secret and public
//! key in one transaction, and the inbox a webhook names (by id alone, before any sign-in).

use async_trait::async_trait;

use super::{NewInbox, Result};
use crate::domain::{Id, Inbox};

/// A new inbox as its channel set it up.
pub struct NewInboxSetup {
    pub inbox: NewInbox,
    /// Web chat: the website token a site's widget names the inbox by.
    pub website_token: Option<String>,
}

#[async_trait]
pub trait InboxSetupStore: Send + Sync {
    /// Writes the inbox, its settings and sealed secret, and its website token together: an
    /// inbox is never half set up.
    async fn set_up_inbox(&self, setup: NewInboxSetup) -> Result<Inbox>;
    /// The inbox at this id in any workspace, with its sealed secret: for a channel's webhook,
    /// which proves itself with that secret before anything is trusted.
    async fn webhook_inbox(&self, inbox_id: Id) -> Result<Option<(Inbox, Option<Vec<u8>>)>>;
}
