//! The store's room for accounts: users and how they sign in, sessions and personal API tokens,
//! passwords, disabling users, and the audit log of what owners and admins do. Each change that
//! is audited writes its audit line in the same transaction as the change.

use async_trait::async_trait;
use serde::Serialize;
use utoipa::ToSchema;

use super::Result;
use crate::domain::{EmailAddress, Id, Millis, Role, User};

pub struct NewUser {
    pub workspace_id: Id,
    pub email: EmailAddress,
    pub name: String,
    pub role: Role,
    pub password_hash: String,
}

/// What login needs: the user and their stored password hash.
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    Session,
    Api,
}

impl TokenKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            TokenKind::Session => "session",
            TokenKind::Api => "api",
        }
    }
}

pub struct NewToken {
    pub user_id: Id,
    pub kind: TokenKind,
    pub name: String,
    pub hash: Vec<u8>,
    pub expires_at: Option<Millis>,
}

/// Who is asking: the user behind a token, and the inboxes they are a member of.
#[derive(Clone, Debug)]
pub struct Principal {
    pub user: User,
    pub token_id: Id,
    /// When the token last opened a request (recorded at most once a minute).
    pub token_last_used_at: Option<Millis>,
    pub member_inboxes: Vec<Id>,
}

impl Principal {
    pub fn workspace_id(&self) -> Id {
        self.user.workspace_id
    }

    pub fn is_admin(&self) -> bool {
        self.user.role.is_admin()
    }

    pub fn can_see_inbox(&self, inbox_id: Id) -> bool {
        self.is_admin() || self.member_inboxes.contains(&inbox_id)
    }

    /// The inboxes a listing may show: `None` means every inbox of the workspace.
    pub fn visible_inboxes(&self) -> Option<Vec<Id>> {
        (!self.is_admin()).then(|| self.member_inboxes.clone())
    }
}

/// A token's use is written down at most this often, so that a request stays a read.
pub const TOKEN_TOUCH_EVERY_MS: i64 = 60_000;

/// A personal API token as its owner sees it in a listing: never the secret again.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ApiToken {
    pub id: Id,
    pub name: String,
    /// The token's first characters, to tell tokens apart.
    pub prefix: String,
    pub created_at: Millis,
    pub last_used_at: Option<Millis>,
    /// Absent: the token does not expire.
    pub expires_at: Option<Millis>,
}

/// What an audited action was, stored and served as its dotted name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub enum AuditAction {
    #[serde(rename = "user.created")]
    UserCreated,
    #[serde(rename = "user.disabled")]
    UserDisabled,
    #[serde(rename = "user.enabled")]
    UserEnabled,
    #[serde(rename = "user.role_changed")]
    UserRoleChanged,
    #[serde(rename = "user.password_reset")]
    UserPasswordReset,
    #[serde(rename = "user.password_changed")]
    UserPasswordChanged,
    #[serde(rename = "user.signed_out_everywhere")]
    UserSignedOutEverywhere,
    #[serde(rename = "token.created")]
    TokenCreated,
    #[serde(rename = "token.revoked")]
    TokenRevoked,
    #[serde(rename = "inbox.created")]
    InboxCreated,
    #[serde(rename = "inbox.settings_changed")]
    InboxSettingsChanged,
    #[serde(rename = "inbox.member_added")]
    InboxMemberAdded,
    #[serde(rename = "user.invited")]
    UserInvited,
    #[serde(rename = "user.invitation_accepted")]
    UserInvitationAccepted,
    #[serde(rename = "inbox.member_removed")]
    InboxMemberRemoved,
    #[serde(rename = "inbox.deleted")]
    InboxDeleted,
    #[serde(rename = "team.deleted")]
    TeamDeleted,
}

impl AuditAction {
    pub const ALL: [AuditAction; 17] = [
        AuditAction::UserCreated,
        AuditAction::UserDisabled,
        AuditAction::UserEnabled,
        AuditAction::UserRoleChanged,
        AuditAction::UserPasswordReset,
        AuditAction::UserPasswordChanged,
        AuditAction::UserSignedOutEverywhere,
        AuditAction::TokenCreated,
        AuditAction::TokenRevoked,
        AuditAction::InboxCreated,
        AuditAction::InboxSettingsChanged,
        AuditAction::InboxMemberAdded,
        AuditAction::UserInvited,
        AuditAction::UserInvitationAccepted,
        AuditAction::InboxMemberRemoved,
        AuditAction::InboxDeleted,
        AuditAction::TeamDeleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::UserCreated => "user.created",
            AuditAction::UserDisabled => "user.disabled",
            AuditAction::UserEnabled => "user.enabled",
            AuditAction::UserRoleChanged => "user.role_changed",
            AuditAction::UserPasswordReset => "user.password_reset",
            AuditAction::UserPasswordChanged => "user.password_changed",
            AuditAction::UserSignedOutEverywhere => "user.signed_out_everywhere",
            AuditAction::TokenCreated => "token.created",
            AuditAction::TokenRevoked => "token.revoked",
            AuditAction::InboxCreated => "inbox.created",
            AuditAction::InboxSettingsChanged => "inbox.settings_changed",
            AuditAction::InboxMemberAdded => "inbox.member_added",
            AuditAction::UserInvited => "user.invited",
            AuditAction::UserInvitationAccepted => "user.invitation_accepted",
            AuditAction::InboxMemberRemoved => "inbox.member_removed",
            AuditAction::InboxDeleted => "inbox.deleted",
            AuditAction::TeamDeleted => "team.deleted",
        }
    }

    pub fn parse(s: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// One line of the audit log.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: Id,
    /// Absent when the action came from the command line.
    pub actor_id: Option<Id>,
    pub actor_name: String,
    pub action: AuditAction,
    /// What the action was done to: `user`, `token` or `inbox`.
    pub target_kind: String,
    pub target_id: Option<Id>,
    /// What changed (never a secret or a password).
    pub details: serde_json::Value,
    pub created_at: Millis,
}

/// An audit line to write with the change it records. `target_id` may be left `None` for a
/// thing the change itself creates: the store fills in the new id.
#[derive(Clone, Debug)]
pub struct NewAuditEntry {
    pub workspace_id: Id,
    /// (user id, name); `None` for the command line.
    pub actor: Option<(Id, String)>,
    pub action: AuditAction,
    pub target_kind: &'static str,
    pub target_id: Option<Id>,
    pub details: serde_json::Value,
}

/// Which of a user's sessions and tokens to delete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Revoke {
    /// Every session and API token.
    Everything,
    /// Every session but this one; API tokens stay.
    SessionsExcept(Option<Id>),
    /// Every session and API token but this one (the one changing its password).
    AllExcept(Id),
}

/// A change to a user by an owner or admin. The rules of who may do it are the caller's.
#[derive(Clone, Debug, Default)]
pub struct UserPatch {
    pub role: Option<Role>,
    /// `Some(true)` disables (and revokes every session and token at once).
    pub disabled: Option<bool>,
}

#[async_trait]
pub trait AccountStore: Send + Sync {
    async fn create_user(&self, user: NewUser) -> Result<User>;
    async fn get_user(&self, workspace_id: Id, user_id: Id) -> Result<Option<User>>;
    async fn list_users(&self, workspace_id: Id) -> Result<Vec<User>>;
    async fn credentials_by_email(&self, email: &EmailAddress) -> Result<Option<Credentials>>;
    async fn create_token(&self, token: NewToken) -> Result<Id>;
    async fn principal_by_token(&self, hash: &[u8], now: Millis) -> Result<Option<Principal>>;
    async fn delete_token(&self, token_id: Id) -> Result<()>;
    /// A user and its `user.created` audit line.
    async fn create_user_audited(&self, user: NewUser, audit: NewAuditEntry) -> Result<User>;
    /// A personal API token and its `token.created` audit line.
    async fn create_api_token(
        &self,
        token: NewToken,
        prefix: String,
        audit: NewAuditEntry,
    ) -> Result<ApiToken>;
    /// The user's personal API tokens that have not expired, newest first.
    async fn api_tokens(&self, user_id: Id, now: Millis) -> Result<Vec<ApiToken>>;
    /// False when the user has no such API token.
    async fn revoke_api_token(
        &self,
        user_id: Id,
        token_id: Id,
        audit: NewAuditEntry,
    ) -> Result<bool>;
    /// Deletes sessions and tokens of a user; returns how many.
    async fn revoke_tokens(
        &self,
        user_id: Id,
        which: Revoke,
        audit: Option<NewAuditEntry>,
    ) -> Result<u64>;
    /// A new password hash, revoking what `revoke` says in the same transaction.
    async fn set_password(
        &self,
        user_id: Id,
        password_hash: String,
        revoke: Revoke,
        audit: NewAuditEntry,
    ) -> Result<()>;
    /// Role and disabled state; disabling deletes every session and token of the user.
    async fn update_user(
        &self,
        workspace_id: Id,
        user_id: Id,
        patch: UserPatch,
        audit: Vec<NewAuditEntry>,
        now: Millis,
    ) -> Result<User>;
    /// An audit line on its own, for changes made elsewhere in the store.
    async fn record_audit(&self, entry: NewAuditEntry) -> Result<()>;
    /// The workspace's audit log, newest first; `page.after` holds (0, id) of the last seen.
    async fn audit_log(&self, workspace_id: Id, page: &super::Page) -> Result<Vec<AuditEntry>>;
    /// Notes that a token was used now.
    async fn touch_token(&self, token_id: Id, now: Millis) -> Result<()>;
    /// Notes that `account` signed in from `address` (see `auth::login_limit`).
    async fn remember_login_address(&self, account: &str, address: &str, now: Millis)
        -> Result<()>;
    /// The (account, address, last seen) sign-ins seen since `since`, for the login limiter.
    async fn login_addresses(&self, since: Millis) -> Result<Vec<(String, String, Millis)>>;
}
