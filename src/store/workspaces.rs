//! The store's room for workspaces (the tenants) and their teams.

use async_trait::async_trait;

use super::Result;
use crate::domain::{Event, Id, Team, Workspace};

#[async_trait]
pub trait WorkspaceStore: Send + Sync {
    async fn create_workspace(&self, name: &str) -> Result<Workspace>;
    async fn list_workspaces(&self) -> Result<Vec<Workspace>>;
    async fn create_team(&self, workspace_id: Id, name: &str) -> Result<Team>;
    async fn list_teams(&self, workspace_id: Id) -> Result<Vec<Team>>;
    async fn get_team(&self, workspace_id: Id, team_id: Id) -> Result<Option<Team>>;
    async fn add_team_member(&self, workspace_id: Id, team_id: Id, user_id: Id) -> Result<Team>;
    /// `Conflict` when another team of the workspace has the name.
    async fn rename_team(&self, workspace_id: Id, team_id: Id, name: &str) -> Result<Team>;
    /// Takes the user off the team (nothing to do if they were not on it).
    async fn remove_team_member(&self, workspace_id: Id, team_id: Id, user_id: Id) -> Result<Team>;
    /// Deletes the team: its conversations stay where they are, with no team (each announced
    /// as `conversation.updated`), and its members are on no team of that name any more.
    async fn delete_team(&self, workspace_id: Id, team_id: Id) -> Result<Vec<Event>>;
}
