//! Changes to how the workspace is set up that open consoles must hear of: an inbox set up,
//! changed or deleted, a team deleted (its conversations stay, with no team).

use super::Desk;
use crate::domain::{now_millis, Id};
use crate::store::StoreError;

type Result<T> = std::result::Result<T, StoreError>;

impl Desk {
    /// Tells the consoles that may see the inbox that it was set up or its settings changed
    /// (`change`: created, settings), so a new inbox shows without a reload.
    pub async fn inbox_changed(
        &self,
        workspace_id: Id,
        inbox_id: Id,
        change: &'static str,
    ) -> Result<()> {
        let event = self
            .store()
            .announce_inbox(workspace_id, inbox_id, change, now_millis())
            .await?;
        self.publish(&[event]);
        Ok(())
    }

    /// Deletes an inbox nothing came through (`Conflict` otherwise, see the store).
    #[tracing::instrument(skip_all, fields(workspace = workspace_id, inbox = inbox_id))]
    pub async fn delete_inbox(&self, workspace_id: Id, inbox_id: Id) -> Result<()> {
        let event = self.store().delete_inbox(workspace_id, inbox_id).await?;
        self.publish(&[event]);
        Ok(())
    }

    /// Deletes a team; its conversations stay, with no team, and consoles hear of each.
    #[tracing::instrument(skip_all, fields(workspace = workspace_id, team = team_id))]
    pub async fn delete_team(&self, workspace_id: Id, team_id: Id) -> Result<()> {
        let events = self.store().delete_team(workspace_id, team_id).await?;
        self.publish(&events);
        Ok(())
    }
}
