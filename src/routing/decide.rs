//! The routing rules as pure logic: a snapshot of agents and conversations in, assignment
//! decisions out, no I/O. The desk (desk/routing.rs) loads snapshots and applies the decisions
//! in the store, where the same rules are enforced again atomically.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use serde::Serialize;

use super::policy::{Mode, Priority, RoutingPolicy};
use crate::domain::{Id, Millis};

#[derive(Clone, Debug, Default)]
pub struct Agent {
    pub id: Id,
    /// Has a console with recent heartbeats and is not busy.
    pub online: bool,
    pub capacity: u32,
    /// Open (or pending) conversations assigned to the agent now.
    pub open: u32,
    pub last_assigned_at: Option<Millis>,
    pub skills: BTreeSet<String>,
    pub teams: BTreeSet<Id>,
    /// Inboxes the agent may work (admins: all of them).
    pub inboxes: BTreeSet<Id>,
    /// When the agent was given conversations recently, for the fairness window.
    pub recent: VecDeque<Millis>,
}

#[derive(Clone, Debug, Default)]
pub struct Conversation {
    pub id: Id,
    pub inbox_id: Id,
    pub contact_id: Id,
    /// Open or pending: needs an agent (and counts against the assignee's capacity).
    pub active: bool,
    pub assignee: Option<Id>,
    pub assigned_at: Option<Millis>,
    pub waiting_since: Option<Millis>,
    pub created_at: Millis,
    pub first_reply_at: Option<Millis>,
    pub labels: Vec<String>,
    /// Agents who let this conversation miss its first-reply deadline.
    pub excluded: BTreeSet<Id>,
}

#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub now: Millis,
    pub agents: BTreeMap<Id, Agent>,
    pub conversations: BTreeMap<Id, Conversation>,
    pub policies: HashMap<Id, RoutingPolicy>,
    /// The agent who last had a conversation with each contact (for sticky routing).
    pub last_agent_of_contact: HashMap<Id, Id>,
    /// Round-robin position per inbox: the agent assigned last.
    pub round_robin: HashMap<Id, Id>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    AgentOffline,
    FirstReplyDeadline,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Assign {
        conversation: Id,
        agent: Id,
    },
    Unassign {
        conversation: Id,
        agent: Id,
        reason: Reason,
    },
}

impl Snapshot {
    fn policy(&self, inbox: Id) -> RoutingPolicy {
        self.policies.get(&inbox).cloned().unwrap_or_default()
    }

    fn recent_within(&self, agent: &Agent, policy: &RoutingPolicy) -> u32 {
        match policy.fair_window_secs {
            Some(window) => {
                let since = self.now - window as i64 * 1000;
                agent.recent.iter().filter(|t| **t > since).count() as u32
            }
            None => 0,
        }
    }

    fn assigned_in_inbox(&self, inbox: Id) -> u32 {
        self.conversations
            .values()
            .filter(|c| c.inbox_id == inbox && c.active && c.assignee.is_some())
            .count() as u32
    }

    /// Agents who may take this conversation now, under its inbox's policy.
    pub fn candidates(&self, conversation: &Conversation) -> Vec<Id> {
        let policy = self.policy(conversation.inbox_id);
        if let Some(limit) = policy.inbox_capacity {
            if self.assigned_in_inbox(conversation.inbox_id) >= limit {
                return Vec::new();
            }
        }
        self.agents
            .values()
            .filter(|a| {
                a.online
                    && a.open < a.capacity
                    && a.inboxes.contains(&conversation.inbox_id)
                    && !conversation.excluded.contains(&a.id)
                    && policy.team_id.is_none_or(|t| a.teams.contains(&t))
                    && policy.skills.iter().all(|s| a.skills.contains(s))
                    && policy
                        .fair_limit
                        .is_none_or(|limit| self.recent_within(a, &policy) < limit)
            })
            .map(|a| a.id)
            .collect()
    }

    /// Conversations that wait for an automatic assignment, in the order they should get one.
    pub fn backlog(&self) -> Vec<Id> {
        let mut waiting: Vec<(bool, Millis, Id)> = self
            .conversations
            .values()
            .filter(|c| c.active && c.assignee.is_none())
            .filter_map(|c| {
                let policy = self.policy(c.inbox_id);
                if policy.mode == Mode::Manual {
                    return None;
                }
                let vip = policy
                    .vip_label
                    .as_ref()
                    .is_some_and(|label| c.labels.contains(label));
                let key = match policy.priority {
                    Priority::LongestWaiting => c.waiting_since.unwrap_or(c.created_at),
                    Priority::EarliestCreated => c.created_at,
                };
                Some((!vip, key, c.id))
            })
            .collect();
        waiting.sort_unstable();
        waiting.into_iter().map(|(_, _, id)| id).collect()
    }

    fn choose(&self, conversation: &Conversation, candidates: &[Id]) -> Option<Id> {
        let policy = self.policy(conversation.inbox_id);
        if policy.sticky {
            if let Some(last) = self.last_agent_of_contact.get(&conversation.contact_id) {
                if candidates.contains(last) {
                    return Some(*last);
                }
            }
        }
        match policy.mode {
            Mode::Manual => None,
            Mode::Balanced => candidates.iter().copied().min_by_key(|id| {
                let a = &self.agents[id];
                (a.open, a.last_assigned_at.unwrap_or(i64::MIN), a.id)
            }),
            Mode::RoundRobin => {
                let after = self.round_robin.get(&conversation.inbox_id).copied();
                candidates
                    .iter()
                    .copied()
                    .find(|id| after.is_none_or(|last| *id > last))
                    .or_else(|| candidates.first().copied())
            }
        }
    }

    fn assign(&mut self, conversation: Id, agent: Id) {
        let now = self.now;
        let (inbox, contact) = {
            let c = self
                .conversations
                .get_mut(&conversation)
                .expect("known conversation");
            c.assignee = Some(agent);
            c.assigned_at = Some(now);
            (c.inbox_id, c.contact_id)
        };
        let a = self.agents.get_mut(&agent).expect("known agent");
        a.open += 1;
        a.last_assigned_at = Some(now);
        a.recent.push_back(now);
        while a.recent.len() > 64 {
            a.recent.pop_front();
        }
        self.round_robin.insert(inbox, agent);
        self.last_agent_of_contact.insert(contact, agent);
    }

    fn unassign(&mut self, conversation: Id) -> Option<Id> {
        let c = self.conversations.get_mut(&conversation)?;
        let agent = c.assignee.take()?;
        c.assigned_at = None;
        if let Some(a) = self.agents.get_mut(&agent) {
            a.open = a.open.saturating_sub(1);
        }
        Some(agent)
    }

    /// Applies the rules once: takes conversations away from agents who went offline or missed
    /// the first-reply deadline, then drains the backlog in priority order while anyone eligible
    /// has room. The snapshot is updated as the decisions say.
    pub fn route(&mut self) -> Vec<Decision> {
        let mut decisions = Vec::new();
        let stale: Vec<(Id, Reason)> = self
            .conversations
            .values()
            .filter(|c| c.active)
            .filter_map(|c| {
                let agent = self.agents.get(&c.assignee?)?;
                // A shared queue (manual mode) keeps whatever people chose, also for an agent who
                // is away; only inboxes that hand out work automatically take it back.
                if self.policy(c.inbox_id).mode == Mode::Manual {
                    return None;
                }
                if !agent.online {
                    return Some((c.id, Reason::AgentOffline));
                }
                let deadline = self.policy(c.inbox_id).first_reply_deadline_secs?;
                let late = c.first_reply_at.is_none()
                    && c.assigned_at
                        .is_some_and(|at| self.now - at > deadline as i64 * 1000);
                late.then_some((c.id, Reason::FirstReplyDeadline))
            })
            .collect();
        for (conversation, reason) in stale {
            if let Some(agent) = self.unassign(conversation) {
                if reason == Reason::FirstReplyDeadline {
                    if let Some(c) = self.conversations.get_mut(&conversation) {
                        c.excluded.insert(agent);
                    }
                }
                decisions.push(Decision::Unassign {
                    conversation,
                    agent,
                    reason,
                });
            }
        }
        let mut free: u32 = self
            .agents
            .values()
            .filter(|a| a.online)
            .map(|a| a.capacity.saturating_sub(a.open))
            .sum();
        for id in self.backlog() {
            if free == 0 {
                break;
            }
            let conversation = &self.conversations[&id];
            let candidates = self.candidates(conversation);
            if let Some(agent) = self.choose(conversation, &candidates) {
                self.assign(id, agent);
                free -= 1;
                decisions.push(Decision::Assign {
                    conversation: id,
                    agent,
                });
            }
        }
        decisions
    }
}
