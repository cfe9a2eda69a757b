//! The store's room for canned responses: saved answers an agent inserts in the reply box by
//! typing `/` and a short code. A shared one belongs to the workspace; a personal one to the
//! agent who wrote it, and nobody else ever sees it. Who may change which is the caller's rule.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Result;
use crate::domain::{Id, Millis};

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct CannedResponse {
    pub id: Id,
    pub short_code: String,
    pub content: String,
    /// True: everyone in the workspace sees it and only owners and admins change it.
    pub shared: bool,
    /// The agent a personal response belongs to; absent for a shared one.
    pub owner_id: Option<Id>,
    pub created_at: Millis,
}

/// A change to a canned response; absent fields stay as they are.
#[derive(Clone, Debug, Default)]
pub struct CannedPatch {
    pub short_code: Option<String>,
    pub content: Option<String>,
}

#[async_trait]
pub trait CannedStore: Send + Sync {
    /// The workspace's shared responses and `user_id`'s personal ones, by short code.
    async fn canned_responses(&self, workspace_id: Id, user_id: Id) -> Result<Vec<CannedResponse>>;
    /// One response of the workspace, whoever it belongs to.
    async fn canned_response(&self, workspace_id: Id, id: Id) -> Result<Option<CannedResponse>>;
    /// `owner_id` `None` is a shared response. Fails with `Conflict` when the short code is
    /// taken in the same scope (the workspace's shared ones, or that agent's own).
    async fn create_canned_response(
        &self,
        workspace_id: Id,
        owner_id: Option<Id>,
        short_code: &str,
        content: &str,
        now: Millis,
    ) -> Result<CannedResponse>;
    /// `NotFound` when there is no such response; `Conflict` as for creating.
    async fn update_canned_response(
        &self,
        workspace_id: Id,
        id: Id,
        patch: CannedPatch,
    ) -> Result<CannedResponse>;
    /// False when there was no such response.
    async fn delete_canned_response(&self, workspace_id: Id, id: Id) -> Result<bool>;
}
