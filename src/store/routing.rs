//! The store's part for the routing engine: policies, agents' capacity and skills, a snapshot to
//! decide on, and assignment that holds capacity even with several routers at once.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::Result;
use crate::domain::{Conversation, Event, Id, Millis};

#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentRouting {
    pub user_id: Id,
    pub capacity: i64,
    pub skills: Vec<String>,
}

/// What the router needs to decide, read in one go.
#[derive(Clone, Debug, Default)]
pub struct RoutingData {
    /// (user, capacity, skills, last assigned, online)
    pub agents: Vec<(AgentRouting, Option<Millis>, bool)>,
    pub memberships: Vec<(Id, Id)>,
    pub teams: Vec<(Id, Id)>,
    pub conversations: Vec<Conversation>,
    /// (user, assigned at) within the fairness window.
    pub recent: Vec<(Id, Millis)>,
    /// (contact, the agent they last had)
    pub last_agents: Vec<(Id, Id)>,
    /// (inbox, policy JSON)
    pub policies: Vec<(Id, String)>,
    /// Automatic assignments of the open conversations: (conversation, agent, when, why it was
    /// taken back if it was).
    pub assignments: Vec<(Id, Id, Millis, Option<String>)>,
}

/// A conversation taken back from the agent who has it, so the router can hand it out again.
#[derive(Clone, Copy, Debug)]
pub struct Reroute<'a> {
    pub conversation_id: Id,
    /// The agent it is taken from; nothing happens if it is no longer theirs.
    pub user_id: Id,
    /// Why, as a code kept with the assignment (`agent_offline`, `first_reply_deadline`).
    pub reason: &'a str,
    /// Why, as the activity line agents read in the thread.
    pub why: &'a str,
}

#[async_trait]
pub trait RoutingStore: Send + Sync {
    async fn set_policy(&self, workspace_id: Id, inbox_id: Id, policy: &str) -> Result<()>;
    async fn policy(&self, workspace_id: Id, inbox_id: Id) -> Result<Option<String>>;
    /// Every inbox policy of the workspace, as stored: (inbox id, policy JSON).
    async fn policies(&self, workspace_id: Id) -> Result<Vec<(Id, String)>>;
    async fn set_agent(&self, workspace_id: Id, agent: AgentRouting) -> Result<()>;
    async fn agent(&self, workspace_id: Id, user_id: Id) -> Result<AgentRouting>;
    async fn routing_data(&self, workspace_id: Id, recent_since: Millis) -> Result<RoutingData>;
    /// Assigns `conversation_id` to `user_id` only if it is still open and unassigned, the agent
    /// is online and under capacity — checked under the agent's row lock, so no two routers can
    /// both give an agent their last free slot. `None` when any condition failed.
    async fn try_assign(
        &self,
        workspace_id: Id,
        conversation_id: Id,
        user_id: Id,
        now: Millis,
    ) -> Result<Option<(Conversation, Vec<Event>)>>;
    /// The conversations assigned to `user_id` that are not resolved (in `inbox_id` only, when
    /// given), oldest first: what goes back to the queue when the agent leaves.
    async fn assigned_unresolved(
        &self,
        workspace_id: Id,
        user_id: Id,
        inbox_id: Option<Id>,
    ) -> Result<Vec<Id>>;
    /// Takes a conversation back from its agent (if it is still theirs), saying why.
    async fn reroute(
        &self,
        workspace_id: Id,
        reroute: Reroute<'_>,
        now: Millis,
    ) -> Result<Option<(Conversation, Vec<Event>)>>;
}
