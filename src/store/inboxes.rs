//! The store's room for inboxes: setting them up (the inbox, its settings, sealed secret and
//! website token in one transaction), finding them, and who is a member of which.

use async_trait::async_trait;
use switchboard_connector_core::ChannelKind;

use super::Result;
use crate::domain::{ConversationScope, Event, Id, Inbox, InboxPart, InboxProblem, Millis, User};

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
    /// Takes the user out of the inbox; false when they were not a member.
    async fn remove_inbox_member(
        &self,
        workspace_id: Id,
        inbox_id: Id,
        user_id: Id,
    ) -> Result<bool>;
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
    /// Records how an attempt of the inbox's `part` went: `Some(problem)` it failed, `None` it
    /// worked. Returns the `inbox.updated` event when that changed what the console shows (a
    /// part starts or stops failing, or fails otherwise); a working part that was working writes
    /// nothing.
    async fn record_inbox_health(
        &self,
        workspace_id: Id,
        inbox_id: Id,
        part: InboxPart,
        problem: Option<String>,
        now: Millis,
    ) -> Result<Option<Event>>;
    /// Appends an `inbox.updated` event (`change`: created, settings) after the change itself
    /// committed. The event carries no data, only the news: a console that misses it (the hub
    /// stopped in between) shows the inbox at its next load.
    async fn announce_inbox(
        &self,
        workspace_id: Id,
        inbox_id: Id,
        change: &'static str,
        now: Millis,
    ) -> Result<Event>;
    /// Deletes an inbox nothing came or went through (made by mistake, or to try a channel)
    /// with its members, routing policy and channel state, and announces it (`inbox.updated`,
    /// change `deleted`). `Conflict` while any conversation, message or delivery names it:
    /// nothing a customer sent is ever deleted with an inbox.
    async fn delete_inbox(&self, workspace_id: Id, inbox_id: Id) -> Result<Event>;
    /// What is failing now in the workspace's inboxes (those in `visible`, when given).
    async fn inbox_problems(
        &self,
        workspace_id: Id,
        visible: Option<&[Id]>,
    ) -> Result<Vec<InboxProblem>>;
}
