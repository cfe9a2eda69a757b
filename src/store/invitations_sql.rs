//! Invitations' SQL, compiled once per engine (see sql.rs).

use async_trait::async_trait;

use super::accounts_sql::{insert_audit, insert_user, user_by_id};
use super::{Conn, Db, EngineStore};
use crate::domain::*;
use crate::store::{
    Invitation, InvitationStore, NewAuditEntry, NewInvitation, NewUser, Result, StoreError,
};

/// Writes the user's invitation, replacing any earlier one.
async fn put_invitation(
    c: &mut Conn,
    workspace_id: Id,
    user_id: Id,
    invitation: &NewInvitation,
) -> Result<()> {
    sqlx::query::<Db>(
        "INSERT INTO invitations (user_id, workspace_id, selector, token_hash, created_at, \
         expires_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (user_id) DO UPDATE SET selector = excluded.selector, \
         token_hash = excluded.token_hash, created_at = excluded.created_at, \
         expires_at = excluded.expires_at",
    )
    .bind(user_id)
    .bind(workspace_id)
    .bind(&invitation.selector)
    .bind(&invitation.token_hash)
    .bind(now_millis())
    .bind(invitation.expires_at)
    .execute(&mut *c)
    .await?;
    Ok(())
}

#[async_trait]
impl InvitationStore for EngineStore {
    #[tracing::instrument(skip_all, fields(workspace = user.workspace_id))]
    async fn invite_user(
        &self,
        mut user: NewUser,
        invitation: NewInvitation,
        audit: NewAuditEntry,
    ) -> Result<User> {
        user.password_hash = String::new();
        self.write(move |c| {
            Box::pin(async move {
                let user = insert_user(c, &user).await?;
                put_invitation(c, user.workspace_id, user.id, &invitation).await?;
                insert_audit(c, &audit, Some(user.id)).await?;
                Ok(user)
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, user = user_id))]
    async fn renew_invitation(
        &self,
        workspace_id: Id,
        user_id: Id,
        invitation: NewInvitation,
        audit: NewAuditEntry,
    ) -> Result<()> {
        self.write(move |c| {
            Box::pin(async move {
                let user = user_by_id(c, workspace_id, user_id)
                    .await?
                    .ok_or(StoreError::NotFound("user"))?;
                if !user.invited {
                    return Err(StoreError::Conflict(
                        "this user has already set a password: there is no invitation to send",
                    ));
                }
                put_invitation(c, workspace_id, user_id, &invitation).await?;
                insert_audit(c, &audit, Some(user_id)).await
            })
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn invitation(&self, selector: &str) -> Result<Option<Invitation>> {
        let mut c = self.reader().await?;
        let row = sqlx::query_as::<Db, (i64, i64, Vec<u8>, i64)>(
            "SELECT user_id, workspace_id, token_hash, expires_at FROM invitations \
             WHERE selector = $1",
        )
        .bind(selector)
        .fetch_optional(&mut *c)
        .await?;
        Ok(row.map(
            |(user_id, workspace_id, token_hash, expires_at)| Invitation {
                user_id,
                workspace_id,
                token_hash,
                expires_at,
            },
        ))
    }

    #[tracing::instrument(skip_all)]
    async fn accept_invitation(
        &self,
        selector: &str,
        password_hash: String,
        now: Millis,
        audit: NewAuditEntry,
    ) -> Result<Option<User>> {
        let selector = selector.to_string();
        self.write_access(move |c| {
            Box::pin(async move {
                // Deleting is what makes the link work once: of two acceptances at once, one
                // deletes the row and the other finds nothing.
                let Some((user_id, workspace_id)) = sqlx::query_as::<Db, (i64, i64)>(
                    "DELETE FROM invitations WHERE selector = $1 AND expires_at > $2 \
                     RETURNING user_id, workspace_id",
                )
                .bind(&selector)
                .bind(now)
                .fetch_optional(&mut *c)
                .await?
                else {
                    return Ok(None);
                };
                let set = sqlx::query::<Db>(
                    "UPDATE users SET password_hash = $2 \
                     WHERE id = $1 AND password_hash = '' AND disabled_at IS NULL",
                )
                .bind(user_id)
                .bind(&password_hash)
                .execute(&mut *c)
                .await?;
                if set.rows_affected() == 0 {
                    return Ok(None);
                }
                insert_audit(c, &audit, Some(user_id)).await?;
                user_by_id(c, workspace_id, user_id).await
            })
        })
        .await
    }
}
