//! The event log's SQL: events appended in the transaction of the change they tell about, and
//! read back by consoles that catch up. Compiled once per engine (see sql.rs).
//!
//! The workspace's event counter is the last lock a writing transaction takes (see sql.rs), held
//! from the first event to commit, which keeps sequence numbers committing in order without
//! serialising whole transactions.

use async_trait::async_trait;

use super::rows_sql::EventRow;
use super::{Conn, Db, EngineStore};
use crate::domain::*;
use crate::store::{EventStore, Result};

/// An event waiting to be appended at the end of its transaction (see the lock order above).
pub(super) struct PendingEvent {
    pub(super) kind: EventKind,
    pub(super) inbox_id: Option<Id>,
    pub(super) conversation_id: Option<Id>,
    pub(super) payload: serde_json::Value,
}

impl PendingEvent {
    pub(super) fn conversation(kind: EventKind, conversation: &Conversation) -> Self {
        PendingEvent {
            kind,
            inbox_id: Some(conversation.inbox_id),
            conversation_id: Some(conversation.id),
            payload: serde_json::to_value(conversation).unwrap_or_default(),
        }
    }

    pub(super) fn presence(presence: &Presence) -> Self {
        PendingEvent {
            kind: EventKind::PresenceUpdated,
            inbox_id: None,
            conversation_id: None,
            payload: serde_json::to_value(presence).unwrap_or_default(),
        }
    }

    /// `inbox.updated`: news about the inbox itself (`payload` says what changed), heard by
    /// whoever sees the inbox.
    pub(super) fn inbox(inbox_id: Id, payload: serde_json::Value) -> Self {
        PendingEvent {
            kind: EventKind::InboxUpdated,
            inbox_id: Some(inbox_id),
            conversation_id: None,
            payload,
        }
    }

    pub(super) fn message(kind: EventKind, message: &Message) -> Self {
        PendingEvent {
            kind,
            inbox_id: Some(message.inbox_id),
            conversation_id: Some(message.conversation_id),
            payload: serde_json::to_value(message).unwrap_or_default(),
        }
    }
}

/// Appends one event, for a change that tells of itself alone.
pub(super) async fn append_event(
    c: &mut Conn,
    workspace_id: Id,
    pending: PendingEvent,
    now: Millis,
) -> Result<Event> {
    append_events(c, workspace_id, vec![pending], now)
        .await?
        .pop()
        .ok_or_else(|| crate::store::StoreError::Corrupt("no event appended".into()))
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
        // An event about a conversation is seen by whoever sees the conversation's inbox, also
        // when the message it tells of came through another one (a conversation across
        // channels): the agents of that other inbox must not hear of it, those of this one must.
        let (id, inbox_id) = sqlx::query_as::<Db, (i64, Option<i64>)>(
            "INSERT INTO events (workspace_id, seq, kind, inbox_id, conversation_id, payload, \
             created_at) VALUES ($1, $2, $3, \
             COALESCE((SELECT inbox_id FROM conversations WHERE id = $5), $4), $5, $6, $7) \
             RETURNING id, inbox_id",
        )
        .bind(workspace_id)
        .bind(seq)
        .bind(p.kind.as_str())
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
            kind: p.kind,
            inbox_id,
            conversation_id: p.conversation_id,
            payload: p.payload,
            created_at: now,
        });
    }
    Ok(events)
}

#[async_trait]
impl EventStore for EngineStore {
    #[tracing::instrument(level = "debug", skip_all, fields(workspace = workspace_id))]
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
        // One corrupt row must not stop every console's replay: it is logged and left out.
        .filter_map(|row| {
            Event::try_from(row)
                .inspect_err(|e| tracing::error!(error = %e, "event skipped"))
                .ok()
        })
        .collect())
    }
}
