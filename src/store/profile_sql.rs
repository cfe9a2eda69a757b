//! Profiles' SQL, compiled once per engine (see sql.rs).

use async_trait::async_trait;

use super::accounts_sql::user_by_id;
use super::{Db, EngineStore};
use crate::domain::*;
use crate::store::{ProfilePatch, ProfileStore, Result, StoreError};

#[async_trait]
impl ProfileStore for EngineStore {
    #[tracing::instrument(skip_all, fields(workspace = workspace_id, user = user_id))]
    async fn email_signature(&self, workspace_id: Id, user_id: Id) -> Result<Option<String>> {
        let mut c = self.reader().await?;
        Ok(sqlx::query_scalar::<Db, Option<String>>(
            "SELECT email_signature FROM users WHERE workspace_id = $1 AND id = $2",
        )
        .bind(workspace_id)
        .bind(user_id)
        .fetch_optional(&mut *c)
        .await?
        .flatten())
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, user = user_id))]
    async fn update_profile(
        &self,
        workspace_id: Id,
        user_id: Id,
        patch: ProfilePatch,
    ) -> Result<(User, Option<String>)> {
        self.write_access(move |c| {
            Box::pin(async move {
                let (set_signature, signature) = match patch.email_signature {
                    Some(value) => (true, value),
                    None => (false, None),
                };
                let signature = sqlx::query_scalar::<Db, Option<String>>(
                    "UPDATE users SET name = COALESCE($3, name), \
                     email_signature = CASE WHEN $4 THEN $5 ELSE email_signature END \
                     WHERE workspace_id = $1 AND id = $2 RETURNING email_signature",
                )
                .bind(workspace_id)
                .bind(user_id)
                .bind(patch.name)
                .bind(set_signature)
                .bind(signature)
                .fetch_optional(&mut *c)
                .await?
                .ok_or(StoreError::NotFound("user"))?;
                let user = user_by_id(c, workspace_id, user_id)
                    .await?
                    .ok_or(StoreError::NotFound("user"))?;
                Ok((user, signature))
            })
        })
        .await
    }
}
