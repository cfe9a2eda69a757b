//! The store's SQL, written once in the dialect SQLite and PostgreSQL share (`$n` parameters,
//! `RETURNING`, `ON CONFLICT`, row-value comparison) and compiled once per engine: each engine's
//! module includes this file with its own `Db` and `EngineStore`, so types stay concrete.
//!
//! Lock order inside writing transactions is always: contact row, conversation row, workspace
//! event counter last. The counter row is held only from the first event to commit, which keeps
//! event sequence numbers committing in order without serialising whole transactions.

use async_trait::async_trait;
use sqlx::{FromRow, QueryBuilder};
use switchboard_connector_core::{
    AttachmentSource, ChannelKind, Identity, InboundSender, OutboundDelivery,
};

use super::{redelivery_sql, Db, EngineStore};
use crate::domain::*;
use crate::store::redelivery::Arrival;
use crate::store::*;

type Conn = <Db as sqlx::Database>::Connection;

pub(super) fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("unknown {what} {value:?}"))
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or(serde_json::Value::Null)
}

pub(super) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

// ---------------------------------------------------------------------------------------------
// Rows as stored, and their conversion into domain records.

#[derive(FromRow)]
struct WorkspaceRow {
    id: i64,
    name: String,
    created_at: i64,
}

pub(super) const USER_COLS: &str = "id, workspace_id, email, name, role, created_at, disabled_at";

#[derive(FromRow)]
pub(super) struct UserRow {
    id: i64,
    workspace_id: i64,
    email: String,
    name: String,
    role: String,
    created_at: i64,
    disabled_at: Option<i64>,
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
        })
    }
}

pub(super) const INBOX_COLS: &str = "id, workspace_id, name, kind, settings, created_at";

#[derive(FromRow)]
pub(super) struct InboxRow {
    id: i64,
    workspace_id: i64,
    name: String,
    kind: String,
    settings: String,
    created_at: i64,
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
            created_at: r.created_at,
        })
    }
}

const CONTACT_COLS: &str =
    "id, workspace_id, name, email, phone, attributes, created_at, last_activity_at";

#[derive(FromRow)]
struct ContactRow {
    id: i64,
    workspace_id: i64,
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    attributes: String,
    created_at: i64,
    last_activity_at: i64,
}

pub(super) const CONVERSATION_COLS: &str =
    "id, workspace_id, inbox_id, contact_id, status, assignee_id, \
     team_id, priority, labels, subject, created_at, last_activity_at, waiting_since, \
     first_reply_at, resolved_at, snoozed_until";

#[derive(FromRow)]
pub(super) struct ConversationRow {
    id: i64,
    workspace_id: i64,
    inbox_id: i64,
    contact_id: i64,
    status: String,
    assignee_id: Option<i64>,
    team_id: Option<i64>,
    priority: i64,
    labels: String,
    subject: Option<String>,
    created_at: i64,
    last_activity_at: i64,
    waiting_since: Option<i64>,
    first_reply_at: Option<i64>,
    resolved_at: Option<i64>,
    snoozed_until: Option<i64>,
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

const MESSAGE_COLS: &str = "id, workspace_id, conversation_id, inbox_id, direction, sender_kind, \
     sender_id, text, html, external_id, status, error, created_at, meta";

#[derive(FromRow)]
struct MessageRow {
    id: i64,
    workspace_id: i64,
    conversation_id: i64,
    inbox_id: i64,
    direction: String,
    sender_kind: String,
    sender_id: Option<i64>,
    text: String,
    html: Option<String>,
    external_id: Option<String>,
    status: String,
    error: Option<String>,
    created_at: i64,
    meta: Option<String>,
}

impl MessageRow {
    fn into_message(self, attachments: Vec<Attachment>) -> Result<Message> {
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
struct AttachmentRow {
    id: i64,
    message_id: i64,
    filename: String,
    content_type: String,
    size: i64,
    url: Option<String>,
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
struct EventRow {
    id: i64,
    workspace_id: i64,
    seq: i64,
    kind: String,
    inbox_id: Option<i64>,
    conversation_id: Option<i64>,
    payload: String,
    created_at: i64,
}

impl From<EventRow> for Event {
    fn from(r: EventRow) -> Event {
        Event {
            id: r.id,
            workspace_id: r.workspace_id,
            seq: r.seq,
            kind: r.kind,
            inbox_id: r.inbox_id,
            conversation_id: r.conversation_id,
            payload: json(&r.payload),
            created_at: r.created_at,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Building blocks used by several operations.

pub(super) async fn user_by_id(
    c: &mut Conn,
    workspace_id: Id,
    user_id: Id,
) -> Result<Option<User>> {
    sqlx::query_as::<Db, UserRow>(&format!(
        "SELECT {USER_COLS} FROM users WHERE workspace_id = $1 AND id = $2"
    ))
    .bind(workspace_id)
    .bind(user_id)
    .fetch_optional(&mut *c)
    .await?
    .map(User::try_from)
    .transpose()
}

pub(super) async fn insert_user(c: &mut Conn, user: &NewUser) -> Result<User> {
    let row = sqlx::query_as::<Db, UserRow>(&format!(
        "INSERT INTO users (workspace_id, email, name, role, password_hash, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING {USER_COLS}"
    ))
    .bind(user.workspace_id)
    .bind(user.email.as_str())
    .bind(&user.name)
    .bind(user.role.as_str())
    .bind(&user.password_hash)
    .bind(now_millis())
    .fetch_one(&mut *c)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::Conflict("a user with this email already exists")
        } else {
            e.into()
        }
    })?;
    User::try_from(row)
}

pub(super) async fn inbox_by_id(
    c: &mut Conn,
    workspace_id: Id,
    inbox_id: Id,
) -> Result<Option<Inbox>> {
    sqlx::query_as::<Db, InboxRow>(&format!(
        "SELECT {INBOX_COLS} FROM inboxes WHERE workspace_id = $1 AND id = $2"
    ))
    .bind(workspace_id)
    .bind(inbox_id)
    .fetch_optional(&mut *c)
    .await?
    .map(Inbox::try_from)
    .transpose()
}

pub(super) async fn conversation_by_id(
    c: &mut Conn,
    workspace_id: Id,
    id: Id,
) -> Result<Option<Conversation>> {
    sqlx::query_as::<Db, ConversationRow>(&format!(
        "SELECT {CONVERSATION_COLS} FROM conversations WHERE workspace_id = $1 AND id = $2"
    ))
    .bind(workspace_id)
    .bind(id)
    .fetch_optional(&mut *c)
    .await?
    .map(Conversation::try_from)
    .transpose()
}

async fn team_member_ids(c: &mut Conn, team_id: Id) -> Result<Vec<Id>> {
    Ok(sqlx::query_scalar::<Db, i64>(
        "SELECT user_id FROM team_members WHERE team_id = $1 ORDER BY user_id",
    )
    .bind(team_id)
    .fetch_all(&mut *c)
    .await?)
}

async fn team_by_id(c: &mut Conn, workspace_id: Id, team_id: Id) -> Result<Option<Team>> {
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

async fn contacts_with_identities(c: &mut Conn, rows: Vec<ContactRow>) -> Result<Vec<Contact>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = QueryBuilder::<Db>::new(
        "SELECT contact_id, namespace, identifier FROM contact_identities WHERE contact_id IN (",
    );
    let mut ids = q.separated(", ");
    for r in &rows {
        ids.push_bind(r.id);
    }
    q.push(") ORDER BY id");
    let identities: Vec<(i64, String, String)> = q.build_query_as().fetch_all(&mut *c).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let identities: Vec<ContactIdentity> = identities
                .iter()
                .filter(|(cid, _, _)| *cid == r.id)
                .map(|(_, namespace, identifier)| ContactIdentity {
                    namespace: namespace.clone(),
                    identifier: identifier.clone(),
                })
                .collect();
            contact_from_row(r, identities)
        })
        .collect())
}

fn contact_from_row(r: ContactRow, identities: Vec<ContactIdentity>) -> Contact {
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

pub(super) async fn contact_by_id(
    c: &mut Conn,
    workspace_id: Id,
    id: Id,
) -> Result<Option<Contact>> {
    let row = sqlx::query_as::<Db, ContactRow>(&format!(
        "SELECT {CONTACT_COLS} FROM contacts WHERE workspace_id = $1 AND id = $2"
    ))
    .bind(workspace_id)
    .bind(id)
    .fetch_optional(&mut *c)
    .await?;
    Ok(contacts_with_identities(c, row.into_iter().collect())
        .await?
        .pop())
}

async fn messages_with_attachments(c: &mut Conn, rows: Vec<MessageRow>) -> Result<Vec<Message>> {
    let mut attachments: Vec<AttachmentRow> = Vec::new();
    if !rows.is_empty() {
        let mut q = QueryBuilder::<Db>::new(
            "SELECT id, message_id, filename, content_type, size, url FROM attachments \
             WHERE message_id IN (",
        );
        let mut ids = q.separated(", ");
        for r in &rows {
            ids.push_bind(r.id);
        }
        q.push(") ORDER BY id");
        attachments = q.build_query_as().fetch_all(&mut *c).await?;
    }
    rows.into_iter()
        .map(|r| {
            let mine = attachments
                .iter()
                .filter(|a| a.message_id == r.id)
                .map(|a| Attachment {
                    id: a.id,
                    filename: a.filename.clone(),
                    content_type: a.content_type.clone(),
                    size: a.size,
                    url: a.url.clone(),
                })
                .collect();
            r.into_message(mine)
        })
        .collect()
}

pub(super) async fn message_by_id(c: &mut Conn, id: Id) -> Result<Message> {
    let row = sqlx::query_as::<Db, MessageRow>(&format!(
        "SELECT {MESSAGE_COLS} FROM messages WHERE id = $1"
    ))
    .bind(id)
    .fetch_one(&mut *c)
    .await?;
    messages_with_attachments(c, vec![row])
        .await?
        .pop()
        .ok_or(StoreError::NotFound("message"))
}

/// An event waiting to be appended at the end of its transaction (see the lock order above).
pub(super) struct PendingEvent {
    pub(super) kind: &'static str,
    pub(super) inbox_id: Option<Id>,
    pub(super) conversation_id: Option<Id>,
    pub(super) payload: serde_json::Value,
}

impl PendingEvent {
    pub(super) fn conversation(kind: &'static str, conversation: &Conversation) -> Self {
        PendingEvent {
            kind,
            inbox_id: Some(conversation.inbox_id),
            conversation_id: Some(conversation.id),
            payload: serde_json::to_value(conversation).unwrap_or_default(),
        }
    }

    fn presence(presence: &Presence) -> Self {
        PendingEvent {
            kind: "presence.updated",
            inbox_id: None,
            conversation_id: None,
            payload: serde_json::to_value(presence).unwrap_or_default(),
        }
    }

    pub(super) fn message(kind: &'static str, message: &Message) -> Self {
        PendingEvent {
            kind,
            inbox_id: Some(message.inbox_id),
            conversation_id: Some(message.conversation_id),
            payload: serde_json::to_value(message).unwrap_or_default(),
        }
    }
}

pub(super) async fn append_events(
    c: &mut Conn,
    workspace_id: Id,
    pending: Vec<PendingEvent>,
    now: Millis,
) -> Result<Vec<Event>> {
    if pending.is_empty() {
        return Ok(Vec::new());
    }
    // Reserve the whole range at once: one row lock, held until commit.
    let last: i64 = sqlx::query_scalar::<Db, i64>(
        "UPDATE workspaces SET event_seq = event_seq + $2 WHERE id = $1 RETURNING event_seq",
    )
    .bind(workspace_id)
    .bind(pending.len() as i64)
    .fetch_one(&mut *c)
    .await?;
    let first = last - pending.len() as i64 + 1;
    let mut events = Vec::with_capacity(pending.len());
    for (offset, p) in pending.into_iter().enumerate() {
        let seq = first + offset as i64;
        let payload = p.payload.to_string();
        let id: i64 = sqlx::query_scalar::<Db, i64>(
            "INSERT INTO events (workspace_id, seq, kind, inbox_id, conversation_id, payload, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(workspace_id)
        .bind(seq)
        .bind(p.kind)
        .bind(p.inbox_id)
        .bind(p.conversation_id)
        .bind(&payload)
        .bind(now)
        .fetch_one(&mut *c)
        .await?;
        events.push(Event {
            id,
            workspace_id,
            seq,
            kind: p.kind.to_string(),
            inbox_id: p.inbox_id,
            conversation_id: p.conversation_id,
            payload: p.payload,
            created_at: now,
        });
    }
    Ok(events)
}

#[allow(clippy::too_many_arguments)]
async fn insert_message(
    c: &mut Conn,
    conversation: &Conversation,
    direction: Direction,
    sender_kind: SenderKind,
    sender_id: Option<Id>,
    text: &str,
    html: Option<&str>,
    external_id: Option<&str>,
    status: DeliveryStatus,
    meta: Option<&serde_json::Value>,
    now: Millis,
) -> Result<Option<Id>> {
    Ok(sqlx::query_scalar::<Db, i64>(
        "INSERT INTO messages (workspace_id, conversation_id, inbox_id, direction, sender_kind, \
         sender_id, text, html, external_id, status, created_at, meta) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (inbox_id, external_id) DO NOTHING RETURNING id",
    )
    .bind(conversation.workspace_id)
    .bind(conversation.id)
    .bind(conversation.inbox_id)
    .bind(direction.as_str())
    .bind(sender_kind.as_str())
    .bind(sender_id)
    .bind(text)
    .bind(html)
    .bind(external_id)
    .bind(status.as_str())
    .bind(now)
    .bind(meta.map(|m| m.to_string()))
    .fetch_optional(&mut *c)
    .await?)
}

async fn insert_attachment(
    c: &mut Conn,
    workspace_id: Id,
    message_id: Id,
    attachment: &NewAttachment,
    now: Millis,
) -> Result<()> {
    let size = attachment.data.as_ref().map_or(0, |d| d.len() as i64);
    sqlx::query::<Db>(
        "INSERT INTO attachments (workspace_id, message_id, filename, content_type, size, url, \
         data, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(workspace_id)
    .bind(message_id)
    .bind(&attachment.filename)
    .bind(&attachment.content_type)
    .bind(size)
    .bind(&attachment.url)
    .bind(&attachment.data)
    .bind(now)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// An activity line in the thread ("Ana resolved the conversation"), so the history tells what
/// happened and who did it.
pub(super) async fn insert_activity(
    c: &mut Conn,
    conversation: &Conversation,
    text: &str,
    now: Millis,
) -> Result<Message> {
    let id = insert_message(
        c,
        conversation,
        Direction::Activity,
        SenderKind::System,
        None,
        text,
        None,
        None,
        DeliveryStatus::Sent,
        None,
        now,
    )
    .await?
    .ok_or(StoreError::Conflict("activity message already exists"))?;
    message_by_id(c, id).await
}

/// Finds the contact known by any of these identities (strongest first), or creates one; then
/// links every identity not yet taken and fills blank details. Ends holding the contact's row
/// lock, so concurrent messages from the same person serialise from here on.
pub(super) async fn resolve_contact(
    c: &mut Conn,
    workspace_id: Id,
    sender: &InboundSender,
    now: Millis,
) -> Result<(Id, bool)> {
    let mut identities = sender.identities.clone();
    if let Some(email) = sender.email.as_deref().filter(|e| !e.trim().is_empty()) {
        identities.push(Identity::email(email));
    }
    if let Some(phone) = sender.phone.as_deref().filter(|p| !p.trim().is_empty()) {
        identities.push(Identity::phone(phone));
    }
    if identities.is_empty() {
        return Err(StoreError::Invalid(
            "the sender needs at least one identity".into(),
        ));
    }
    let mut found = None;
    for (strength, identity) in identities.iter().enumerate() {
        found = sqlx::query_scalar::<Db, i64>(
            "SELECT contact_id FROM contact_identities \
             WHERE workspace_id = $1 AND namespace = $2 AND identifier = $3",
        )
        .bind(workspace_id)
        .bind(&identity.namespace)
        .bind(&identity.identifier)
        .fetch_optional(&mut *c)
        .await?;
        if let Some(contact) = found {
            // Someone else by the channel's own key: a shared email (a site that signs what its
            // users typed, an integration's two customers) never makes two people one contact.
            if strength > 0 && holds_other(c, contact, &identities[0]).await? {
                found = None;
            }
            break;
        }
    }
    let (mut contact_id, mut created) = match found {
        Some(id) => (id, false),
        None => {
            let id = sqlx::query_scalar::<Db, i64>(
                "INSERT INTO contacts (workspace_id, name, email, phone, created_at, \
                 last_activity_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
            )
            .bind(workspace_id)
            .bind(&sender.name)
            .bind(sender.email.as_deref().map(|e| e.trim().to_lowercase()))
            .bind(&sender.phone)
            .bind(now)
            .fetch_one(&mut *c)
            .await?;
            (id, true)
        }
    };
    for identity in &identities {
        sqlx::query::<Db>(
            "INSERT INTO contact_identities (workspace_id, contact_id, namespace, identifier, \
             created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (workspace_id, namespace, identifier) DO NOTHING",
        )
        .bind(workspace_id)
        .bind(contact_id)
        .bind(&identity.namespace)
        .bind(&identity.identifier)
        .bind(now)
        .execute(&mut *c)
        .await?;
    }
    if created {
        // A concurrent first message from the same person may have won the race for the
        // primary identity; if so, theirs is the contact and ours goes away unseen.
        let owner = sqlx::query_scalar::<Db, i64>(
            "SELECT contact_id FROM contact_identities \
             WHERE workspace_id = $1 AND namespace = $2 AND identifier = $3",
        )
        .bind(workspace_id)
        .bind(&identities[0].namespace)
        .bind(&identities[0].identifier)
        .fetch_one(&mut *c)
        .await?;
        if owner != contact_id {
            sqlx::query::<Db>("DELETE FROM contact_identities WHERE contact_id = $1")
                .bind(contact_id)
                .execute(&mut *c)
                .await?;
            sqlx::query::<Db>("DELETE FROM contacts WHERE id = $1")
                .bind(contact_id)
                .execute(&mut *c)
                .await?;
            contact_id = owner;
            created = false;
        }
    }
    sqlx::query::<Db>(
        "UPDATE contacts SET name = COALESCE(name, $2), email = COALESCE(email, $3), \
         phone = COALESCE(phone, $4), last_activity_at = $5 WHERE id = $1",
    )
    .bind(contact_id)
    .bind(&sender.name)
    .bind(sender.email.as_deref().map(|e| e.trim().to_lowercase()))
    .bind(&sender.phone)
    .bind(now)
    .execute(&mut *c)
    .await?;
    Ok((contact_id, created))
}

/// The outcome for a message delivered again: the stored message, nothing new.
/// Whether `contact` has an identity in `primary`'s namespace under another identifier.
async fn holds_other(c: &mut Conn, contact: Id, primary: &Identity) -> Result<bool> {
    Ok(sqlx::query_scalar::<Db, i64>(
        "SELECT COUNT(*) FROM contact_identities \
         WHERE contact_id = $1 AND namespace = $2 AND identifier <> $3",
    )
    .bind(contact)
    .bind(&primary.namespace)
    .bind(&primary.identifier)
    .fetch_one(&mut *c)
    .await?
        > 0)
}

async fn seen_again(c: &mut Conn, workspace_id: Id, id: Id) -> Result<IngestOutcome> {
    let message = message_by_id(c, id).await?;
    let conversation = conversation_by_id(c, workspace_id, message.conversation_id)
        .await?
        .ok_or(StoreError::NotFound("conversation"))?;
    Ok(IngestOutcome {
        message,
        conversation,
        created: false,
        events: Vec::new(),
    })
}

/// The conversation `message` answers, if the channel proved one or it references a stored
/// message of the same inbox (nearest reference first).
async fn answered_conversation(
    c: &mut Conn,
    inbox_id: Id,
    message: &InboundMessage,
    sender: Id,
) -> Result<Option<Id>> {
    if let Some(hint) = message.conversation_hint {
        let found = sqlx::query_scalar::<Db, i64>(
            "SELECT id FROM conversations WHERE id = $1 AND inbox_id = $2",
        )
        .bind(hint)
        .bind(inbox_id)
        .fetch_optional(&mut *c)
        .await?;
        if found.is_some() {
            return Ok(found);
        }
    }
    for reference in message.references.iter().take(50) {
        let found = redelivery_sql::referenced_conversation(
            c,
            inbox_id,
            reference,
            message.thread_key.as_deref(),
            sender,
        )
        .await?;
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

async fn ingest(c: &mut Conn, request: IngestRequest) -> Result<IngestOutcome> {
    let IngestRequest {
        workspace_id,
        inbox_id,
        message,
        received_at: now,
    } = request;
    inbox_by_id(c, workspace_id, inbox_id)
        .await?
        .ok_or(StoreError::NotFound("inbox"))?;
    if let Arrival::Again(id) = redelivery_sql::arrival(c, inbox_id, &message).await? {
        return seen_again(c, workspace_id, id).await;
    }
    let (contact_id, contact_created) =
        resolve_contact(c, workspace_id, &message.sender, now).await?;
    // Under the contact's lock a concurrent delivery of the same message has either committed
    // (and we answer with it) or not started.
    let (external_id, shares) = match redelivery_sql::arrival(c, inbox_id, &message).await? {
        Arrival::Again(id) => return seen_again(c, workspace_id, id).await,
        Arrival::New {
            external_id,
            shares,
        } => (external_id, shares),
    };

    let mut pending = Vec::new();
    if contact_created {
        let contact = contact_by_id(c, workspace_id, contact_id)
            .await?
            .ok_or(StoreError::NotFound("contact"))?;
        pending.push(PendingEvent {
            kind: "contact.created",
            inbox_id: Some(inbox_id),
            conversation_id: None,
            payload: serde_json::to_value(&contact).unwrap_or_default(),
        });
    }

    // The conversation a message answers (proved by the channel, or named by a reference) wins
    // over the contact's open one: replies keep their thread even from another address, and
    // reopen it if it was resolved.
    let answered = answered_conversation(c, inbox_id, &message, contact_id).await?;
    let open = match answered {
        Some(id) => Some(id),
        None => {
            sqlx::query_scalar::<Db, i64>(
                "SELECT id FROM conversations WHERE inbox_id = $1 AND contact_id = $2 \
                 AND status <> 'resolved' AND ($3 IS NULL OR thread_key = $3) \
                 ORDER BY id DESC LIMIT 1",
            )
            .bind(inbox_id)
            .bind(contact_id)
            .bind(&message.thread_key)
            .fetch_optional(&mut *c)
            .await?
        }
    };
    let conversation = match open {
        Some(id) if message.automatic => {
            // An auto-reply is kept with its thread but wakes nobody up.
            sqlx::query::<Db>("UPDATE conversations SET last_activity_at = $2 WHERE id = $1")
                .bind(id)
                .bind(now)
                .execute(&mut *c)
                .await?;
            conversation_by_id(c, workspace_id, id)
                .await?
                .ok_or(StoreError::NotFound("conversation"))?
        }
        Some(id) => {
            // The customer wrote again: a snoozed or pending conversation needs an agent now.
            let before: String =
                sqlx::query_scalar::<Db, String>("SELECT status FROM conversations WHERE id = $1")
                    .bind(id)
                    .fetch_one(&mut *c)
                    .await?;
            sqlx::query::<Db>(
                "UPDATE conversations SET last_activity_at = $2, \
                 waiting_since = COALESCE(waiting_since, $2), status = 'open', \
                 snoozed_until = NULL WHERE id = $1",
            )
            .bind(id)
            .bind(now)
            .execute(&mut *c)
            .await?;
            let conversation = conversation_by_id(c, workspace_id, id)
                .await?
                .ok_or(StoreError::NotFound("conversation"))?;
            if before != "open" {
                pending.push(PendingEvent::conversation(
                    "conversation.updated",
                    &conversation,
                ));
            }
            conversation
        }
        None => {
            let id = sqlx::query_scalar::<Db, i64>(
                "INSERT INTO conversations (workspace_id, inbox_id, contact_id, status, subject, \
                 thread_key, created_at, last_activity_at, waiting_since) \
                 VALUES ($1, $2, $3, 'open', $4, $5, $6, $6, $6) RETURNING id",
            )
            .bind(workspace_id)
            .bind(inbox_id)
            .bind(contact_id)
            .bind(&message.subject)
            .bind(&message.thread_key)
            .bind(now)
            .fetch_one(&mut *c)
            .await?;
            let conversation = conversation_by_id(c, workspace_id, id)
                .await?
                .ok_or(StoreError::NotFound("conversation"))?;
            pending.push(PendingEvent::conversation(
                "conversation.created",
                &conversation,
            ));
            conversation
        }
    };

    let message_id = insert_message(
        c,
        &conversation,
        Direction::Incoming,
        SenderKind::Contact,
        Some(contact_id),
        &message.text,
        message.html.as_deref(),
        Some(&external_id),
        DeliveryStatus::Received,
        message.meta.as_ref(),
        now,
    )
    .await?
    // Only a concurrent delivery under the same external id (from a *different* sender
    // identity, or a different message reusing the id) can get here; the caller retries and
    // finds the stored message, or stores this one beside it, on the first check.
    .ok_or(StoreError::Conflict(
        "message with this external id already exists",
    ))?;
    redelivery_sql::record(
        c,
        message_id,
        message.content_key.as_deref(),
        shares.as_deref(),
    )
    .await?;
    for attachment in &message.attachments {
        let (url, data) = match &attachment.source {
            AttachmentSource::Url(url) => (Some(url.clone()), None),
            AttachmentSource::Inline(bytes) => (None, Some(bytes.clone())),
        };
        let new = NewAttachment {
            filename: attachment.filename.clone(),
            content_type: attachment.content_type.clone(),
            url,
            data,
        };
        insert_attachment(c, workspace_id, message_id, &new, now).await?;
    }
    let stored = message_by_id(c, message_id).await?;
    pending.push(PendingEvent::message("message.created", &stored));
    let events = append_events(c, workspace_id, pending, now).await?;
    Ok(IngestOutcome {
        message: stored,
        conversation,
        created: true,
        events,
    })
}

async fn post_reply(c: &mut Conn, reply: NewReply) -> Result<(Message, Vec<Event>)> {
    let now = now_millis();
    let conversation = conversation_by_id(c, reply.workspace_id, reply.conversation_id)
        .await?
        .ok_or(StoreError::NotFound("conversation"))?;
    let (direction, status) = if reply.private {
        (Direction::Note, DeliveryStatus::Sent)
    } else {
        (Direction::Outgoing, DeliveryStatus::Queued)
    };
    let id = insert_message(
        c,
        &conversation,
        direction,
        SenderKind::User,
        Some(reply.author.user_id),
        &reply.text,
        reply.html.as_deref(),
        None,
        status,
        reply.meta.as_ref(),
        now,
    )
    .await?
    .ok_or(StoreError::Conflict("message already exists"))?;
    for attachment in &reply.attachments {
        insert_attachment(c, reply.workspace_id, id, attachment, now).await?;
    }
    let mut pending = Vec::new();
    if !reply.private {
        // The delivery id is fixed now so that every retry carries the same one.
        let delivery_id = format!("sb-{}-{}", id, crate::auth::random_token(8));
        sqlx::query::<Db>(
            "INSERT INTO outbox (workspace_id, message_id, inbox_id, delivery_id, state, \
             next_attempt_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'pending', $5, $5, $5)",
        )
        .bind(reply.workspace_id)
        .bind(id)
        .bind(conversation.inbox_id)
        .bind(&delivery_id)
        .bind(now)
        .execute(&mut *c)
        .await?;
        sqlx::query::<Db>(
            "UPDATE conversations SET first_reply_at = COALESCE(first_reply_at, $2), \
             waiting_since = NULL, last_activity_at = $2 WHERE id = $1",
        )
        .bind(conversation.id)
        .bind(now)
        .execute(&mut *c)
        .await?;
        let updated = conversation_by_id(c, reply.workspace_id, conversation.id)
            .await?
            .ok_or(StoreError::NotFound("conversation"))?;
        pending.push(PendingEvent::conversation("conversation.updated", &updated));
    }
    let message = message_by_id(c, id).await?;
    pending.push(PendingEvent::message("message.created", &message));
    let events = append_events(c, reply.workspace_id, pending, now).await?;
    Ok((message, events))
}

async fn update_conversation(
    c: &mut Conn,
    workspace_id: Id,
    id: Id,
    patch: ConversationPatch,
    actor: Actor,
) -> Result<(Conversation, Vec<Event>)> {
    let now = now_millis();
    let before = conversation_by_id(c, workspace_id, id)
        .await?
        .ok_or(StoreError::NotFound("conversation"))?;
    if patch.status == Some(ConversationStatus::Snoozed) && patch.snoozed_until.is_none() {
        return Err(StoreError::Invalid("snoozing needs `snoozed_until`".into()));
    }
    let status = patch.status.unwrap_or(before.status);
    let resolved_at = match status {
        ConversationStatus::Resolved if before.status != ConversationStatus::Resolved => Some(now),
        ConversationStatus::Resolved => before.resolved_at,
        _ => None,
    };
    let snoozed_until = match status {
        ConversationStatus::Snoozed => patch.snoozed_until.or(before.snoozed_until),
        _ => None,
    };
    let labels = patch.labels.clone().unwrap_or(before.labels.clone());
    sqlx::query::<Db>(
        "UPDATE conversations SET status = $2, resolved_at = $3, snoozed_until = $4, \
         priority = $5, labels = $6, last_activity_at = $7 WHERE id = $1",
    )
    .bind(id)
    .bind(status.as_str())
    .bind(resolved_at)
    .bind(snoozed_until)
    .bind(patch.priority.unwrap_or(before.priority))
    .bind(serde_json::to_string(&labels).unwrap_or_else(|_| "[]".into()))
    .bind(now)
    .execute(&mut *c)
    .await?;
    let after = conversation_by_id(c, workspace_id, id)
        .await?
        .ok_or(StoreError::NotFound("conversation"))?;
    let mut pending = Vec::new();
    if status != before.status {
        let line = format!("{} set the conversation to {}", actor.name, status);
        let activity = insert_activity(c, &after, &line, now).await?;
        pending.push(PendingEvent::message("message.created", &activity));
    }
    pending.push(PendingEvent::conversation("conversation.updated", &after));
    let events = append_events(c, workspace_id, pending, now).await?;
    Ok((after, events))
}

async fn assign_conversation(
    c: &mut Conn,
    workspace_id: Id,
    id: Id,
    assignee_id: Option<Id>,
    team_id: Option<Id>,
    actor: Actor,
) -> Result<(Conversation, Vec<Event>)> {
    let now = now_millis();
    let before = conversation_by_id(c, workspace_id, id)
        .await?
        .ok_or(StoreError::NotFound("conversation"))?;
    let assignee = match assignee_id {
        None => None,
        Some(user_id) => {
            let user = user_by_id(c, workspace_id, user_id).await?.ok_or_else(|| {
                StoreError::Invalid(format!("no user {user_id} in this workspace"))
            })?;
            let member = sqlx::query_scalar::<Db, i64>(
                "SELECT user_id FROM inbox_members WHERE inbox_id = $1 AND user_id = $2",
            )
            .bind(before.inbox_id)
            .bind(user_id)
            .fetch_optional(&mut *c)
            .await?;
            if member.is_none() && !user.role.is_admin() {
                return Err(StoreError::Invalid(format!(
                    "{} is not a member of this conversation's inbox",
                    user.name
                )));
            }
            Some(user)
        }
    };
    if let Some(team_id) = team_id {
        team_by_id(c, workspace_id, team_id)
            .await?
            .ok_or_else(|| StoreError::Invalid(format!("no team {team_id} in this workspace")))?;
    }
    sqlx::query::<Db>(
        "UPDATE conversations SET assignee_id = $2, team_id = $3, last_activity_at = $4 \
         WHERE id = $1",
    )
    .bind(id)
    .bind(assignee_id)
    .bind(team_id)
    .bind(now)
    .execute(&mut *c)
    .await?;
    let after = conversation_by_id(c, workspace_id, id)
        .await?
        .ok_or(StoreError::NotFound("conversation"))?;
    let mut pending = Vec::new();
    if before.assignee_id != after.assignee_id {
        let line = match &assignee {
            Some(user) => format!("{} assigned the conversation to {}", actor.name, user.name),
            None => format!("{} unassigned the conversation", actor.name),
        };
        let activity = insert_activity(c, &after, &line, now).await?;
        pending.push(PendingEvent::message("message.created", &activity));
    }
    pending.push(PendingEvent::conversation("conversation.updated", &after));
    let events = append_events(c, workspace_id, pending, now).await?;
    Ok((after, events))
}

async fn claim_deliveries(
    c: &mut Conn,
    owner: &str,
    now: Millis,
    lease_ms: i64,
    limit: i64,
) -> Result<Vec<(i64, i64, i64, i64, i64, String, i64)>> {
    // The lease condition is repeated outside the sub-select so that, on PostgreSQL, a row another
    // dispatcher leased meanwhile is re-checked after its lock and skipped.
    Ok(
        sqlx::query_as::<Db, (i64, i64, i64, i64, i64, String, i64)>(
            "UPDATE outbox SET lease_owner = $1, lease_until = $2, attempts = attempts + 1, \
         updated_at = $3 \
         WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= $3 \
                      AND (lease_until IS NULL OR lease_until < $3) \
                      ORDER BY next_attempt_at, id LIMIT $4) \
           AND state = 'pending' AND (lease_until IS NULL OR lease_until < $3) \
         RETURNING id, workspace_id, message_id, inbox_id, attempts, delivery_id, created_at",
        )
        .bind(owner)
        .bind(now + lease_ms)
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *c)
        .await?,
    )
}

async fn delivery_of(
    c: &mut Conn,
    claimed: (i64, i64, i64, i64, i64, String, i64),
) -> Result<ClaimedDelivery> {
    let (outbox_id, workspace_id, message_id, inbox_id, attempts, delivery_id, created_at) =
        claimed;
    let message = message_by_id(c, message_id).await?;
    let inbox = inbox_by_id(c, workspace_id, inbox_id)
        .await?
        .ok_or(StoreError::NotFound("inbox"))?;
    let sealed_secret = sqlx::query_scalar::<Db, Option<Vec<u8>>>(
        "SELECT sealed_secret FROM inboxes WHERE id = $1",
    )
    .bind(inbox_id)
    .fetch_one(&mut *c)
    .await?;
    let conversation = conversation_by_id(c, workspace_id, message.conversation_id)
        .await?
        .ok_or(StoreError::NotFound("conversation"))?;
    let contact = contact_by_id(c, workspace_id, conversation.contact_id)
        .await?
        .ok_or(StoreError::NotFound("contact"))?;
    let sender_name = match message.sender_id {
        Some(id) => user_by_id(c, workspace_id, id).await?.map(|u| u.name),
        None => None,
    };
    let created = time::OffsetDateTime::from_unix_timestamp_nanos(created_at as i128 * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    Ok(ClaimedDelivery {
        outbox_id,
        workspace_id,
        sealed_secret,
        delivery: OutboundDelivery {
            delivery_id,
            message_id,
            conversation_id: conversation.id,
            inbox_id,
            recipient: contact
                .identities
                .iter()
                .map(|i| Identity::new(&i.namespace, &i.identifier))
                .collect(),
            recipient_name: contact.name,
            text: message.text,
            html: message.html,
            sender_name,
            attempt: attempts as u32,
            created_at: created,
            meta: message.meta,
        },
        inbox,
    })
}

/// Moves an outgoing message to `status` and says so in the event log.
async fn settle_delivery(
    c: &mut Conn,
    outbox_id: Id,
    state: &str,
    status: DeliveryStatus,
    error: Option<&str>,
    now: Millis,
) -> Result<Vec<Event>> {
    let Some((workspace_id, message_id)) = sqlx::query_as::<Db, (i64, i64)>(
        "UPDATE outbox SET state = $2, lease_owner = NULL, lease_until = NULL, last_error = $3, \
         updated_at = $4 WHERE id = $1 AND state = 'pending' \
         RETURNING workspace_id, message_id",
    )
    .bind(outbox_id)
    .bind(state)
    .bind(error)
    .bind(now)
    .fetch_optional(&mut *c)
    .await?
    else {
        // Settled already (a lease that ran out and was taken by another dispatcher).
        return Ok(Vec::new());
    };
    // Only forward from `queued`: a visitor may have read the message already.
    sqlx::query::<Db>(
        "UPDATE messages SET status = $2, error = $3 WHERE id = $1 AND status = 'queued'",
    )
    .bind(message_id)
    .bind(status.as_str())
    .bind(error)
    .execute(&mut *c)
    .await?;
    let message = message_by_id(c, message_id).await?;
    append_events(
        c,
        workspace_id,
        vec![PendingEvent::message("message.updated", &message)],
        now,
    )
    .await
}

// ---------------------------------------------------------------------------------------------

#[async_trait]
impl Store for EngineStore {
    fn engine(&self) -> Engine {
        Self::ENGINE
    }

    fn widget(&self) -> &dyn WidgetStore {
        self
    }

    fn gateway(&self) -> &dyn GatewayStore {
        self
    }

    fn routing(&self) -> &dyn RoutingStore {
        self
    }

    fn console(&self) -> &dyn ConsoleStore {
        self
    }

    fn email(&self) -> &dyn EmailStore {
        self
    }

    fn accounts(&self) -> &dyn AccountStore {
        self
    }

    fn inbox_setup(&self) -> &dyn crate::store::InboxSetupStore {
        self
    }

    async fn ping(&self) -> Result<()> {
        let mut c = self.reader().await?;
        sqlx::query::<Db>("SELECT 1").execute(&mut *c).await?;
        Ok(())
    }

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

    async fn create_user(&self, user: NewUser) -> Result<User> {
        self.write(move |c| Box::pin(async move { insert_user(c, &user).await }))
            .await
    }

    async fn get_user(&self, workspace_id: Id, user_id: Id) -> Result<Option<User>> {
        let mut c = self.reader().await?;
        user_by_id(&mut c, workspace_id, user_id).await
    }

    async fn list_users(&self, workspace_id: Id) -> Result<Vec<User>> {
        let mut c = self.reader().await?;
        sqlx::query_as::<Db, UserRow>(&format!(
            "SELECT {USER_COLS} FROM users WHERE workspace_id = $1 ORDER BY id"
        ))
        .bind(workspace_id)
        .fetch_all(&mut *c)
        .await?
        .into_iter()
        .map(User::try_from)
        .collect()
    }

    async fn credentials_by_email(&self, email: &EmailAddress) -> Result<Option<Credentials>> {
        let mut c = self.reader().await?;
        let row = sqlx::query_as::<Db, (i64, i64, String)>(
            "SELECT id, workspace_id, password_hash FROM users WHERE email = $1",
        )
        .bind(email.as_str())
        .fetch_optional(&mut *c)
        .await?;
        let Some((id, workspace_id, password_hash)) = row else {
            return Ok(None);
        };
        let user = user_by_id(&mut c, workspace_id, id)
            .await?
            .ok_or(StoreError::NotFound("user"))?;
        Ok(Some(Credentials {
            user,
            password_hash,
        }))
    }

    async fn create_token(&self, token: NewToken) -> Result<Id> {
        self.write(move |c| {
            Box::pin(async move {
                sqlx::query_scalar::<Db, i64>(
                    "INSERT INTO tokens (workspace_id, user_id, kind, name, token_hash, \
                     created_at, expires_at) \
                     SELECT workspace_id, id, $2, $3, $4, $5, $6 FROM users WHERE id = $1 \
                     RETURNING id",
                )
                .bind(token.user_id)
                .bind(token.kind.as_str())
                .bind(&token.name)
                .bind(&token.hash)
                .bind(now_millis())
                .bind(token.expires_at)
                .fetch_optional(&mut *c)
                .await?
                .ok_or(StoreError::NotFound("user"))
            })
        })
        .await
    }

    async fn principal_by_token(&self, hash: &[u8], now: Millis) -> Result<Option<Principal>> {
        let mut c = self.reader().await?;
        // Expired tokens and disabled users' tokens open nothing (disabling also deletes them;
        // this holds even for one issued in a race with the disabling).
        let row = sqlx::query_as::<Db, (i64, i64, i64, Option<i64>)>(
            "SELECT id, workspace_id, user_id, last_used_at FROM tokens \
             WHERE token_hash = $1 AND (expires_at IS NULL OR expires_at > $2)",
        )
        .bind(hash)
        .bind(now)
        .fetch_optional(&mut *c)
        .await?;
        let Some((token_id, workspace_id, user_id, token_last_used_at)) = row else {
            return Ok(None);
        };
        let Some(user) = user_by_id(&mut c, workspace_id, user_id)
            .await?
            .filter(|u| !u.disabled)
        else {
            return Ok(None);
        };
        let member_inboxes = sqlx::query_scalar::<Db, i64>(
            "SELECT inbox_id FROM inbox_members WHERE user_id = $1 ORDER BY inbox_id",
        )
        .bind(user_id)
        .fetch_all(&mut *c)
        .await?;
        Ok(Some(Principal {
            user,
            token_id,
            token_last_used_at,
            member_inboxes,
        }))
    }

    async fn delete_token(&self, token_id: Id) -> Result<()> {
        self.write(move |c| {
            Box::pin(async move {
                sqlx::query::<Db>("DELETE FROM tokens WHERE id = $1")
                    .bind(token_id)
                    .execute(&mut *c)
                    .await?;
                Ok(())
            })
        })
        .await
    }

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
                .map_err(|e| {
                    if is_unique_violation(&e) {
                        StoreError::Conflict("a team with this name already exists")
                    } else {
                        e.into()
                    }
                })?;
                team_by_id(c, workspace_id, id)
                    .await?
                    .ok_or(StoreError::NotFound("team"))
            })
        })
        .await
    }

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

    async fn get_team(&self, workspace_id: Id, team_id: Id) -> Result<Option<Team>> {
        let mut c = self.reader().await?;
        team_by_id(&mut c, workspace_id, team_id).await
    }

    async fn add_team_member(&self, workspace_id: Id, team_id: Id, user_id: Id) -> Result<Team> {
        self.write(move |c| {
            Box::pin(async move {
                team_by_id(c, workspace_id, team_id)
                    .await?
                    .ok_or(StoreError::NotFound("team"))?;
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
                team_by_id(c, workspace_id, team_id)
                    .await?
                    .ok_or(StoreError::NotFound("team"))
            })
        })
        .await
    }

    async fn create_inbox(&self, inbox: NewInbox) -> Result<Inbox> {
        self.write(move |c| {
            Box::pin(async move {
                let row = sqlx::query_as::<Db, InboxRow>(&format!(
                    "INSERT INTO inboxes (workspace_id, name, kind, settings, sealed_secret, \
                     created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING {INBOX_COLS}"
                ))
                .bind(inbox.workspace_id)
                .bind(&inbox.name)
                .bind(inbox.kind.as_str())
                .bind(inbox.settings.to_string())
                .bind(&inbox.sealed_secret)
                .bind(now_millis())
                .fetch_one(&mut *c)
                .await?;
                Inbox::try_from(row)
            })
        })
        .await
    }

    async fn get_inbox(&self, workspace_id: Id, inbox_id: Id) -> Result<Option<Inbox>> {
        let mut c = self.reader().await?;
        inbox_by_id(&mut c, workspace_id, inbox_id).await
    }

    async fn list_inboxes(&self, workspace_id: Id, visible: Option<&[Id]>) -> Result<Vec<Inbox>> {
        let mut c = self.reader().await?;
        let mut q = QueryBuilder::<Db>::new(format!(
            "SELECT {INBOX_COLS} FROM inboxes WHERE workspace_id = "
        ));
        q.push_bind(workspace_id);
        push_inbox_filter(&mut q, "id", visible);
        q.push(" ORDER BY id");
        q.build_query_as::<InboxRow>()
            .fetch_all(&mut *c)
            .await?
            .into_iter()
            .map(Inbox::try_from)
            .collect()
    }

    async fn add_inbox_member(&self, workspace_id: Id, inbox_id: Id, user_id: Id) -> Result<()> {
        self.write(move |c| {
            Box::pin(async move {
                inbox_by_id(c, workspace_id, inbox_id)
                    .await?
                    .ok_or(StoreError::NotFound("inbox"))?;
                user_by_id(c, workspace_id, user_id)
                    .await?
                    .ok_or_else(|| StoreError::Invalid(format!("no user {user_id} here")))?;
                sqlx::query::<Db>(
                    "INSERT INTO inbox_members (inbox_id, user_id) VALUES ($1, $2) \
                     ON CONFLICT (inbox_id, user_id) DO NOTHING",
                )
                .bind(inbox_id)
                .bind(user_id)
                .execute(&mut *c)
                .await?;
                Ok(())
            })
        })
        .await
    }

    async fn list_inbox_members(&self, workspace_id: Id, inbox_id: Id) -> Result<Vec<User>> {
        let mut c = self.reader().await?;
        sqlx::query_as::<Db, UserRow>(
            "SELECT u.id, u.workspace_id, u.email, u.name, u.role, u.created_at, u.disabled_at \
             FROM users u \
             JOIN inbox_members m ON m.user_id = u.id \
             WHERE u.workspace_id = $1 AND m.inbox_id = $2 ORDER BY u.id",
        )
        .bind(workspace_id)
        .bind(inbox_id)
        .fetch_all(&mut *c)
        .await?
        .into_iter()
        .map(User::try_from)
        .collect()
    }

    async fn create_contact(&self, contact: NewContact) -> Result<Contact> {
        self.write(move |c| {
            Box::pin(async move {
                let now = now_millis();
                let id = sqlx::query_scalar::<Db, i64>(
                    "INSERT INTO contacts (workspace_id, name, email, phone, attributes, \
                     created_at, last_activity_at) VALUES ($1, $2, $3, $4, $5, $6, $6) \
                     RETURNING id",
                )
                .bind(contact.workspace_id)
                .bind(&contact.name)
                .bind(&contact.email)
                .bind(&contact.phone)
                .bind(contact.attributes.to_string())
                .bind(now)
                .fetch_one(&mut *c)
                .await?;
                for identity in &contact.identities {
                    sqlx::query::<Db>(
                        "INSERT INTO contact_identities (workspace_id, contact_id, namespace, \
                         identifier, created_at) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(contact.workspace_id)
                    .bind(id)
                    .bind(&identity.namespace)
                    .bind(&identity.identifier)
                    .bind(now)
                    .execute(&mut *c)
                    .await
                    .map_err(|e| {
                        if is_unique_violation(&e) {
                            StoreError::Conflict("another contact already has this identity")
                        } else {
                            e.into()
                        }
                    })?;
                }
                let created = contact_by_id(c, contact.workspace_id, id)
                    .await?
                    .ok_or(StoreError::NotFound("contact"))?;
                append_events(
                    c,
                    contact.workspace_id,
                    vec![PendingEvent {
                        kind: "contact.created",
                        inbox_id: None,
                        conversation_id: None,
                        payload: serde_json::to_value(&created).unwrap_or_default(),
                    }],
                    now,
                )
                .await?;
                Ok(created)
            })
        })
        .await
    }

    async fn get_contact(&self, workspace_id: Id, contact_id: Id) -> Result<Option<Contact>> {
        let mut c = self.reader().await?;
        contact_by_id(&mut c, workspace_id, contact_id).await
    }

    async fn list_contacts(
        &self,
        workspace_id: Id,
        visible: Option<&[Id]>,
        page: &Page,
    ) -> Result<Vec<Contact>> {
        let mut c = self.reader().await?;
        let mut q = QueryBuilder::<Db>::new(format!(
            "SELECT {CONTACT_COLS} FROM contacts WHERE workspace_id = "
        ));
        q.push_bind(workspace_id)
            .push(" AND id > ")
            .push_bind(page.after.map_or(0, |(_, id)| id));
        if visible.is_some() {
            q.push(
                " AND EXISTS (SELECT 1 FROM conversations seen \
                 WHERE seen.contact_id = contacts.id",
            );
            push_inbox_filter(&mut q, "seen.inbox_id", visible);
            q.push(")");
        }
        q.push(" ORDER BY id LIMIT ").push_bind(page.limit);
        let rows = q.build_query_as::<ContactRow>().fetch_all(&mut *c).await?;
        contacts_with_identities(&mut c, rows).await
    }

    async fn contact_seen_in(
        &self,
        workspace_id: Id,
        contact_id: Id,
        inboxes: &[Id],
    ) -> Result<bool> {
        let mut c = self.reader().await?;
        let mut q = QueryBuilder::<Db>::new(
            "SELECT COUNT(*) FROM (SELECT 1 FROM conversations WHERE workspace_id = ",
        );
        q.push_bind(workspace_id)
            .push(" AND contact_id = ")
            .push_bind(contact_id);
        push_inbox_filter(&mut q, "inbox_id", Some(inboxes));
        q.push(" LIMIT 1) AS seen");
        let found: i64 = q.build_query_scalar().fetch_one(&mut *c).await?;
        Ok(found > 0)
    }

    #[tracing::instrument(skip_all, fields(inbox = request.inbox_id))]
    async fn ingest(&self, request: IngestRequest) -> Result<IngestOutcome> {
        self.write(move |c| Box::pin(ingest(c, request))).await
    }

    async fn list_conversations(
        &self,
        workspace_id: Id,
        filter: &ConversationFilter,
        page: &Page,
    ) -> Result<Vec<Conversation>> {
        let mut c = self.reader().await?;
        let mut q = QueryBuilder::<Db>::new(format!(
            "SELECT {CONVERSATION_COLS} FROM conversations WHERE workspace_id = "
        ));
        q.push_bind(workspace_id);
        if let Some(status) = filter.status {
            q.push(" AND status = ").push_bind(status.as_str());
        }
        match filter.assignee {
            Some(AssigneeFilter::Unassigned) => {
                q.push(" AND assignee_id IS NULL");
            }
            Some(AssigneeFilter::User(id)) => {
                q.push(" AND assignee_id = ").push_bind(id);
            }
            None => {}
        }
        if let Some(inbox_id) = filter.inbox_id {
            q.push(" AND inbox_id = ").push_bind(inbox_id);
        }
        if let Some(contact_id) = filter.contact_id {
            q.push(" AND contact_id = ").push_bind(contact_id);
        }
        if let Some(label) = &filter.label {
            // Labels are kept as a JSON array of strings: look for the quoted label, with LIKE's
            // wildcards escaped so that "50%" means itself.
            let quoted = serde_json::to_string(label).unwrap_or_default();
            let escaped = quoted
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            q.push(" AND labels LIKE ")
                .push_bind(format!("%{escaped}%"))
                .push(" ESCAPE '\\'");
        }
        push_inbox_filter(&mut q, "inbox_id", filter.visible_inboxes.as_deref());
        if let Some((at, id)) = page.after {
            q.push(" AND (last_activity_at, id) < (")
                .push_bind(at)
                .push(", ")
                .push_bind(id)
                .push(")");
        }
        q.push(" ORDER BY last_activity_at DESC, id DESC LIMIT ")
            .push_bind(page.limit);
        q.build_query_as::<ConversationRow>()
            .fetch_all(&mut *c)
            .await?
            .into_iter()
            .map(Conversation::try_from)
            .collect()
    }

    async fn get_conversation(&self, workspace_id: Id, id: Id) -> Result<Option<Conversation>> {
        let mut c = self.reader().await?;
        conversation_by_id(&mut c, workspace_id, id).await
    }

    async fn update_conversation(
        &self,
        workspace_id: Id,
        id: Id,
        patch: ConversationPatch,
        actor: Actor,
    ) -> Result<(Conversation, Vec<Event>)> {
        self.write(move |c| Box::pin(update_conversation(c, workspace_id, id, patch, actor)))
            .await
    }

    async fn assign_conversation(
        &self,
        workspace_id: Id,
        id: Id,
        assignee_id: Option<Id>,
        team_id: Option<Id>,
        actor: Actor,
    ) -> Result<(Conversation, Vec<Event>)> {
        self.write(move |c| {
            Box::pin(assign_conversation(
                c,
                workspace_id,
                id,
                assignee_id,
                team_id,
                actor,
            ))
        })
        .await
    }

    async fn list_messages(
        &self,
        workspace_id: Id,
        conversation_id: Id,
        page: &Page,
    ) -> Result<Vec<Message>> {
        let mut c = self.reader().await?;
        let rows = sqlx::query_as::<Db, MessageRow>(&format!(
            "SELECT {MESSAGE_COLS} FROM messages WHERE workspace_id = $1 \
             AND conversation_id = $2 AND id > $3 ORDER BY id LIMIT $4"
        ))
        .bind(workspace_id)
        .bind(conversation_id)
        .bind(page.after.map_or(0, |(_, id)| id))
        .bind(page.limit)
        .fetch_all(&mut *c)
        .await?;
        messages_with_attachments(&mut c, rows).await
    }

    async fn post_reply(&self, reply: NewReply) -> Result<(Message, Vec<Event>)> {
        self.write(move |c| Box::pin(post_reply(c, reply))).await
    }

    async fn get_attachment(
        &self,
        workspace_id: Id,
        attachment_id: Id,
    ) -> Result<Option<AttachmentBlob>> {
        let mut c = self.reader().await?;
        #[derive(FromRow)]
        struct Row {
            id: i64,
            message_id: i64,
            filename: String,
            content_type: String,
            size: i64,
            url: Option<String>,
            data: Option<Vec<u8>>,
            conversation_id: i64,
            inbox_id: i64,
        }
        let row = sqlx::query_as::<Db, Row>(
            "SELECT a.id, a.message_id, a.filename, a.content_type, a.size, a.url, a.data, \
             m.conversation_id, m.inbox_id FROM attachments a JOIN messages m ON m.id = a.message_id \
             WHERE a.workspace_id = $1 AND a.id = $2",
        )
        .bind(workspace_id)
        .bind(attachment_id)
        .fetch_optional(&mut *c)
        .await?;
        Ok(row.map(|r| AttachmentBlob {
            attachment: Attachment::from(AttachmentRow {
                id: r.id,
                message_id: r.message_id,
                filename: r.filename,
                content_type: r.content_type,
                size: r.size,
                url: r.url,
            }),
            conversation_id: r.conversation_id,
            inbox_id: r.inbox_id,
            data: r.data,
        }))
    }

    async fn set_presence(
        &self,
        workspace_id: Id,
        user_id: Id,
        status: PresenceStatus,
        now: Millis,
    ) -> Result<Option<Event>> {
        self.write(move |c| {
            Box::pin(async move {
                user_by_id(c, workspace_id, user_id)
                    .await?
                    .ok_or(StoreError::NotFound("user"))?;
                let before = sqlx::query_scalar::<Db, String>(
                    "SELECT status FROM agent_presence WHERE user_id = $1",
                )
                .bind(user_id)
                .fetch_optional(&mut *c)
                .await?;
                sqlx::query::<Db>(
                    "INSERT INTO agent_presence (user_id, workspace_id, status, last_seen_at, \
                     changed_at) VALUES ($1, $2, $3, $4, $4) \
                     ON CONFLICT (user_id) DO UPDATE SET status = excluded.status, \
                     last_seen_at = excluded.last_seen_at, \
                     changed_at = CASE WHEN agent_presence.status = excluded.status \
                                  THEN agent_presence.changed_at ELSE excluded.changed_at END",
                )
                .bind(user_id)
                .bind(workspace_id)
                .bind(status.as_str())
                .bind(now)
                .execute(&mut *c)
                .await?;
                if before.as_deref() == Some(status.as_str()) {
                    return Ok(None);
                }
                let presence = Presence {
                    user_id,
                    status,
                    last_seen_at: now,
                    changed_at: now,
                };
                let event = PendingEvent::presence(&presence);
                Ok(append_events(c, workspace_id, vec![event], now)
                    .await?
                    .pop())
            })
        })
        .await
    }

    async fn touch_presence(&self, user_id: Id, now: Millis) -> Result<()> {
        self.write(move |c| {
            Box::pin(async move {
                sqlx::query::<Db>("UPDATE agent_presence SET last_seen_at = $2 WHERE user_id = $1")
                    .bind(user_id)
                    .bind(now)
                    .execute(&mut *c)
                    .await?;
                Ok(())
            })
        })
        .await
    }

    async fn list_presence(&self, workspace_id: Id) -> Result<Vec<Presence>> {
        let mut c = self.reader().await?;
        sqlx::query_as::<Db, (i64, String, i64, i64)>(
            "SELECT user_id, status, last_seen_at, changed_at FROM agent_presence \
             WHERE workspace_id = $1 ORDER BY user_id",
        )
        .bind(workspace_id)
        .fetch_all(&mut *c)
        .await?
        .into_iter()
        .map(|(user_id, status, last_seen_at, changed_at)| {
            Ok(Presence {
                status: PresenceStatus::parse(&status)
                    .ok_or_else(|| corrupt("presence status", &status))?,
                user_id,
                last_seen_at,
                changed_at,
            })
        })
        .collect()
    }

    async fn expire_presence(&self, stale_before: Millis, now: Millis) -> Result<Vec<Event>> {
        self.write(move |c| {
            Box::pin(async move {
                let stale = sqlx::query_as::<Db, (i64, i64, i64)>(
                    "UPDATE agent_presence SET status = 'offline', changed_at = $2 \
                     WHERE status <> 'offline' AND last_seen_at < $1 \
                     RETURNING user_id, workspace_id, last_seen_at",
                )
                .bind(stale_before)
                .bind(now)
                .fetch_all(&mut *c)
                .await?;
                let mut events = Vec::new();
                for (user_id, workspace_id, last_seen_at) in stale {
                    let presence = Presence {
                        user_id,
                        status: PresenceStatus::Offline,
                        last_seen_at,
                        changed_at: now,
                    };
                    let event = PendingEvent::presence(&presence);
                    events.extend(append_events(c, workspace_id, vec![event], now).await?);
                }
                Ok(events)
            })
        })
        .await
    }

    async fn events_after(
        &self,
        workspace_id: Id,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<Event>> {
        let mut c = self.reader().await?;
        Ok(sqlx::query_as::<Db, EventRow>(
            "SELECT id, workspace_id, seq, kind, inbox_id, conversation_id, payload, created_at \
             FROM events WHERE workspace_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(workspace_id)
        .bind(after_seq)
        .bind(limit)
        .fetch_all(&mut *c)
        .await?
        .into_iter()
        .map(Event::from)
        .collect())
    }

    async fn claim_deliveries(
        &self,
        owner: &str,
        now: Millis,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<ClaimedDelivery>> {
        let owner = owner.to_string();
        let claimed = self
            .write(move |c| {
                Box::pin(async move { claim_deliveries(c, &owner, now, lease_ms, limit).await })
            })
            .await?;
        let mut c = self.reader().await?;
        let mut deliveries = Vec::with_capacity(claimed.len());
        for row in claimed {
            deliveries.push(delivery_of(&mut c, row).await?);
        }
        Ok(deliveries)
    }

    async fn delivery_sent(
        &self,
        outbox_id: Id,
        provider_message_id: Option<String>,
        now: Millis,
    ) -> Result<Vec<Event>> {
        self.write(move |c| {
            Box::pin(async move {
                if let Some(provider_id) = &provider_message_id {
                    // Keep the provider's id for status callbacks, unless it would clash.
                    sqlx::query::<Db>(
                        "UPDATE messages SET external_id = $2 \
                         WHERE id = (SELECT message_id FROM outbox WHERE id = $1) \
                         AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.external_id = $2 \
                           AND m.inbox_id = (SELECT inbox_id FROM outbox WHERE id = $1))",
                    )
                    .bind(outbox_id)
                    .bind(provider_id)
                    .execute(&mut *c)
                    .await?;
                }
                settle_delivery(c, outbox_id, "done", DeliveryStatus::Sent, None, now).await
            })
        })
        .await
    }

    async fn delivery_retry(
        &self,
        outbox_id: Id,
        error: &str,
        next_attempt_at: Millis,
        now: Millis,
    ) -> Result<()> {
        let error = error.to_string();
        self.write(move |c| {
            Box::pin(async move {
                sqlx::query::<Db>(
                    "UPDATE outbox SET lease_owner = NULL, lease_until = NULL, \
                     next_attempt_at = $2, last_error = $3, updated_at = $4 \
                     WHERE id = $1 AND state = 'pending'",
                )
                .bind(outbox_id)
                .bind(next_attempt_at)
                .bind(&error)
                .bind(now)
                .execute(&mut *c)
                .await?;
                Ok(())
            })
        })
        .await
    }

    async fn delivery_failed(&self, outbox_id: Id, error: &str, now: Millis) -> Result<Vec<Event>> {
        let error = error.to_string();
        self.write(move |c| {
            Box::pin(async move {
                settle_delivery(
                    c,
                    outbox_id,
                    "failed",
                    DeliveryStatus::Failed,
                    Some(&error),
                    now,
                )
                .await
            })
        })
        .await
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
