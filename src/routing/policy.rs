//! How an inbox hands out its conversations: the mode, and the options users of other inboxes
//! keep asking for (sticky agents, team and skill filters, priorities, fairness).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::Id;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// A shared queue: agents take conversations themselves; taking removes it for everyone.
    #[default]
    Manual,
    /// Each eligible agent in turn.
    RoundRobin,
    /// The eligible agent with the fewest open conversations; ties to the one assigned longest ago.
    Balanced,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Whoever has waited longest since their last unanswered message.
    #[default]
    LongestWaiting,
    EarliestCreated,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RoutingPolicy {
    pub mode: Mode,
    /// A returning contact goes to their last agent when that agent is online and has room.
    pub sticky: bool,
    /// Only members of this team.
    pub team_id: Option<Id>,
    /// Only agents with all of these skills (languages, products…).
    pub skills: Vec<String>,
    pub priority: Priority,
    /// Conversations with this label go first.
    pub vip_label: Option<String>,
    /// At most this many open assigned conversations in the inbox at once.
    pub inbox_capacity: Option<u32>,
    /// Fairness: at most `fair_limit` assignments per agent within `fair_window_secs`.
    pub fair_limit: Option<u32>,
    pub fair_window_secs: Option<u64>,
    /// An assigned conversation still without a first reply after this long is re-routed.
    pub first_reply_deadline_secs: Option<u64>,
    /// An agent's reply (not a note) in an unassigned conversation makes it theirs, as in
    /// Chatwoot; on unless turned off. A conversation someone else has is never taken.
    pub assign_on_reply: bool,
}

impl Default for RoutingPolicy {
    fn default() -> Self {
        RoutingPolicy {
            mode: Mode::default(),
            sticky: false,
            team_id: None,
            skills: Vec::new(),
            priority: Priority::default(),
            vip_label: None,
            inbox_capacity: None,
            fair_limit: None,
            fair_window_secs: None,
            first_reply_deadline_secs: None,
            // Stored policies from before this option read as on, like a new inbox.
            assign_on_reply: true,
        }
    }
}

impl RoutingPolicy {
    pub fn validate(&self) -> Result<(), String> {
        if self.fair_limit.is_some() != self.fair_window_secs.is_some() {
            return Err("`fair_limit` and `fair_window_secs` go together".into());
        }
        if self.fair_limit == Some(0) || self.inbox_capacity == Some(0) {
            return Err("limits must be at least 1".into());
        }
        if self.skills.iter().any(|s| s.trim().is_empty()) {
            return Err("skills must not be empty".into());
        }
        use crate::limits;
        limits::list("skills", &self.skills, limits::LIST_ITEMS, limits::LABEL)
            .and_then(|()| limits::optional("vip_label", self.vip_label.as_deref(), limits::LABEL))
            .map_err(|e| e.to_string())
    }
}
