//! The thin layer between the rules and the world: on every change that can matter (a
//! conversation arrives or is resolved, an agent comes or goes, a tick for deadlines) it loads a
//! snapshot of the workspace, lets `decide` route it, and applies each decision in the store,
//! where capacity and single assignment are checked again under locks. Several routers (nodes)
//! may run at once: the store makes the second attempt at the same slot a no-op.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Notify};

use super::decide::{Agent, Conversation, Decision, Reason, Snapshot};
use super::policy::{Mode, RoutingPolicy};
use crate::bus::EventBus;
use crate::domain::{now_millis, ConversationStatus, Id};
use crate::store::{Store, StoreError};

const DEADLINE: &str = "first_reply_deadline";

/// The longest fairness window considered when loading recent assignments.
const LONGEST_WINDOW_MS: i64 = 24 * 3600 * 1000;

#[derive(Clone)]
pub struct Router {
    store: Arc<dyn Store>,
    bus: Arc<dyn EventBus>,
}

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
fn automatic(policy: &str) -> bool {
    serde_json::from_str::<RoutingPolicy>(policy).is_ok_and(|p| p.mode != Mode::Manual)
}

impl Router {
    pub fn new(store: Arc<dyn Store>, bus: Arc<dyn EventBus>) -> Self {
        Router { store, bus }
    }

    /// Routes one workspace until nothing more can be done. Returns the decisions applied.
    pub async fn drain(&self, workspace_id: Id) -> Result<usize, StoreError> {
        // Shared queues (manual inboxes, the default) never get a decision: a workspace without
        // an automatic inbox is not worth a snapshot, which reads every open conversation and
        // under steady ingest would be read again after every message.
        let policies = self.store.routing().policies(workspace_id).await?;
        if !policies.iter().any(|(_, policy)| automatic(policy)) {
            return Ok(0);
        }
        let mut applied = 0;
        // Each pass applies what the rules decided; a decision another router got to first is
        // skipped, and the next pass sees the world as it now is.
        for _ in 0..64 {
            let now = now_millis();
            let data = self
                .store
                .routing()
                .routing_data(workspace_id, now - LONGEST_WINDOW_MS)
                .await?;
            let decisions = snapshot(data, now).route();
            if decisions.is_empty() {
                break;
            }
            let mut progress = 0;
            for decision in decisions {
                let outcome = match decision {
                    Decision::Assign {
                        conversation,
                        agent,
                    } => {
                        self.store
                            .routing()
                            .try_assign(workspace_id, conversation, agent, now)
                            .await?
                    }
                    Decision::Unassign {
                        conversation,
                        agent,
                        reason,
                    } => {
                        let (code, why) = match reason {
                            Reason::AgentOffline => {
                                ("agent_offline", "Re-routed: the agent went offline")
                            }
                            Reason::FirstReplyDeadline => {
                                (DEADLINE, "Re-routed: no first reply before the deadline")
                            }
                        };
                        self.store
                            .routing()
                            .reroute(
                                workspace_id,
                                crate::store::Reroute {
                                    conversation_id: conversation,
                                    user_id: agent,
                                    reason: code,
                                    why,
                                },
                                now,
                            )
                            .await?
                    }
                };
                if let Some((_, events)) = outcome {
                    self.bus.publish(&events);
                    progress += 1;
                }
            }
            metrics::counter!("switchboard_routing_decisions_total").increment(progress as u64);
            applied += progress;
            if progress == 0 {
                break;
            }
        }
        Ok(applied)
    }

    /// Routes on every relevant event, and on a timer for first-reply deadlines, until shutdown.
    pub async fn run(self, tick: Duration, mut shutdown: watch::Receiver<bool>) {
        let mut events = self.bus.subscribe();
        let dirty = Arc::new(std::sync::Mutex::new(HashSet::<Id>::new()));
        let wake = Arc::new(Notify::new());
        let mut timer = tokio::time::interval(tick.max(Duration::from_millis(50)));
        loop {
            tokio::select! {
                event = events.recv() => match event {
                    Ok(event) => {
                        let relevant = matches!(event.kind.as_str(),
                            "conversation.created" | "conversation.updated" | "presence.updated" | "routing.updated")
                            || (event.kind == "message.created"
                                && event.payload.get("direction").and_then(|d| d.as_str()) != Some("activity"));
                        if relevant {
                            dirty.lock().unwrap_or_else(|e| e.into_inner()).insert(event.workspace_id);
                            wake.notify_one();
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        for w in self.store.list_workspaces().await.unwrap_or_default() {
                            dirty.lock().unwrap_or_else(|e| e.into_inner()).insert(w.id);
                        }
                        wake.notify_one();
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                },
                _ = wake.notified() => {
                    let workspaces: Vec<Id> = dirty.lock().unwrap_or_else(|e| e.into_inner()).drain().collect();
                    for workspace in workspaces {
                        if let Err(e) = self.drain(workspace).await {
                            tracing::warn!(error = %e, workspace, "routing pass failed");
                        }
                    }
                }
                _ = timer.tick() => {
                    for w in self.store.list_workspaces().await.unwrap_or_default() {
                        if let Err(e) = self.drain(w.id).await {
                            tracing::warn!(error = %e, workspace = w.id, "routing pass failed");
                        }
                    }
                }
                _ = shutdown.changed() => return,
            }
        }
    }
}
