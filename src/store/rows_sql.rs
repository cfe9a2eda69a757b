//! Rows as stored, their conversion into domain records, and the small helpers every room's SQL
//! uses. Compiled once per engine (see sql.rs).

use sqlx::{FromRow, QueryBuilder};
use switchboard_connector_core::{ChannelKind, Identity};

use super::{Conn, Db, EngineStore};
use crate::domain::*;
use crate::store::{Engine, Result, StoreError};

pub(super) fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("unknown {what} {value:?}"))
}

pub(super) fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or(serde_json::Value::Null)
}

pub(super) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

#[derive(FromRow)]
pub(super) struct WorkspaceRow {
    pub(super) id: i64,
    pub(super) name: String,
    pub(super) created_at: i64,
}

// `invited`: a user with no password yet (see migrations/*/0013_invitations.sql).
pub(super) const USER_COLS: &str =
    "id, workspace_id, email, name, role, created_at, disabled_at, (password_hash = '') AS invited";

#[derive(FromRow)]
pub(super) struct UserRow {
    pub(super) id: i64,
    pub(super) workspace_id: i64,
    pub(super) email: String,
    pub(super) name: String,
    pub(super) role: String,
    pub(super) created_at: i64,
    pub(super) disabled_at: Option<i64>,
    pub(super) invited: bool,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<User> {
        Ok(User {
            role: Role::parse(&r.role).ok_or_else(|| corrupt("role", &r.role))?,
            id: r.id,
            workspace_id: r.workspace_id,
            email: r.email,
            name: r.name,
            created_at: r.created_at,
            disabled: r.disabled_at.is_some(),
            invited: r.invited,
        })
    }
}

pub(super) const INBOX_COLS: &str =
    "id, workspace_id, name, kind, settings, conversation_scope, created_at";

#[derive(FromRow)]
pub(super) struct InboxRow {
    pub(super) id: i64,
    pub(super) workspace_id: i64,
    pub(super) name: String,
    pub(super) kind: String,
    pub(super) settings: String,
    pub(super) conversation_scope: String,
    pub(super) created_at: i64,
}

impl TryFrom<InboxRow> for Inbox {
    type Error = StoreError;
    fn try_from(r: InboxRow) -> Result<Inbox> {
        Ok(Inbox {
            kind: ChannelKind::parse(&r.kind).ok_or_else(|| corrupt("inbox kind", &r.kind))?,
            id: r.id,
            workspace_id: r.workspace_id,
            name: r.name,
            settings: json(&r.settings),
            conversation_scope: ConversationScope::parse(&r.conversation_scope)
                .ok_or_else(|| corrupt("conversation scope", &r.conversation_scope))?,
            created_at: r.created_at,
        })
    }
}

pub(super) const CONTACT_COLS: &str =
    "id, workspace_id, name, email, phone, attributes, created_at, last_activity_at";

#[derive(FromRow)]
pub(super) struct ContactRow {
    pub(super) id: i64,
    pub(super) workspace_id: i64,
    pub(super) name: Option<String>,
    pub(super) email: Option<String>,
    pub(super) phone: Option<String>,
    pub(super) attributes: String,
    pub(super) created_at: i64,
    pub(super) last_activity_at: i64,
}

pub(super) const CONVERSATION_COLS: &str =
    "id, workspace_id, inbox_id, contact_id, status, assignee_id, \
     team_id, priority, labels, subject, created_at, last_activity_at, waiting_since, \
     first_reply_at, resolved_at, snoozed_until";

#[derive(FromRow)]
pub(super) struct ConversationRow {
    pub(super) id: i64,
    pub(super) workspace_id: i64,
    pub(super) inbox_id: i64,
    pub(super) contact_id: i64,
    pub(super) status: String,
    pub(super) assignee_id: Option<i64>,
    pub(super) team_id: Option<i64>,
    pub(super) priority: i64,
    pub(super) labels: String,
    pub(super) subject: Option<String>,
    pub(super) created_at: i64,
    pub(super) last_activity_at: i64,
    pub(super) waiting_since: Option<i64>,
    pub(super) first_reply_at: Option<i64>,
    pub(super) resolved_at: Option<i64>,
    pub(super) snoozed_until: Option<i64>,
}

impl TryFrom<ConversationRow> for Conversation {
    type Error = StoreError;
    fn try_from(r: ConversationRow) -> Result<Conversation> {
        Ok(Conversation {
            status: ConversationStatus::parse(&r.status)
                .ok_or_else(|| corrupt("conversation status", &r.status))?,
            labels: serde_json::from_str(&r.labels).unwrap_or_default(),
            id: r.id,
            workspace_id: r.workspace_id,
            inbox_id: r.inbox_id,
            contact_id: r.contact_id,
            assignee_id: r.assignee_id,
            team_id: r.team_id,
            priority: r.priority,
            subject: r.subject,
            created_at: r.created_at,
            last_activity_at: r.last_activity_at,
            waiting_since: r.waiting_since,
            first_reply_at: r.first_reply_at,
            resolved_at: r.resolved_at,
            snoozed_until: r.snoozed_until,
        })
    }
}

/// Selected `FROM messages` (not aliased): the channel is the kind of the message's own inbox.
pub(super) const MESSAGE_COLS: &str = "id, workspace_id, conversation_id, inbox_id, \
     (SELECT kind FROM inboxes WHERE inboxes.id = messages.inbox_id) AS channel, direction, \
     sender_kind, sender_id, text, html, external_id, status, error, created_at, meta";

#[derive(FromRow)]
pub(super) struct MessageRow {
    pub(super) id: i64,
    pub(super) workspace_id: i64,
    pub(super) conversation_id: i64,
    pub(super) inbox_id: i64,
    pub(super) channel: String,
    pub(super) direction: String,
    pub(super) sender_kind: String,
    pub(super) sender_id: Option<i64>,
    pub(super) text: String,
    pub(super) html: Option<String>,
    pub(super) external_id: Option<String>,
    pub(super) status: String,
    pub(super) error: Option<String>,
    pub(super) created_at: i64,
    pub(super) meta: Option<String>,
}

impl MessageRow {
    pub(super) fn into_message(self, attachments: Vec<Attachment>) -> Result<Message> {
        Ok(Message {
            direction: Direction::parse(&self.direction)
                .ok_or_else(|| corrupt("direction", &self.direction))?,
            sender_kind: SenderKind::parse(&self.sender_kind)
                .ok_or_else(|| corrupt("sender kind", &self.sender_kind))?,
            status: DeliveryStatus::parse(&self.status)
                .ok_or_else(|| corrupt("delivery status", &self.status))?,
            id: self.id,
            workspace_id: self.workspace_id,
            conversation_id: self.conversation_id,
            inbox_id: self.inbox_id,
            channel: ChannelKind::parse(&self.channel)
                .ok_or_else(|| corrupt("inbox kind", &self.channel))?,
            sender_id: self.sender_id,
            text: self.text,
            html: self.html,
            external_id: self.external_id,
            error: self.error,
            attachments,
            created_at: self.created_at,
            meta: self.meta.as_deref().map(json),
        })
    }
}

#[derive(FromRow)]
pub(super) struct AttachmentRow {
    pub(super) id: i64,
    pub(super) message_id: i64,
    pub(super) filename: String,
    pub(super) content_type: String,
    pub(super) size: i64,
    pub(super) url: Option<String>,
}

impl From<AttachmentRow> for Attachment {
    fn from(r: AttachmentRow) -> Attachment {
        Attachment {
            id: r.id,
            filename: r.filename,
            content_type: r.content_type,
            size: r.size,
            url: r.url,
        }
    }
}

#[derive(FromRow)]
pub(super) struct EventRow {
    pub(super) id: i64,
    pub(super) workspace_id: i64,
    pub(super) seq: i64,
    pub(super) kind: String,
    pub(super) inbox_id: Option<i64>,
    pub(super) conversation_id: Option<i64>,
    pub(super) payload: String,
    pub(super) created_at: i64,
}

impl TryFrom<EventRow> for Event {
    type Error = StoreError;

    fn try_from(r: EventRow) -> Result<Event> {
        Ok(Event {
            id: r.id,
            workspace_id: r.workspace_id,
            seq: r.seq,
            kind: r
                .kind
                .parse()
                .map_err(|e: crate::domain::UnknownEventKind| {
                    StoreError::Corrupt(format!("event {}: {e}", r.id))
                })?,
            inbox_id: r.inbox_id,
            conversation_id: r.conversation_id,
            payload: json(&r.payload),
            created_at: r.created_at,
        })
    }
}

pub(super) fn contact_from_row(r: ContactRow, identities: Vec<ContactIdentity>) -> Contact {
    // An address is verified when it is one of the contact's identities (the channel's own
    // key, or what a site signed); otherwise it is only what the visitor typed.
    let is_identity = |namespace: &str, value: &Option<String>| {
        value.as_deref().is_some_and(|v| {
            let wanted = match namespace {
                "email" => Identity::email(v),
                _ => Identity::phone(v),
            };
            identities
                .iter()
                .any(|i| i.namespace == namespace && i.identifier == wanted.identifier)
        })
    };
    Contact {
        email_verified: is_identity("email", &r.email),
        phone_verified: is_identity("phone", &r.phone),
        identities,
        id: r.id,
        workspace_id: r.workspace_id,
        name: r.name,
        email: r.email,
        phone: r.phone,
        attributes: json(&r.attributes),
        created_at: r.created_at,
        last_activity_at: r.last_activity_at,
    }
}

/// Restricts a query to the inboxes a principal may see (`None`: all of the workspace's).
pub(super) fn push_inbox_filter(
    q: &mut QueryBuilder<'_, Db>,
    column: &str,
    visible: Option<&[Id]>,
) {
    let Some(ids) = visible else { return };
    if ids.is_empty() {
        q.push(" AND 1 = 0");
        return;
    }
    q.push(format!(" AND {column} IN ("));
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    q.push(")");
}

/// On PostgreSQL, locks these rows of `table` (ids sorted ascending) in id order, so that
/// transactions side by side that update several of them take them in one order and cannot
/// deadlock; the update that follows then holds them. The lock is the one that update takes
/// itself (`FOR NO KEY UPDATE`), not the stronger `FOR UPDATE`, which would also wait for every
/// transaction that merely inserted a row referencing them (a reply into the conversation, a
/// conversation for the contact). One row needs no order, and SQLite's one writer takes no row
/// locks.
pub(super) async fn lock_in_id_order(
    c: &mut Conn,
    table: &'static str,
    ids: impl ExactSizeIterator<Item = Id>,
) -> Result<()> {
    if EngineStore::ENGINE != Engine::Postgres || ids.len() < 2 {
        return Ok(());
    }
    let mut q = QueryBuilder::<Db>::new(format!("SELECT id FROM {table} WHERE id IN ("));
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(id);
    }
    q.push(") ORDER BY id FOR NO KEY UPDATE");
    q.build().execute(&mut *c).await?;
    Ok(())
}
