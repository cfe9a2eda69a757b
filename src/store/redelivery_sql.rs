//! SQL for messages that share an external id (see `crate::threading::redelivery` for the
//! rules), compiled once per engine (see sql.rs).

use std::collections::HashSet;

use sqlx::QueryBuilder;
use switchboard_connector_core::InboundMessage;

use super::Db;
use crate::domain::Id;
use crate::store::Result;
use crate::threading::redelivery::{self, Arrival, Referenced, Stored};

type Conn = <Db as sqlx::Database>::Connection;

/// Whether `message` is stored already, or the external id to store it under.
pub(super) async fn arrival(
    c: &mut Conn,
    inbox_id: Id,
    message: &InboundMessage,
) -> Result<Arrival> {
    let key = message.content_key.as_deref();
    let plain = sqlx::query_as::<Db, (i64, Option<String>)>(
        "SELECT id, content_key FROM messages WHERE inbox_id = $1 AND external_id = $2",
    )
    .bind(inbox_id)
    .bind(&message.external_id)
    .fetch_optional(&mut *c)
    .await?
    .map(|(id, content_key)| Stored { id, content_key });
    let variant = match (&plain, key) {
        (Some(stored), Some(key)) if redelivery::is_other(stored, Some(key)) => {
            sqlx::query_scalar::<Db, i64>(
                "SELECT id FROM messages WHERE inbox_id = $1 AND external_id = $2",
            )
            .bind(inbox_id)
            .bind(redelivery::variant_id(&message.external_id, key))
            .fetch_optional(&mut *c)
            .await?
        }
        _ => None,
    };
    Ok(redelivery::arrival(
        &message.external_id,
        key,
        plain.as_ref(),
        variant,
    ))
}

/// Which of these (inbox, external id) pairs name a stored message: one query for a batch.
pub(super) async fn stored_among<'a>(
    c: &mut Conn,
    keys: impl Iterator<Item = (Id, &'a str)>,
) -> Result<HashSet<(Id, String)>> {
    let keys: Vec<(Id, &str)> = keys.collect();
    let mut stored = HashSet::new();
    // SQLite allows 32,766 parameters a statement: a batch (128 messages) stays far below.
    for keys in keys.chunks(1_000) {
        let mut q = QueryBuilder::<Db>::new("SELECT m.inbox_id, m.external_id FROM (");
        q.push_values(keys, |mut row, &(inbox_id, external_id)| {
            row.push_bind(inbox_id).push_bind(external_id);
        });
        // A join rather than a row-value IN: SQLite's planner looks each pair up in the unique
        // index for a join, and scans the table for the IN.
        q.push(") k JOIN messages m ON m.inbox_id = k.column1 AND m.external_id = k.column2");
        let found: Vec<(i64, String)> = q.build_query_as().fetch_all(&mut *c).await?;
        stored.extend(found);
    }
    Ok(stored)
}

/// Keeps a new message's content key, and the external id it shares with another, if any.
pub(super) async fn record(
    c: &mut Conn,
    message_id: Id,
    content_key: Option<&str>,
    shares: Option<&str>,
) -> Result<()> {
    if content_key.is_none() && shares.is_none() {
        return Ok(());
    }
    sqlx::query::<Db>(
        "UPDATE messages SET content_key = $2, shared_external_id = $3 WHERE id = $1",
    )
    .bind(message_id)
    .bind(content_key)
    .bind(shares)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// The conversation of the stored message `reference` names, for a reply whose thread key is
/// `thread_key`: when several messages share the id, [`redelivery::answered`] picks.
pub(super) async fn referenced_conversation(
    c: &mut Conn,
    inbox_id: Id,
    reference: &str,
    thread_key: Option<&str>,
    sender: Id,
) -> Result<Option<Id>> {
    // Two index lookups (the unique external id, and the ids shared by later messages), not
    // an OR that a planner may turn into a scan.
    let rows = sqlx::query_as::<Db, (i64, i64, i64, Option<String>)>(
        "SELECT m.id, m.conversation_id, c.contact_id, c.thread_key FROM messages m \
         JOIN conversations c ON c.id = m.conversation_id \
         WHERE m.inbox_id = $1 AND m.external_id = $2 \
         UNION ALL \
         SELECT m.id, m.conversation_id, c.contact_id, c.thread_key FROM messages m \
         JOIN conversations c ON c.id = m.conversation_id \
         WHERE m.inbox_id = $1 AND m.shared_external_id = $2",
    )
    .bind(inbox_id)
    .bind(reference)
    .fetch_all(&mut *c)
    .await?;
    let candidates: Vec<Referenced> = rows
        .into_iter()
        .map(
            |(message_id, conversation_id, contact_id, thread_key)| Referenced {
                message_id,
                conversation_id,
                contact_id,
                thread_key,
            },
        )
        .collect();
    Ok(redelivery::answered(&candidates, thread_key, Some(sender)))
}
