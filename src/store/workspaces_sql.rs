//! Workspaces' and teams' SQL, compiled once per engine (see sql.rs).

use async_trait::async_trait;

use super::accounts_sql::user_by_id;
use super::conversations_sql::conversation_by_id;
use super::events_sql::{append_events, PendingEvent};
use super::rows_sql::{is_unique_violation, WorkspaceRow};
use super::{Conn, Db, EngineStore};
use crate::domain::*;
use crate::store::{Result, StoreError, WorkspaceStore};

async fn team_member_ids(c: &mut Conn, team_id: Id) -> Result<Vec<Id>> {
    Ok(sqlx::query_scalar::<Db, i64>(
        "SELECT user_id FROM team_members WHERE team_id = $1 ORDER BY user_id",
    )
    .bind(team_id)
    .fetch_all(&mut *c)
    .await?)
}

pub(super) async fn team_by_id(
    c: &mut Conn,
    workspace_id: Id,
    team_id: Id,
) -> Result<Option<Team>> {
    let Some(row) = sqlx::query_as::<Db, (i64, i64, String, i64)>(
        "SELECT id, workspace_id, name, created_at FROM teams WHERE workspace_id = $1 AND id = $2",
    )
    .bind(workspace_id)
    .bind(team_id)
    .fetch_optional(&mut *c)
    .await?
    else {
        return Ok(None);
    };
    Ok(Some(Team {
        id: row.0,
        workspace_id: row.1,
        name: row.2,
        member_ids: team_member_ids(c, row.0).await?,
        created_at: row.3,
    }))
}

/// The team, or `NotFound` when this workspace has none by that id.
async fn existing_team(c: &mut Conn, workspace_id: Id, team_id: Id) -> Result<Team> {
    team_by_id(c, workspace_id, team_id)
        .await?
        .ok_or(StoreError::NotFound("team"))
}

#[async_trait]
impl WorkspaceStore for EngineStore {
    #[tracing::instrument(skip_all)]
    async fn create_workspace(&self, name: &str) -> Result<Workspace> {
        let name = name.to_string();
        self.write(move |c| {
            Box::pin(async move {
                let row = sqlx::query_as::<Db, WorkspaceRow>(
                    "INSERT INTO workspaces (name, created_at) VALUES ($1, $2) \
                     RETURNING id, name, created_at",
                )
                .bind(&name)
                .bind(now_millis())
                .fetch_one(&mut *c)
                .await?;
                Ok(Workspace {
                    id: row.id,
                    name: row.name,
                    created_at: row.created_at,
                })
            })
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn list_workspaces(&self) -> Result<Vec<Workspace>> {
        let mut c = self.reader().await?;
        let rows = sqlx::query_as::<Db, WorkspaceRow>(
            "SELECT id, name, created_at FROM workspaces ORDER BY id",
        )
        .fetch_all(&mut *c)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| Workspace {
                id: r.id,
                name: r.name,
                created_at: r.created_at,
            })
            .collect())
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id))]
    async fn create_team(&self, workspace_id: Id, name: &str) -> Result<Team> {
        let name = name.to_string();
        self.write(move |c| {
            Box::pin(async move {
                let id = sqlx::query_scalar::<Db, i64>(
                    "INSERT INTO teams (workspace_id, name, created_at) VALUES ($1, $2, $3) \
                     RETURNING id",
                )
                .bind(workspace_id)
                .bind(&name)
                .bind(now_millis())
                .fetch_one(&mut *c)
                .await
                .map_err(team_name_taken)?;
                existing_team(c, workspace_id, id).await
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id))]
    async fn list_teams(&self, workspace_id: Id) -> Result<Vec<Team>> {
        let mut c = self.reader().await?;
        let ids = sqlx::query_scalar::<Db, i64>(
            "SELECT id FROM teams WHERE workspace_id = $1 ORDER BY id",
        )
        .bind(workspace_id)
        .fetch_all(&mut *c)
        .await?;
        let mut teams = Vec::with_capacity(ids.len());
        for id in ids {
            teams.extend(team_by_id(&mut c, workspace_id, id).await?);
        }
        Ok(teams)
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, team = team_id))]
    async fn get_team(&self, workspace_id: Id, team_id: Id) -> Result<Option<Team>> {
        let mut c = self.reader().await?;
        team_by_id(&mut c, workspace_id, team_id).await
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, team = team_id, user = user_id))]
    async fn add_team_member(&self, workspace_id: Id, team_id: Id, user_id: Id) -> Result<Team> {
        self.write(move |c| {
            Box::pin(async move {
                existing_team(c, workspace_id, team_id).await?;
                user_by_id(c, workspace_id, user_id)
                    .await?
                    .ok_or_else(|| StoreError::Invalid(format!("no user {user_id} here")))?;
                sqlx::query::<Db>(
                    "INSERT INTO team_members (team_id, user_id) VALUES ($1, $2) \
                     ON CONFLICT (team_id, user_id) DO NOTHING",
                )
                .bind(team_id)
                .bind(user_id)
                .execute(&mut *c)
                .await?;
                existing_team(c, workspace_id, team_id).await
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, team = team_id))]
    async fn rename_team(&self, workspace_id: Id, team_id: Id, name: &str) -> Result<Team> {
        let name = name.to_string();
        self.write(move |c| {
            Box::pin(async move {
                sqlx::query::<Db>("UPDATE teams SET name = $3 WHERE workspace_id = $1 AND id = $2")
                    .bind(workspace_id)
                    .bind(team_id)
                    .bind(&name)
                    .execute(&mut *c)
                    .await
                    .map_err(team_name_taken)?;
                existing_team(c, workspace_id, team_id).await
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, team = team_id, user = user_id))]
    async fn remove_team_member(&self, workspace_id: Id, team_id: Id, user_id: Id) -> Result<Team> {
        self.write(move |c| {
            Box::pin(async move {
                existing_team(c, workspace_id, team_id).await?;
                sqlx::query::<Db>("DELETE FROM team_members WHERE team_id = $1 AND user_id = $2")
                    .bind(team_id)
                    .bind(user_id)
                    .execute(&mut *c)
                    .await?;
                existing_team(c, workspace_id, team_id).await
            })
        })
        .await
    }
    #[tracing::instrument(skip_all, fields(workspace = workspace_id, team = team_id))]
    async fn delete_team(&self, workspace_id: Id, team_id: Id) -> Result<Vec<Event>> {
        self.write(move |c| {
            Box::pin(async move {
                existing_team(c, workspace_id, team_id).await?;
                let moved: Vec<i64> = sqlx::query_scalar::<Db, i64>(
                    "UPDATE conversations SET team_id = NULL \
                     WHERE workspace_id = $1 AND team_id = $2 RETURNING id",
                )
                .bind(workspace_id)
                .bind(team_id)
                .fetch_all(&mut *c)
                .await?;
                sqlx::query::<Db>("DELETE FROM team_members WHERE team_id = $1")
                    .bind(team_id)
                    .execute(&mut *c)
                    .await?;
                sqlx::query::<Db>("DELETE FROM teams WHERE workspace_id = $1 AND id = $2")
                    .bind(workspace_id)
                    .bind(team_id)
                    .execute(&mut *c)
                    .await?;
                let mut pending = Vec::with_capacity(moved.len());
                for id in moved {
                    if let Some(conversation) = conversation_by_id(c, workspace_id, id).await? {
                        pending.push(PendingEvent::conversation(
                            EventKind::ConversationUpdated,
                            &conversation,
                        ));
                    }
                }
                append_events(c, workspace_id, pending, now_millis()).await
            })
        })
        .await
    }
}

/// A team's name is unique in its workspace: creating or renaming onto a taken one is a conflict.
fn team_name_taken(e: sqlx::Error) -> StoreError {
    if is_unique_violation(&e) {
        StoreError::Conflict("a team with this name already exists")
    } else {
        e.into()
    }
}
