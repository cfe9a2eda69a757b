//! The store's room for conversations: listing them for the inbox views, status changes and
//! assignment, each with its activity line and events.

use async_trait::async_trait;

use super::{Page, Result};
use crate::domain::{Conversation, ConversationStatus, Event, Id, Millis};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AssigneeFilter {
    Unassigned,
    User(Id),
}

#[derive(Clone, Debug, Default)]
pub struct ConversationFilter {
    pub status: Option<ConversationStatus>,
    pub assignee: Option<AssigneeFilter>,
    pub inbox_id: Option<Id>,
    pub contact_id: Option<Id>,
    pub label: Option<String>,
    /// `None` for every inbox in the workspace, else only these.
    pub visible_inboxes: Option<Vec<Id>>,
}

#[derive(Clone, Debug, Default)]
pub struct ConversationPatch {
    pub status: Option<ConversationStatus>,
    pub snoozed_until: Option<Millis>,
    pub priority: Option<i64>,
    pub labels: Option<Vec<String>>,
}

/// Who changes something, for the activity line and the event.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user_id: Id,
    pub name: String,
}

/// Who a conversation goes to: an agent, a team, both or (`None`, `None`) nobody.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Assignment {
    pub assignee_id: Option<Id>,
    pub team_id: Option<Id>,
}

#[async_trait]
pub trait ConversationStore: Send + Sync {
    async fn list_conversations(
        &self,
        workspace_id: Id,
        filter: &ConversationFilter,
        page: &Page,
    ) -> Result<Vec<Conversation>>;
    async fn get_conversation(&self, workspace_id: Id, id: Id) -> Result<Option<Conversation>>;
    async fn update_conversation(
        &self,
        workspace_id: Id,
        id: Id,
        patch: ConversationPatch,
        actor: Actor,
    ) -> Result<(Conversation, Vec<Event>)>;
    async fn assign_conversation(
        &self,
        workspace_id: Id,
        id: Id,
        assignee: Assignment,
        actor: Actor,
    ) -> Result<(Conversation, Vec<Event>)>;
}
