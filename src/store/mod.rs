//! The unified conversation store: one `Store` trait, two engines (SQLite embedded, PostgreSQL for
//! scale). The SQL both engines share is written once in `shared.rs` and compiled once per engine
//! with that engine's concrete types, so each is fully typed (no `sqlx::Any`) and no query is
//! written twice. What differs lives in `sqlite.rs` (a group-commit writer) and `postgres.rs`.

mod accounts;
mod console;
mod email;
mod gateway;
mod inbox_setup;
mod postgres;
mod redelivery;
mod routing;
mod sqlite;
mod widget;

use async_trait::async_trait;
use switchboard_connector_core::{ChannelKind, Identity, InboundMessage, OutboundDelivery};

use crate::domain::*;

pub use accounts::{
    AccountStore, ApiToken, AuditAction, AuditEntry, NewAuditEntry, Revoke, UserPatch,
    TOKEN_TOUCH_EVERY_MS,
};
pub use console::{CannedResponse, ConsoleStore, ConversationSummary, ViewCounts};
pub use email::{AttachmentData, EmailStore, EmailThread};
pub use gateway::{GatewayStore, ReadMarker};
pub use inbox_setup::{InboxSetupStore, NewInboxSetup};
pub use postgres::PgStore;
pub use routing::{AgentRouting, RoutingData, RoutingStore};
pub use sqlite::SqliteStore;
pub use widget::{Rating, Unverified, WidgetStore};

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
    fn as_str(self) -> &'static str {
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

pub struct NewInbox {
    pub workspace_id: Id,
    pub name: String,
    pub kind: ChannelKind,
    pub settings: serde_json::Value,
    pub sealed_secret: Option<Vec<u8>>,
}

pub struct NewContact {
    pub workspace_id: Id,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub attributes: serde_json::Value,
    pub identities: Vec<Identity>,
}

/// One inbound message on its way into the store.
pub struct IngestRequest {
    pub workspace_id: Id,
    pub inbox_id: Id,
    pub message: InboundMessage,
    pub received_at: Millis,
}

#[derive(Clone, Debug)]
pub struct IngestOutcome {
    pub message: Message,
    pub conversation: Conversation,
    /// False when this external id was already stored: the same message is answered again.
    pub created: bool,
    pub events: Vec<Event>,
}

#[derive(Clone, Debug, Default)]
pub struct Page {
    /// Keyset cursor: the sort key of the last row the client saw.
    pub after: Option<(i64, i64)>,
    pub limit: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AssigneeFilter {
    Unassigned,
    User(Id),
}

#[derive(Clone, Debug, Default)]
pub struct ConversationFilter {
    pub status: Option<ConversationStatus>,
    pub assignee: Option<AssigneeFilter>,
    pub inbox_id: Option<Id>,
    pub contact_id: Option<Id>,
    pub label: Option<String>,
    /// `None` for every inbox in the workspace, else only these.
    pub visible_inboxes: Option<Vec<Id>>,
}

#[derive(Clone, Debug, Default)]
pub struct ConversationPatch {
    pub status: Option<ConversationStatus>,
    pub snoozed_until: Option<Millis>,
    pub priority: Option<i64>,
    pub labels: Option<Vec<String>>,
}

/// Who changes something, for the activity line and the event.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user_id: Id,
    pub name: String,
}

pub struct NewAttachment {
    pub filename: String,
    pub content_type: String,
    pub url: Option<String>,
    pub data: Option<Vec<u8>>,
}

pub struct NewReply {
    pub workspace_id: Id,
    pub conversation_id: Id,
    pub author: Actor,
    pub text: String,
    pub html: Option<String>,
    /// A private note is seen by agents only and never delivered.
    pub private: bool,
    pub attachments: Vec<NewAttachment>,
    /// Channel details for the delivery (email: cc, bcc).
    pub meta: Option<serde_json::Value>,
}

pub struct AttachmentBlob {
    pub attachment: Attachment,
    pub conversation_id: Id,
    pub inbox_id: Id,
    pub data: Option<Vec<u8>>,
}

/// An outbox row the dispatcher has leased, with all it takes to hand it to a connector.
#[derive(Clone, Debug)]
pub struct ClaimedDelivery {
    pub outbox_id: Id,
    pub workspace_id: Id,
    pub inbox: Inbox,
    pub sealed_secret: Option<Vec<u8>>,
    pub delivery: OutboundDelivery,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    fn engine(&self) -> Engine;
    /// The website chat channel's part of the store.
    fn widget(&self) -> &dyn WidgetStore;
    /// The live gateway's part of the store.
    fn gateway(&self) -> &dyn GatewayStore;
    /// The routing engine's part of the store.
    fn routing(&self) -> &dyn RoutingStore;
    /// The agents' console's part of the store.
    fn console(&self) -> &dyn ConsoleStore;
    /// The email channel's part of the store.
    fn email(&self) -> &dyn EmailStore;
    /// Tokens, passwords, disabled users and the audit log.
    fn accounts(&self) -> &dyn AccountStore;
    /// Channel setup: a new inbox in one transaction, and inboxes for webhooks.
    fn inbox_setup(&self) -> &dyn InboxSetupStore;
    async fn ping(&self) -> Result<()>;

    async fn create_workspace(&self, name: &str) -> Result<Workspace>;
    async fn list_workspaces(&self) -> Result<Vec<Workspace>>;

    async fn create_user(&self, user: NewUser) -> Result<User>;
    async fn get_user(&self, workspace_id: Id, user_id: Id) -> Result<Option<User>>;
    async fn list_users(&self, workspace_id: Id) -> Result<Vec<User>>;
    async fn credentials_by_email(&self, email: &EmailAddress) -> Result<Option<Credentials>>;

    async fn create_token(&self, token: NewToken) -> Result<Id>;
    async fn principal_by_token(&self, hash: &[u8], now: Millis) -> Result<Option<Principal>>;
    async fn delete_token(&self, token_id: Id) -> Result<()>;

    async fn create_team(&self, workspace_id: Id, name: &str) -> Result<Team>;
    async fn list_teams(&self, workspace_id: Id) -> Result<Vec<Team>>;
    async fn get_team(&self, workspace_id: Id, team_id: Id) -> Result<Option<Team>>;
    async fn add_team_member(&self, workspace_id: Id, team_id: Id, user_id: Id) -> Result<Team>;

    async fn create_inbox(&self, inbox: NewInbox) -> Result<Inbox>;
    async fn get_inbox(&self, workspace_id: Id, inbox_id: Id) -> Result<Option<Inbox>>;
    async fn list_inboxes(&self, workspace_id: Id, visible: Option<&[Id]>) -> Result<Vec<Inbox>>;
    async fn add_inbox_member(&self, workspace_id: Id, inbox_id: Id, user_id: Id) -> Result<()>;
    async fn list_inbox_members(&self, workspace_id: Id, inbox_id: Id) -> Result<Vec<User>>;

    async fn create_contact(&self, contact: NewContact) -> Result<Contact>;
    async fn get_contact(&self, workspace_id: Id, contact_id: Id) -> Result<Option<Contact>>;
    /// Contacts of the workspace; with `visible` (an agent's inboxes) only those with a
    /// conversation in one of them.
    async fn list_contacts(
        &self,
        workspace_id: Id,
        visible: Option<&[Id]>,
        page: &Page,
    ) -> Result<Vec<Contact>>;
    /// Whether the contact has a conversation in one of these inboxes: how an agent who is not an
    /// admin may see a contact.
    async fn contact_seen_in(
        &self,
        workspace_id: Id,
        contact_id: Id,
        inboxes: &[Id],
    ) -> Result<bool>;

    /// Stores one inbound message in one transaction: contact by identity, conversation, message
    /// (once per inbox and external id) and events.
    async fn ingest(&self, request: IngestRequest) -> Result<IngestOutcome>;

    async fn list_conversations(
        &self,
        workspace_id: Id,
        filter: &ConversationFilter,
        page: &Page,
    ) -> Result<Vec<Conversation>>;
    async fn get_conversation(&self, workspace_id: Id, id: Id) -> Result<Option<Conversation>>;
    async fn update_conversation(
        &self,
        workspace_id: Id,
        id: Id,
        patch: ConversationPatch,
        actor: Actor,
    ) -> Result<(Conversation, Vec<Event>)>;
    async fn assign_conversation(
        &self,
        workspace_id: Id,
        id: Id,
        assignee_id: Option<Id>,
        team_id: Option<Id>,
        actor: Actor,
    ) -> Result<(Conversation, Vec<Event>)>;

    async fn list_messages(
        &self,
        workspace_id: Id,
        conversation_id: Id,
        page: &Page,
    ) -> Result<Vec<Message>>;
    /// A reply (with its outbox row, in the same transaction) or a private note.
    async fn post_reply(&self, reply: NewReply) -> Result<(Message, Vec<Event>)>;
    async fn get_attachment(
        &self,
        workspace_id: Id,
        attachment_id: Id,
    ) -> Result<Option<AttachmentBlob>>;

    /// Sets an agent's status; returns the `presence.updated` event when it changed.
    async fn set_presence(
        &self,
        workspace_id: Id,
        user_id: Id,
        status: PresenceStatus,
        now: Millis,
    ) -> Result<Option<Event>>;
    /// A heartbeat: the agent is still there (no event).
    async fn touch_presence(&self, user_id: Id, now: Millis) -> Result<()>;
    async fn list_presence(&self, workspace_id: Id) -> Result<Vec<Presence>>;
    /// Turns agents not seen since `stale_before` offline, with an event each.
    async fn expire_presence(&self, stale_before: Millis, now: Millis) -> Result<Vec<Event>>;

    async fn events_after(
        &self,
        workspace_id: Id,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<Event>>;

    /// Leases up to `limit` due deliveries for `lease_ms` to `owner`.
    async fn claim_deliveries(
        &self,
        owner: &str,
        now: Millis,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<ClaimedDelivery>>;
    async fn delivery_sent(
        &self,
        outbox_id: Id,
        provider_message_id: Option<String>,
        now: Millis,
    ) -> Result<Vec<Event>>;
    async fn delivery_retry(
        &self,
        outbox_id: Id,
        error: &str,
        next_attempt_at: Millis,
        now: Millis,
    ) -> Result<()>;
    async fn delivery_failed(&self, outbox_id: Id, error: &str, now: Millis) -> Result<Vec<Event>>;
}
