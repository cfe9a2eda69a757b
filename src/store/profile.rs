//! The store's room for what a user sets about themselves: their display name and their own
//! email signature. Role, password and disabling are the accounts room's (and an admin's).

use async_trait::async_trait;

use super::Result;
use crate::domain::{Id, User};

/// A user's own change to their profile; absent fields stay as they are.
#[derive(Clone, Debug, Default)]
pub struct ProfilePatch {
    pub name: Option<String>,
    /// `Some(None)` removes the signature.
    pub email_signature: Option<Option<String>>,
}

#[async_trait]
pub trait ProfileStore: Send + Sync {
    /// The user's own email signature, if they set one.
    async fn email_signature(&self, workspace_id: Id, user_id: Id) -> Result<Option<String>>;
    /// The user and their signature after the change; `NotFound` when there is no such user.
    async fn update_profile(
        &self,
        workspace_id: Id,
        user_id: Id,
        patch: ProfilePatch,
    ) -> Result<(User, Option<String>)>;
}
