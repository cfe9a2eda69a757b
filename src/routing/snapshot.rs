//! The rules' view of a workspace, built from what the store holds: the pure half of routing's
//! contact with the world (the desk loads the data, runs `decide`, applies the decisions).

use std::collections::BTreeSet;

use super::decide::{Agent, Conversation, Snapshot};
use super::policy::{Mode, RoutingPolicy};
use crate::domain::ConversationStatus;

/// Why a conversation was taken back from an agent who missed the first-reply deadline; that
/// agent is not offered it again.
pub const DEADLINE: &str = "first_reply_deadline";

/// Builds the rules' view of a workspace from what the store holds.
pub fn snapshot(data: crate::store::RoutingData, now: i64) -> Snapshot {
    let mut snapshot = Snapshot {
        now,
        ..Default::default()
    };
    for (inbox, policy) in data.policies {
        if let Ok(policy) = serde_json::from_str::<RoutingPolicy>(&policy) {
            snapshot.policies.insert(inbox, policy);
        }
    }
    for (agent, last_assigned_at, online) in data.agents {
        snapshot.agents.insert(
            agent.user_id,
            Agent {
                id: agent.user_id,
                online,
                capacity: agent.capacity.max(0) as u32,
                last_assigned_at,
                skills: agent.skills.into_iter().collect(),
                ..Default::default()
            },
        );
    }
    for (inbox, user) in data.memberships {
        if let Some(a) = snapshot.agents.get_mut(&user) {
            a.inboxes.insert(inbox);
        }
    }
    for (team, user) in data.teams {
        if let Some(a) = snapshot.agents.get_mut(&user) {
            a.teams.insert(team);
        }
    }
    for (user, at) in data.recent {
        if let Some(a) = snapshot.agents.get_mut(&user) {
            a.recent.push_back(at);
        }
    }
    for c in data.conversations {
        if let Some(a) = c.assignee_id.and_then(|id| snapshot.agents.get_mut(&id)) {
            a.open += 1;
        }
        snapshot.conversations.insert(
            c.id,
            Conversation {
                id: c.id,
                inbox_id: c.inbox_id,
                contact_id: c.contact_id,
                active: matches!(
                    c.status,
                    ConversationStatus::Open | ConversationStatus::Pending
                ),
                assignee: c.assignee_id,
                assigned_at: None,
                waiting_since: c.waiting_since,
                created_at: c.created_at,
                first_reply_at: c.first_reply_at,
                labels: c.labels,
                excluded: BTreeSet::new(),
            },
        );
    }
    for (conversation, agent, at, released) in data.assignments {
        let Some(c) = snapshot.conversations.get_mut(&conversation) else {
            continue;
        };
        if released.as_deref() == Some(DEADLINE) {
            c.excluded.insert(agent);
        }
        if c.assignee == Some(agent) && released.is_none() {
            c.assigned_at = Some(c.assigned_at.map_or(at, |t: i64| t.max(at)));
        }
    }
    snapshot.last_agent_of_contact = data.last_agents.into_iter().collect();
    snapshot
}

/// Whether a stored policy hands out conversations by itself (anything but a shared queue).
pub fn automatic(policy: &str) -> bool {
    serde_json::from_str::<RoutingPolicy>(policy).is_ok_and(|p| p.mode != Mode::Manual)
}
