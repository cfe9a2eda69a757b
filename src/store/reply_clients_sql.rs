//! Agents' replies by client id: claiming a console's id for a send inside the transaction that
//! stores the reply, so a retry is answered with the stored message. Compiled once per engine
//! (see sql.rs).

use super::messages_sql::message_by_id;
use super::{Conn, Db};
use crate::domain::{Id, Message, Millis};
use crate::store::{ReplyClient, Result, StoreError};

/// Whether the send is new (the caller stores it and then [`settle`]s the claim) or a retry of
/// one already stored.
pub enum Claim {
    New,
    Stored(Box<Message>),
}

/// Claims `client` for this author in this conversation. A concurrent claim of the same id waits
/// on the primary key until the other transaction ends (PostgreSQL; SQLite has one writer), so
/// the losing request reads the winner's committed row and answers its message: stored once.
pub async fn claim(
    c: &mut Conn,
    workspace_id: Id,
    conversation_id: Id,
    author_id: Id,
    client: &ReplyClient,
    now: Millis,
) -> Result<Claim> {
    let claimed = sqlx::query::<Db>(
        "INSERT INTO reply_client_ids (conversation_id, author_id, client_id, workspace_id, \
         fingerprint, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (conversation_id, author_id, client_id) DO NOTHING",
    )
    .bind(conversation_id)
    .bind(author_id)
    .bind(&client.id)
    .bind(workspace_id)
    .bind(&client.fingerprint)
    .bind(now)
    .execute(&mut *c)
    .await?;
    if claimed.rows_affected() == 1 {
        return Ok(Claim::New);
    }
    let (fingerprint, message_id) = sqlx::query_as::<Db, (String, Option<i64>)>(
        "SELECT fingerprint, message_id FROM reply_client_ids \
         WHERE conversation_id = $1 AND author_id = $2 AND client_id = $3 AND workspace_id = $4",
    )
    .bind(conversation_id)
    .bind(author_id)
    .bind(&client.id)
    .bind(workspace_id)
    .fetch_one(&mut *c)
    .await?;
    if fingerprint != client.fingerprint {
        return Err(StoreError::Conflict(
            "this client_id was used for another message",
        ));
    }
    let message_id = message_id.ok_or(StoreError::Conflict("message already exists"))?;
    Ok(Claim::Stored(Box::new(message_by_id(c, message_id).await?)))
}

/// Ties a new claim to the message stored for it.
pub async fn settle(
    c: &mut Conn,
    conversation_id: Id,
    author_id: Id,
    client: &ReplyClient,
    message_id: Id,
) -> Result<()> {
    sqlx::query::<Db>(
        "UPDATE reply_client_ids SET message_id = $4 \
         WHERE conversation_id = $1 AND author_id = $2 AND client_id = $3",
    )
    .bind(conversation_id)
    .bind(author_id)
    .bind(&client.id)
    .bind(message_id)
    .execute(&mut *c)
    .await?;
    Ok(())
}
