//! Conversations' SQL: the inbox views' listing, status changes and assignment. Compiled once per
//! engine (see sql.rs).

use async_trait::async_trait;
use sqlx::QueryBuilder;

use super::accounts_sql::user_by_id;
use super::events_sql::{append_events, PendingEvent};
use super::messages_sql::insert_activity;
use super::rows_sql::{push_inbox_filter, ConversationRow, CONVERSATION_COLS};
use super::workspaces_sql::team_by_id;
use super::{Conn, Db, EngineStore};
use crate::domain::*;
use crate::store::{
    Activity, Actor, AssigneeFilter, Assignment, ConversationFilter, ConversationPatch,
    ConversationStore, Page, Result, StoreError,
};

pub(super) async fn conversation_by_id(
    c: &mut Conn,
    workspace_id: Id,
    id: Id,
) -> Result<Option<Conversation>> {
    sqlx::query_as::<Db, ConversationRow>(&format!(
        "SELECT {CONVERSATION_COLS} FROM conversations WHERE workspace_id = $1 AND id = $2"
    ))
    .bind(workspace_id)
    .bind(id)
    .fetch_optional(&mut *c)
    .await?
    .map(Conversation::try_from)
    .transpose()
}

async fn update_conversation(
    c: &mut Conn,
    workspace_id: Id,
    id: Id,
    patch: ConversationPatch,
    actor: Actor,
) -> Result<(Conversation, Vec<Event>)> {
    let now = now_millis();
    let before = conversation_by_id(c, workspace_id, id)
        .await?
        .ok_or(StoreError::NotFound("conversation"))?;
    if patch.status == Some(ConversationStatus::Snoozed) && patch.snoozed_until.is_none() {
        return Err(StoreError::Invalid("snoozing needs `snoozed_until`".into()));
    }
    let status = patch.status.unwrap_or(before.status);
    let resolved_at = match status {
        ConversationStatus::Resolved if before.status != ConversationStatus::Resolved => Some(now),
        ConversationStatus::Resolved => before.resolved_at,
        _ => None,
    };
    let snoozed_until = match status {
        ConversationStatus::Snoozed => patch.snoozed_until.or(before.snoozed_until),
        _ => None,
    };
    let labels = patch.labels.clone().unwrap_or(before.labels.clone());
    sqlx::query::<Db>(
        "UPDATE conversations SET status = $2, resolved_at = $3, snoozed_until = $4, \
         priority = $5, labels = $6, last_activity_at = $7 WHERE id = $1",
    )
    .bind(id)
    .bind(status.as_str())
    .bind(resolved_at)
    .bind(snoozed_until)
    .bind(patch.priority.unwrap_or(before.priority))
    .bind(serde_json::to_string(&labels).unwrap_or_else(|_| "[]".into()))
    .bind(now)
    .execute(&mut *c)
    .await?;
    let after = conversation_by_id(c, workspace_id, id)
        .await?
        .ok_or(StoreError::NotFound("conversation"))?;
    let line = (status != before.status).then_some(Activity::Status {
        actor: &actor.name,
        status,
    });
    announce_change(c, workspace_id, after, line, now).await
}

async fn assign_conversation(
    c: &mut Conn,
    workspace_id: Id,
    id: Id,
    assignment: Assignment,
    actor: Actor,
) -> Result<(Conversation, Vec<Event>)> {
    let Assignment {
        assignee_id,
        team_id,
    } = assignment;
    let now = now_millis();
    let before = conversation_by_id(c, workspace_id, id)
        .await?
        .ok_or(StoreError::NotFound("conversation"))?;
    let assignee = match assignee_id {
        None => None,
        Some(user_id) => {
            let user = user_by_id(c, workspace_id, user_id).await?.ok_or_else(|| {
                StoreError::Invalid(format!("no user {user_id} in this workspace"))
            })?;
            let member = sqlx::query_scalar::<Db, i64>(
                "SELECT user_id FROM inbox_members WHERE inbox_id = $1 AND user_id = $2",
            )
            .bind(before.inbox_id)
            .bind(user_id)
            .fetch_optional(&mut *c)
            .await?;
            if member.is_none() && !user.role.is_admin() {
                return Err(StoreError::Invalid(format!(
                    "{} is not a member of this conversation's inbox",
                    user.name
                )));
            }
            Some(user)
        }
    };
    if let Some(team_id) = team_id {
        team_by_id(c, workspace_id, team_id)
            .await?
            .ok_or_else(|| StoreError::Invalid(format!("no team {team_id} in this workspace")))?;
    }
    sqlx::query::<Db>(
        "UPDATE conversations SET assignee_id = $2, team_id = $3, last_activity_at = $4 \
         WHERE id = $1",
    )
    .bind(id)
    .bind(assignee_id)
    .bind(team_id)
    .bind(now)
    .execute(&mut *c)
    .await?;
    let after = conversation_by_id(c, workspace_id, id)
        .await?
        .ok_or(StoreError::NotFound("conversation"))?;
    let line = (before.assignee_id != after.assignee_id).then(|| match &assignee {
        Some(user) => Activity::Assigned {
            actor: &actor.name,
            assignee: &user.name,
        },
        None => Activity::Unassigned { actor: &actor.name },
    });
    announce_change(c, workspace_id, after, line, now).await
}

/// Tells of a changed conversation in its transaction: the activity line its thread shows (when
/// the change is worth one) and `conversation.updated`.
pub(super) async fn announce_change(
    c: &mut Conn,
    workspace_id: Id,
    after: Conversation,
    activity: Option<Activity<'_>>,
    now: Millis,
) -> Result<(Conversation, Vec<Event>)> {
    let mut pending = Vec::new();
    if let Some(line) = activity {
        let activity = insert_activity(c, &after, line, now).await?;
        pending.push(PendingEvent::message(EventKind::MessageCreated, &activity));
    }
    pending.push(PendingEvent::conversation(
        EventKind::ConversationUpdated,
        &after,
    ));
    let events = append_events(c, workspace_id, pending, now).await?;
    Ok((after, events))
}

#[async_trait]
impl ConversationStore for EngineStore {
    #[tracing::instrument(skip_all, fields(workspace = workspace_id))]
    async fn list_conversations(
        &self,
        workspace_id: Id,
        filter: &ConversationFilter,
        page: &Page,
    ) -> Result<Vec<Conversation>> {
        let mut c = self.reader().await?;
        let mut q = QueryBuilder::<Db>::new(format!(
            "SELECT {CONVERSATION_COLS} FROM conversations WHERE workspace_id = "
        ));
        q.push_bind(workspace_id);
        if let Some(status) = filter.status {
            q.push(" AND status = ").push_bind(status.as_str());
        }
        match filter.assignee {
            Some(AssigneeFilter::Unassigned) => {
                q.push(" AND assignee_id IS NULL");
            }
            Some(AssigneeFilter::User(id)) => {
                q.push(" AND assignee_id = ").push_bind(id);
            }
            None => {}
        }
        if let Some(inbox_id) = filter.inbox_id {
            q.push(" AND inbox_id = ").push_bind(inbox_id);
        }
        if let Some(contact_id) = filter.contact_id {
            q.push(" AND contact_id = ").push_bind(contact_id);
        }
        if let Some(label) = &filter.label {
            // Labels are kept as a JSON array of strings: look for the quoted label, with LIKE's
            // wildcards escaped so that "50%" means itself.
            let quoted = serde_json::to_string(label).unwrap_or_default();
            let escaped = quoted
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            q.push(" AND labels LIKE ")
                .push_bind(format!("%{escaped}%"))
                .push(" ESCAPE '\\'");
        }
        push_inbox_filter(&mut q, "inbox_id", filter.visible_inboxes.as_deref());
        if let Some((at, id)) = page.after {
            q.push(" AND (last_activity_at, id) < (")
                .push_bind(at)
                .push(", ")
                .push_bind(id)
                .push(")");
        }
        q.push(" ORDER BY last_activity_at DESC, id DESC LIMIT ")
            .push_bind(page.limit);
        q.build_query_as::<ConversationRow>()
            .fetch_all(&mut *c)
            .await?
            .into_iter()
            .map(Conversation::try_from)
            .collect()
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, conversation = id))]
    async fn get_conversation(&self, workspace_id: Id, id: Id) -> Result<Option<Conversation>> {
        let mut c = self.reader().await?;
        conversation_by_id(&mut c, workspace_id, id).await
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, conversation = id))]
    async fn update_conversation(
        &self,
        workspace_id: Id,
        id: Id,
        patch: ConversationPatch,
        actor: Actor,
    ) -> Result<(Conversation, Vec<Event>)> {
        self.write(move |c| Box::pin(update_conversation(c, workspace_id, id, patch, actor)))
            .await
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, conversation = id))]
    async fn assign_conversation(
        &self,
        workspace_id: Id,
        id: Id,
        assignment: Assignment,
        actor: Actor,
    ) -> Result<(Conversation, Vec<Event>)> {
        self.write(move |c| Box::pin(assign_conversation(c, workspace_id, id, assignment, actor)))
            .await
    }
}
