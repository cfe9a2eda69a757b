//! The store's part for the website chat channel: finding an inbox by its public website token,
//! visitor read receipts, CSAT ratings, a visitor's place in the queue, and inbox settings.

use async_trait::async_trait;
use serde::Serialize;

use super::Result;
use crate::domain::{Event, Id, Inbox, Millis};

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Rating {
    pub conversation_id: Id,
    pub score: i64,
    pub comment: Option<String>,
    pub created_at: Millis,
}

/// What a visitor typed about themselves (the pre-chat form, identity fields the site did not
/// sign): it fills their own contact where it is empty and joins its attributes, but it is never
/// an identity, so it can neither match nor merge another contact.
#[derive(Clone, Debug, Default)]
pub struct Unverified {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

#[async_trait]
pub trait WidgetStore: Send + Sync {
    /// The contact these identities name (strongest first), created when there is none; with
    /// the `contact.created` event when it was.
    async fn find_or_create_contact(
        &self,
        workspace_id: Id,
        sender: switchboard_connector_core::InboundSender,
        unverified: Unverified,
        now: Millis,
    ) -> Result<(crate::domain::Contact, Vec<Event>)>;
    async fn set_website_token(&self, inbox_id: Id, website_token: &str) -> Result<()>;
    /// The web chat inbox a site's widget names, with its sealed identity secret.
    async fn inbox_by_website_token(
        &self,
        website_token: &str,
    ) -> Result<Option<(Inbox, Option<Vec<u8>>)>>;
    /// Replaces an inbox's (already validated) settings, and its sealed secret when given, in
    /// one write: new settings never meet old passwords.
    async fn update_inbox_settings(
        &self,
        workspace_id: Id,
        inbox_id: Id,
        settings: serde_json::Value,
        sealed_secret: Option<Vec<u8>>,
    ) -> Result<Inbox>;
    /// The visitor has seen the agents' messages up to `up_to`: they become `read`.
    async fn mark_read_by_contact(
        &self,
        workspace_id: Id,
        conversation_id: Id,
        up_to: Id,
        now: Millis,
    ) -> Result<Vec<Event>>;
    /// How many agent messages of each conversation the contact has not read yet.
    async fn unread_by_contact(&self, conversation_ids: &[Id]) -> Result<Vec<(Id, i64)>>;
    /// Rates a resolved conversation, once.
    async fn rate_conversation(
        &self,
        workspace_id: Id,
        conversation_id: Id,
        score: i64,
        comment: Option<String>,
        now: Millis,
    ) -> Result<Vec<Event>>;
    async fn ratings(&self, conversation_ids: &[Id]) -> Result<Vec<Rating>>;
    /// The contact's ratings, newest first (at most 50), of conversations in `inboxes` (every
    /// inbox when None: an owner or admin).
    async fn contact_ratings(
        &self,
        workspace_id: Id,
        contact_id: Id,
        inboxes: Option<&[Id]>,
    ) -> Result<Vec<Rating>>;
    /// 0 when an agent has the conversation or has answered it (or it is not waiting); otherwise its place among
    /// the inbox's unassigned open conversations, longest waiting first.
    async fn queue_position(&self, workspace_id: Id, conversation_id: Id) -> Result<i64>;
}
