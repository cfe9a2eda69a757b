//! Canned responses' SQL, compiled once per engine (see sql.rs).

use async_trait::async_trait;

use super::rows_sql::is_unique_violation;
use super::{Conn, Db, EngineStore};
use crate::domain::*;
use crate::store::{CannedPatch, CannedResponse, CannedStore, Result, StoreError};

const CANNED_COLS: &str = "id, owner_id, short_code, content, created_at";

type CannedRow = (i64, Option<i64>, String, String, i64);

fn from_row((id, owner_id, short_code, content, created_at): CannedRow) -> CannedResponse {
    CannedResponse {
        id,
        short_code,
        content,
        shared: owner_id.is_none(),
        owner_id,
        created_at,
    }
}

fn taken(e: sqlx::Error) -> StoreError {
    if is_unique_violation(&e) {
        StoreError::Conflict("a canned response with this short code exists")
    } else {
        e.into()
    }
}

async fn by_id(c: &mut Conn, workspace_id: Id, id: Id) -> Result<Option<CannedResponse>> {
    Ok(sqlx::query_as::<Db, CannedRow>(&format!(
        "SELECT {CANNED_COLS} FROM canned_responses WHERE workspace_id = $1 AND id = $2"
    ))
    .bind(workspace_id)
    .bind(id)
    .fetch_optional(&mut *c)
    .await?
    .map(from_row))
}

#[async_trait]
impl CannedStore for EngineStore {
    #[tracing::instrument(skip_all, fields(workspace = workspace_id, user = user_id))]
    async fn canned_responses(&self, workspace_id: Id, user_id: Id) -> Result<Vec<CannedResponse>> {
        let mut c = self.reader().await?;
        let rows = sqlx::query_as::<Db, CannedRow>(&format!(
            "SELECT {CANNED_COLS} FROM canned_responses \
             WHERE workspace_id = $1 AND (owner_id IS NULL OR owner_id = $2) \
             ORDER BY short_code, owner_id IS NULL, id"
        ))
        .bind(workspace_id)
        .bind(user_id)
        .fetch_all(&mut *c)
        .await?;
        Ok(rows.into_iter().map(from_row).collect())
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, canned = id))]
    async fn canned_response(&self, workspace_id: Id, id: Id) -> Result<Option<CannedResponse>> {
        let mut c = self.reader().await?;
        by_id(&mut c, workspace_id, id).await
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id))]
    async fn create_canned_response(
        &self,
        workspace_id: Id,
        owner_id: Option<Id>,
        short_code: &str,
        content: &str,
        now: Millis,
    ) -> Result<CannedResponse> {
        let (short_code, content) = (short_code.to_string(), content.to_string());
        self.write(move |c| {
            Box::pin(async move {
                let row = sqlx::query_as::<Db, CannedRow>(&format!(
                    "INSERT INTO canned_responses (workspace_id, owner_id, short_code, content, \
                     created_at) VALUES ($1, $2, $3, $4, $5) RETURNING {CANNED_COLS}"
                ))
                .bind(workspace_id)
                .bind(owner_id)
                .bind(&short_code)
                .bind(&content)
                .bind(now)
                .fetch_one(&mut *c)
                .await
                .map_err(taken)?;
                Ok(from_row(row))
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, canned = id))]
    async fn update_canned_response(
        &self,
        workspace_id: Id,
        id: Id,
        patch: CannedPatch,
    ) -> Result<CannedResponse> {
        self.write(move |c| {
            Box::pin(async move {
                let row = sqlx::query_as::<Db, CannedRow>(&format!(
                    "UPDATE canned_responses SET short_code = COALESCE($3, short_code), \
                     content = COALESCE($4, content) WHERE workspace_id = $1 AND id = $2 \
                     RETURNING {CANNED_COLS}"
                ))
                .bind(workspace_id)
                .bind(id)
                .bind(patch.short_code)
                .bind(patch.content)
                .fetch_optional(&mut *c)
                .await
                .map_err(taken)?
                .ok_or(StoreError::NotFound("canned response"))?;
                Ok(from_row(row))
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, canned = id))]
    async fn delete_canned_response(&self, workspace_id: Id, id: Id) -> Result<bool> {
        self.write(move |c| {
            Box::pin(async move {
                let done = sqlx::query::<Db>(
                    "DELETE FROM canned_responses WHERE workspace_id = $1 AND id = $2",
                )
                .bind(workspace_id)
                .bind(id)
                .execute(&mut *c)
                .await?;
                Ok(done.rows_affected() > 0)
            })
        })
        .await
    }
}
