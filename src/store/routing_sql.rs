//! SQL for the routing engine's part of the store, compiled once per engine (see sql.rs).
//! Lock order for an assignment: the agent's routing row, then the conversation, then the
//! workspace event counter (in append_events) — never the other way round.

use async_trait::async_trait;

use super::accounts_sql::user_by_id;
use super::conversations_sql::{announce_change, conversation_by_id};
use super::events_sql::{append_events, PendingEvent};
use super::messages_sql::insert_activity;
use super::rows_sql::{ConversationRow, CONVERSATION_COLS};
use super::{Db, EngineStore};
use crate::domain::*;
use crate::store::{
    Activity, AgentRouting, Reroute, Result, RoutingData, RoutingStore, StoreError,
};

const DEFAULT_CAPACITY: i64 = 10;

#[async_trait]
impl RoutingStore for EngineStore {
    #[tracing::instrument(skip_all, fields(workspace = workspace_id, inbox = inbox_id))]
    async fn set_policy(&self, workspace_id: Id, inbox_id: Id, policy: &str) -> Result<()> {
        let policy = policy.to_string();
        self.write(move |c| {
            Box::pin(async move {
                sqlx::query::<Db>(
                    "INSERT INTO routing_policies (inbox_id, workspace_id, policy) \
                     VALUES ($1, $2, $3) ON CONFLICT (inbox_id) DO UPDATE SET policy = excluded.policy",
                )
                .bind(inbox_id)
                .bind(workspace_id)
                .bind(&policy)
                .execute(&mut *c)
                .await?;
                Ok(())
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, inbox = inbox_id))]
    async fn policy(&self, workspace_id: Id, inbox_id: Id) -> Result<Option<String>> {
        let mut c = self.reader().await?;
        Ok(sqlx::query_scalar::<Db, String>(
            "SELECT policy FROM routing_policies WHERE workspace_id = $1 AND inbox_id = $2",
        )
        .bind(workspace_id)
        .bind(inbox_id)
        .fetch_optional(&mut *c)
        .await?)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(workspace = workspace_id))]
    async fn policies(&self, workspace_id: Id) -> Result<Vec<(Id, String)>> {
        let mut c = self.reader().await?;
        Ok(sqlx::query_as::<Db, (i64, String)>(
            "SELECT inbox_id, policy FROM routing_policies WHERE workspace_id = $1",
        )
        .bind(workspace_id)
        .fetch_all(&mut *c)
        .await?)
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, user = agent.user_id))]
    async fn set_agent(&self, workspace_id: Id, agent: AgentRouting) -> Result<()> {
        self.write(move |c| {
            Box::pin(async move {
                user_by_id(c, workspace_id, agent.user_id)
                    .await?
                    .ok_or(StoreError::NotFound("user"))?;
                sqlx::query::<Db>(
                    "INSERT INTO routing_agents (user_id, workspace_id, capacity, skills) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (user_id) DO UPDATE SET \
                     capacity = excluded.capacity, skills = excluded.skills",
                )
                .bind(agent.user_id)
                .bind(workspace_id)
                .bind(agent.capacity)
                .bind(serde_json::to_string(&agent.skills).unwrap_or_else(|_| "[]".into()))
                .execute(&mut *c)
                .await?;
                Ok(())
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, user = user_id))]
    async fn agent(&self, workspace_id: Id, user_id: Id) -> Result<AgentRouting> {
        let mut c = self.reader().await?;
        user_by_id(&mut c, workspace_id, user_id)
            .await?
            .ok_or(StoreError::NotFound("user"))?;
        let row = sqlx::query_as::<Db, (i64, String)>(
            "SELECT capacity, skills FROM routing_agents WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(&mut *c)
        .await?;
        Ok(match row {
            Some((capacity, skills)) => AgentRouting {
                user_id,
                capacity,
                skills: serde_json::from_str(&skills).unwrap_or_default(),
            },
            None => AgentRouting {
                user_id,
                capacity: DEFAULT_CAPACITY,
                skills: Vec::new(),
            },
        })
    }

    #[tracing::instrument(level = "debug", skip_all, fields(workspace = workspace_id))]
    async fn routing_data(&self, workspace_id: Id, recent_since: Millis) -> Result<RoutingData> {
        let mut c = self.reader().await?;
        let agents = sqlx::query_as::<
            Db,
            (
                i64,
                Option<i64>,
                Option<String>,
                Option<i64>,
                Option<String>,
            ),
        >(
            "SELECT u.id, r.capacity, r.skills, r.last_assigned_at, p.status FROM users u \
             LEFT JOIN routing_agents r ON r.user_id = u.id \
             LEFT JOIN agent_presence p ON p.user_id = u.id \
             WHERE u.workspace_id = $1 AND u.disabled_at IS NULL",
        )
        .bind(workspace_id)
        .fetch_all(&mut *c)
        .await?
        .into_iter()
        .map(|(user_id, capacity, skills, last, status)| {
            (
                AgentRouting {
                    user_id,
                    capacity: capacity.unwrap_or(DEFAULT_CAPACITY),
                    skills: skills
                        .and_then(|s| serde_json::from_str(&s).ok())
                        .unwrap_or_default(),
                },
                last,
                status.as_deref() == Some("online"),
            )
        })
        .collect();
        let memberships = sqlx::query_as::<Db, (i64, i64)>(
            "SELECT m.inbox_id, m.user_id FROM inbox_members m JOIN inboxes i ON i.id = m.inbox_id \
             WHERE i.workspace_id = $1",
        )
        .bind(workspace_id)
        .fetch_all(&mut *c)
        .await?;
        let teams = sqlx::query_as::<Db, (i64, i64)>(
            "SELECT m.team_id, m.user_id FROM team_members m JOIN teams t ON t.id = m.team_id \
             WHERE t.workspace_id = $1",
        )
        .bind(workspace_id)
        .fetch_all(&mut *c)
        .await?;
        let conversations = sqlx::query_as::<Db, ConversationRow>(&format!(
            "SELECT {CONVERSATION_COLS} FROM conversations WHERE workspace_id = $1 \
             AND status IN ('open', 'pending')"
        ))
        .bind(workspace_id)
        .fetch_all(&mut *c)
        .await?
        .into_iter()
        .map(Conversation::try_from)
        .collect::<Result<Vec<_>>>()?;
        let recent = sqlx::query_as::<Db, (i64, i64)>(
            "SELECT user_id, assigned_at FROM routing_assignments \
             WHERE workspace_id = $1 AND assigned_at > $2",
        )
        .bind(workspace_id)
        .bind(recent_since)
        .fetch_all(&mut *c)
        .await?;
        let last_agents = sqlx::query_as::<Db, (i64, Option<i64>)>(
            "SELECT w.contact_id, (SELECT p.assignee_id FROM conversations p \
               WHERE p.contact_id = w.contact_id AND p.assignee_id IS NOT NULL \
               ORDER BY p.id DESC LIMIT 1) FROM conversations w \
             WHERE w.workspace_id = $1 AND w.status = 'open' AND w.assignee_id IS NULL",
        )
        .bind(workspace_id)
        .fetch_all(&mut *c)
        .await?
        .into_iter()
        .filter_map(|(contact, agent)| Some((contact, agent?)))
        .collect();
        let policies = sqlx::query_as::<Db, (i64, String)>(
            "SELECT inbox_id, policy FROM routing_policies WHERE workspace_id = $1",
        )
        .bind(workspace_id)
        .fetch_all(&mut *c)
        .await?;
        let assignments = sqlx::query_as::<Db, (i64, i64, i64, Option<String>)>(
            "SELECT a.conversation_id, a.user_id, a.assigned_at, a.released_reason \
             FROM routing_assignments a JOIN conversations c ON c.id = a.conversation_id \
             WHERE c.workspace_id = $1 AND c.status IN ('open', 'pending')",
        )
        .bind(workspace_id)
        .fetch_all(&mut *c)
        .await?;
        Ok(RoutingData {
            assignments,
            agents,
            memberships,
            teams,
            conversations,
            recent,
            last_agents,
            policies,
        })
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, conversation = conversation_id, user = user_id))]
    async fn try_assign(
        &self,
        workspace_id: Id,
        conversation_id: Id,
        user_id: Id,
        now: Millis,
    ) -> Result<Option<(Conversation, Vec<Event>)>> {
        self.write(move |c| {
            Box::pin(async move {
                let Some(agent) = user_by_id(c, workspace_id, user_id).await? else {
                    return Ok(None);
                };
                // The agent's row, locked (an upsert takes the row lock on PostgreSQL) before
                // counting: a second router assigning to the same agent waits here and then
                // counts this assignment too.
                let capacity = sqlx::query_scalar::<Db, i64>(
                    "INSERT INTO routing_agents (user_id, workspace_id, capacity) VALUES ($1, $2, $3) \
                     ON CONFLICT (user_id) DO UPDATE SET capacity = routing_agents.capacity \
                     RETURNING capacity",
                )
                .bind(user_id)
                .bind(workspace_id)
                .bind(DEFAULT_CAPACITY)
                .fetch_one(&mut *c)
                .await?;
                let open = sqlx::query_scalar::<Db, i64>(
                    "SELECT COUNT(*) FROM conversations WHERE assignee_id = $1 \
                     AND status IN ('open', 'pending')",
                )
                .bind(user_id)
                .fetch_one(&mut *c)
                .await?;
                let online = sqlx::query_scalar::<Db, String>(
                    "SELECT status FROM agent_presence WHERE user_id = $1",
                )
                .bind(user_id)
                .fetch_optional(&mut *c)
                .await?;
                if open >= capacity || online.as_deref() != Some("online") {
                    return Ok(None);
                }
                let taken = sqlx::query_scalar::<Db, i64>(
                    "UPDATE conversations SET assignee_id = $1 \
                     WHERE id = $2 AND workspace_id = $3 AND assignee_id IS NULL AND status = 'open' \
                     RETURNING id",
                )
                .bind(user_id)
                .bind(conversation_id)
                .bind(workspace_id)
                .fetch_optional(&mut *c)
                .await?;
                if taken.is_none() {
                    return Ok(None);
                }
                sqlx::query::<Db>("UPDATE routing_agents SET last_assigned_at = $2 WHERE user_id = $1")
                    .bind(user_id)
                    .bind(now)
                    .execute(&mut *c)
                    .await?;
                sqlx::query::<Db>(
                    "INSERT INTO routing_assignments (workspace_id, user_id, conversation_id, \
                     assigned_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(workspace_id)
                .bind(user_id)
                .bind(conversation_id)
                .bind(now)
                .execute(&mut *c)
                .await?;
                let conversation = conversation_by_id(c, workspace_id, conversation_id)
                    .await?
                    .ok_or(StoreError::NotFound("conversation"))?;
                let line = Activity::Routed {
                    assignee: &agent.name,
                };
                let changed =
                    announce_change(c, workspace_id, conversation, Some(line), now).await?;
                Ok(Some(changed))
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, conversation = reroute.conversation_id, user = reroute.user_id))]
    async fn reroute(
        &self,
        workspace_id: Id,
        reroute: Reroute<'_>,
        now: Millis,
    ) -> Result<Option<(Conversation, Vec<Event>)>> {
        let Reroute {
            conversation_id,
            user_id,
            reason,
            why,
        } = reroute;
        let why = why.to_string();
        let reason = reason.to_string();
        self.write(move |c| {
            Box::pin(async move {
                let taken = sqlx::query_scalar::<Db, i64>(
                    "UPDATE conversations SET assignee_id = NULL \
                     WHERE id = $1 AND workspace_id = $2 AND assignee_id = $3 RETURNING id",
                )
                .bind(conversation_id)
                .bind(workspace_id)
                .bind(user_id)
                .fetch_optional(&mut *c)
                .await?;
                if taken.is_none() {
                    return Ok(None);
                }
                sqlx::query::<Db>(
                    "UPDATE routing_assignments SET released_reason = $3 \
                     WHERE conversation_id = $1 AND user_id = $2 AND released_reason IS NULL",
                )
                .bind(conversation_id)
                .bind(user_id)
                .bind(&reason)
                .execute(&mut *c)
                .await?;
                let conversation = conversation_by_id(c, workspace_id, conversation_id)
                    .await?
                    .ok_or(StoreError::NotFound("conversation"))?;
                let line = Activity::Rerouted {
                    reason: &reason,
                    why: &why,
                };
                let activity = insert_activity(c, &conversation, line, now).await?;
                let events = append_events(
                    c,
                    workspace_id,
                    vec![
                        PendingEvent::message(EventKind::MessageCreated, &activity),
                        PendingEvent::conversation(EventKind::ConversationUpdated, &conversation),
                    ],
                    now,
                )
                .await?;
                Ok(Some((conversation, events)))
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, user = user_id))]
    async fn assigned_unresolved(
        &self,
        workspace_id: Id,
        user_id: Id,
        inbox_id: Option<Id>,
    ) -> Result<Vec<Id>> {
        let mut c = self.reader().await?;
        Ok(sqlx::query_scalar::<Db, i64>(
            "SELECT id FROM conversations WHERE workspace_id = $1 AND assignee_id = $2 \
             AND status <> 'resolved' AND ($3 IS NULL OR inbox_id = $3) ORDER BY id",
        )
        .bind(workspace_id)
        .bind(user_id)
        .bind(inbox_id)
        .fetch_all(&mut *c)
        .await?)
    }
}
