//! The unified conversation store: one `Store` trait made of rooms (workspaces, accounts,
//! inboxes, contacts, ingest, conversations, messages, outbox, presence, events, and each
//! channel's and service's part), two engines (SQLite embedded, PostgreSQL for scale).
//!
//! Each room is a trait here (`contacts.rs`: `ContactStore`) and SQL in a `*_sql.rs` file
//! (`contacts_sql.rs`), written once in the dialect both engines share and compiled once per
//! engine with that engine's concrete types (see `sql.rs`), so each is fully typed (no
//! `sqlx::Any`) and no query is written twice. What differs lives in `sqlite.rs` (a group-commit
//! writer) and `postgres.rs`. The rules of which conversation a message joins live outside the
//! store, in `crate::threading`; the store loads what they look at and applies what they decide.

mod accounts;
mod canned;
mod console;
mod contacts;
mod conversations;
mod email;
mod events;
mod gateway;
mod inboxes;
mod ingest;
mod invitations;
mod messages;
mod outbox;
mod postgres;
mod presence;
mod principals;
mod profile;
mod remembered;
mod routing;
mod sqlite;
mod widget;
mod workspaces;

pub use accounts::{
    AccountStore, ApiToken, AuditAction, AuditEntry, Credentials, NewAuditEntry, NewToken, NewUser,
    Principal, Revoke, TokenKind, UserPatch, TOKEN_TOUCH_EVERY_MS,
};
pub use canned::{CannedPatch, CannedResponse, CannedStore};
pub use console::{ConsoleStore, ConversationSummary, ViewCounts};
pub use contacts::{ContactStore, NewContact};
pub use conversations::{
    Actor, AssigneeFilter, Assignment, ConversationFilter, ConversationPatch, ConversationStore,
};
pub use email::{AttachmentData, EmailStore, EmailThread};
pub use events::EventStore;
pub use gateway::{GatewayStore, ReadMarker};
pub use inboxes::{InboxStore, NewInbox, NewInboxSetup};
pub use ingest::{only, IngestOutcome, IngestRequest, IngestStore};
pub use invitations::{Invitation, InvitationStore, NewInvitation};
pub use messages::{Activity, AttachmentBlob, MessageStore, NewAttachment, NewReply, ReplyClient};
pub use outbox::{ClaimedDelivery, OutboxStore};
pub use postgres::PgStore;
pub use presence::PresenceStore;
use principals::PrincipalCache;

/// The inboxes the store remembers (see remembered.rs), by (workspace, inbox): every message
/// through the API channel and every widget request names one. Forgotten after every write to
/// an inbox's row.
type InboxCache =
    remembered::Remembered<(crate::domain::Id, crate::domain::Id), crate::domain::Inbox>;

fn inbox_cache() -> InboxCache {
    remembered::Remembered::new(principals::MAX_AGE, 10_000)
}
pub use principals::MAX_AGE as PRINCIPAL_MAX_AGE;
pub use profile::{ProfilePatch, ProfileStore};
pub use routing::{AgentRouting, Reroute, RoutingData, RoutingStore};
pub use sqlite::SqliteStore;
pub use widget::{Rating, Unverified, WidgetStore};
pub use workspaces::WorkspaceStore;

use async_trait::async_trait;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A uniqueness rule would be broken; the text says which one in the user's words.
    #[error("{0}")]
    Conflict(&'static str),
    #[error("{0}")]
    Invalid(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("the store's writer has stopped")]
    WriterGone,
}

impl StoreError {
    /// Whether the same write may simply be tried again: PostgreSQL broke a deadlock by
    /// refusing this transaction, or could not serialise it. Nothing of it was committed.
    pub fn is_transient(&self) -> bool {
        let StoreError::Database(sqlx::Error::Database(e)) = self else {
            return false;
        };
        // 40P01 deadlock_detected, 40001 serialization_failure.
        matches!(e.code().as_deref(), Some("40P01" | "40001"))
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Opens the store named by a database URL: `sqlite://path` or `postgres://…`.
pub async fn open(url: &str, options: &StoreOptions) -> Result<std::sync::Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(std::sync::Arc::new(PgStore::connect(url, options).await?))
    } else if url.starts_with("sqlite:") {
        Ok(std::sync::Arc::new(
            SqliteStore::connect(url, options).await?,
        ))
    } else {
        Err(StoreError::Invalid(format!(
            "unsupported database URL {:?}: use sqlite://PATH or postgres://…",
            redact_url(url)
        )))
    }
}

/// Drops the password from a database URL so that it can be logged or shown.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("*****"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

#[derive(Clone, Debug)]
pub struct StoreOptions {
    pub max_connections: u32,
    /// SQLite only: `full` survives power loss, `normal` only process crashes.
    pub sqlite_synchronous: String,
    /// SQLite only: the most writes folded into one commit.
    pub group_commit_max: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            max_connections: 16,
            sqlite_synchronous: "full".into(),
            group_commit_max: 256,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Page {
    /// Keyset cursor: the sort key of the last row the client saw.
    pub after: Option<(i64, i64)>,
    pub limit: i64,
}

/// The whole store: every room, so `Arc<dyn Store>` reaches every operation. The channels' and
/// services' parts are also reachable by name (`store.email()`), which keeps their callers'
/// dependency on the store visible.
#[async_trait]
pub trait Store:
    WorkspaceStore
    + AccountStore
    + InboxStore
    + ContactStore
    + IngestStore
    + ConversationStore
    + MessageStore
    + OutboxStore
    + PresenceStore
    + EventStore
    + Send
    + Sync
    + 'static
{
    fn engine(&self) -> Engine;
    /// The website chat channel's part of the store.
    fn widget(&self) -> &dyn WidgetStore;
    /// The live gateway's part of the store.
    fn gateway(&self) -> &dyn GatewayStore;
    /// The routing engine's part of the store.
    fn routing(&self) -> &dyn RoutingStore;
    /// The agents' console's part of the store.
    fn console(&self) -> &dyn ConsoleStore;
    /// Canned responses, shared and personal.
    fn canned(&self) -> &dyn CannedStore;
    /// What users set about themselves: name and email signature.
    fn profiles(&self) -> &dyn ProfileStore;
    /// The email channel's part of the store.
    fn email(&self) -> &dyn EmailStore;
    /// Tokens, passwords, disabled users and the audit log.
    fn accounts(&self) -> &dyn AccountStore;
    /// Invited users and their one-time links.
    fn invitations(&self) -> &dyn InvitationStore;
    async fn ping(&self) -> Result<()>;
}
