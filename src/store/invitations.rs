//! The store's room for invitations: a user an admin invited, who has no password until they
//! follow a one-time link. The link's token is not stored, only its selector (to find the row)
//! and its hash (which the caller compares in constant time).

use async_trait::async_trait;

use super::{NewAuditEntry, NewUser, Result};
use crate::domain::{Id, Millis, User};

pub struct NewInvitation {
    /// The token's non-secret part, to find the invitation by.
    pub selector: String,
    /// SHA-256 of the whole token.
    pub token_hash: Vec<u8>,
    pub expires_at: Millis,
}

/// A stored invitation, as acceptance checks it.
#[derive(Clone, Debug)]
pub struct Invitation {
    pub user_id: Id,
    pub workspace_id: Id,
    pub token_hash: Vec<u8>,
    pub expires_at: Millis,
}

#[async_trait]
pub trait InvitationStore: Send + Sync {
    /// A user with no password, their invitation and the audit line, in one transaction.
    /// `user.password_hash` is ignored (an invited user has none).
    async fn invite_user(
        &self,
        user: NewUser,
        invitation: NewInvitation,
        audit: NewAuditEntry,
    ) -> Result<User>;
    /// A new invitation for a user who has not arrived yet, replacing the old one (whose link
    /// stops working). `Conflict` when the user already set a password.
    async fn renew_invitation(
        &self,
        workspace_id: Id,
        user_id: Id,
        invitation: NewInvitation,
        audit: NewAuditEntry,
    ) -> Result<()>;
    async fn invitation(&self, selector: &str) -> Result<Option<Invitation>>;
    /// Uses the invitation once: deletes it and sets the user's password, if it is still
    /// there, has not expired, and its user is enabled and still has no password. `None`
    /// otherwise (also for the loser of two acceptances at once).
    async fn accept_invitation(
        &self,
        selector: &str,
        password_hash: String,
        now: Millis,
        audit: NewAuditEntry,
    ) -> Result<Option<User>>;
}
