//! Routing passes: on every change that can matter (a conversation arrives or is resolved, an
//! agent comes or goes, a tick for deadlines) load a snapshot of the workspace, let the rules
//! (`routing::decide`) route it, and apply each decision in the store, where capacity and single
//! assignment are checked again under locks. Several desks (nodes) may route at once: the store
//! makes the second attempt at the same slot a no-op.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Notify};

use super::Desk;
use crate::domain::{now_millis, Event, EventKind, Id};
use crate::routing::snapshot::{automatic, snapshot, DEADLINE};
use crate::routing::{Decision, Reason};
use crate::store::{AgentRouting, StoreError};

/// The longest fairness window considered when loading recent assignments.
const LONGEST_WINDOW_MS: i64 = 24 * 3600 * 1000;

/// Whether an event can change what the rules decide.
fn moves_routing(event: &Event) -> bool {
    match event.kind {
        EventKind::ConversationCreated
        | EventKind::ConversationUpdated
        | EventKind::PresenceUpdated
        | EventKind::RoutingUpdated => true,
        // An activity line (assigned, re-routed…) is the router's own doing.
        EventKind::MessageCreated => {
            event.payload.get("direction").and_then(|d| d.as_str()) != Some("activity")
        }
        EventKind::MessageUpdated
        | EventKind::ConversationRead
        | EventKind::ConversationRated
        | EventKind::ContactCreated
        | EventKind::InboxUpdated => false,
    }
}

impl Desk {
    /// Routes one workspace until nothing more can be done. Returns the decisions applied.
    #[tracing::instrument(skip_all, fields(workspace = workspace_id))]
    pub async fn route(&self, workspace_id: Id) -> Result<usize, StoreError> {
        let store = self.store().routing();
        // Shared queues (manual inboxes, the default) never get a decision: a workspace without
        // an automatic inbox is not worth a snapshot, which reads every open conversation and
        // under steady ingest would be read again after every message.
        let policies = store.policies(workspace_id).await?;
        if !policies.iter().any(|(_, policy)| automatic(policy)) {
            return Ok(0);
        }
        let mut applied = 0;
        // Each pass applies what the rules decided; a decision another router got to first is
        // skipped, and the next pass sees the world as it now is.
        for _ in 0..64 {
            let now = now_millis();
            let data = store
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
                        store
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
                        store
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
                    self.publish(&events);
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

    /// A routing pass for the workspace, in the background (when routing is on): its settings
    /// changed.
    pub fn route_soon(&self, workspace_id: Id) {
        if !self.inner.routing {
            return;
        }
        let desk = self.clone();
        tokio::spawn(async move {
            if let Err(e) = desk.route(workspace_id).await {
                tracing::warn!(error = %e, "routing pass failed");
            }
        });
    }

    /// Stores an inbox's routing policy (already validated, as JSON) and routes again.
    #[tracing::instrument(skip_all, fields(workspace = workspace_id, inbox = inbox_id))]
    pub async fn set_routing_policy(
        &self,
        workspace_id: Id,
        inbox_id: Id,
        policy: &str,
    ) -> Result<(), StoreError> {
        self.store()
            .routing()
            .set_policy(workspace_id, inbox_id, policy)
            .await?;
        self.route_soon(workspace_id);
        Ok(())
    }

    /// Stores an agent's capacity and skills and routes again.
    #[tracing::instrument(skip_all, fields(workspace = workspace_id, user = agent.user_id))]
    pub async fn set_agent_routing(
        &self,
        workspace_id: Id,
        agent: AgentRouting,
    ) -> Result<(), StoreError> {
        self.store()
            .routing()
            .set_agent(workspace_id, agent)
            .await?;
        self.route_soon(workspace_id);
        Ok(())
    }

    /// Puts the agent's unresolved conversations (in `inbox_id` only, when given) back in the
    /// queue, each with an activity line saying `why`, and routes again. Returns how many.
    #[tracing::instrument(skip_all, fields(workspace = workspace_id, user = user_id))]
    pub async fn release_agent(
        &self,
        workspace_id: Id,
        user_id: Id,
        inbox_id: Option<Id>,
        reason: &str,
        why: &str,
    ) -> Result<usize, StoreError> {
        let store = self.store().routing();
        let now = now_millis();
        let mut released = 0;
        for conversation_id in store
            .assigned_unresolved(workspace_id, user_id, inbox_id)
            .await?
        {
            let reroute = crate::store::Reroute {
                conversation_id,
                user_id,
                reason,
                why,
            };
            // `None`: someone else took it meanwhile, which is as good.
            if let Some((_, events)) = store.reroute(workspace_id, reroute, now).await? {
                self.publish(&events);
                released += 1;
            }
        }
        if released > 0 {
            self.route_soon(workspace_id);
        }
        Ok(released)
    }

    /// A disabled agent: offline (so no router picks them) and their conversations back in the
    /// queue, so no customer waits on someone who can no longer answer.
    pub async fn agent_disabled(&self, workspace_id: Id, user_id: Id) -> Result<usize, StoreError> {
        self.set_presence(
            workspace_id,
            user_id,
            crate::domain::PresenceStatus::Offline,
        )
        .await?;
        self.release_agent(
            workspace_id,
            user_id,
            None,
            "agent_disabled",
            "Back to the queue: the agent was disabled",
        )
        .await
    }

    /// Routes on every relevant event, and on a timer for first-reply deadlines, until shutdown.
    pub async fn run_routing(self, tick: Duration, mut shutdown: watch::Receiver<bool>) {
        let mut events = self.subscribe();
        let dirty = Arc::new(std::sync::Mutex::new(HashSet::<Id>::new()));
        let wake = Arc::new(Notify::new());
        let mut timer = tokio::time::interval(tick.max(Duration::from_millis(50)));
        let mark = |workspace: Id| {
            dirty
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(workspace);
        };
        loop {
            tokio::select! {
                event = events.recv() => match event {
                    Ok(event) => {
                        if moves_routing(&event) {
                            mark(event.workspace_id);
                            wake.notify_one();
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        for w in self.store().list_workspaces().await.unwrap_or_default() {
                            mark(w.id);
                        }
                        wake.notify_one();
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                },
                _ = wake.notified() => {
                    let workspaces: Vec<Id> =
                        dirty.lock().unwrap_or_else(|e| e.into_inner()).drain().collect();
                    for workspace in workspaces {
                        if let Err(e) = self.route(workspace).await {
                            tracing::warn!(error = %e, workspace, "routing pass failed");
                        }
                    }
                }
                _ = timer.tick() => {
                    for w in self.store().list_workspaces().await.unwrap_or_default() {
                        if let Err(e) = self.route(w.id).await {
                            tracing::warn!(error = %e, workspace = w.id, "routing pass failed");
                        }
                    }
                }
                _ = shutdown.changed() => return,
            }
        }
    }
}
