//! The audit log of what owners and admins did, for owners.

use axum::extract::State;
use axum::Json;

use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{ApiQuery, PageQuery, Paged};
use crate::http::AppState;
use crate::store::{AuditEntry, Principal};

#[utoipa::path(get, path = "/api/v1/audit-log", tag = "people", security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "Newest first", body = Paged<AuditEntry>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Only owners read the audit log", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    who: Principal,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<Paged<AuditEntry>>> {
    let page = query.page()?;
    let entries = state
        .store
        .accounts()
        .audit_log(who.workspace_id(), &page)
        .await?;
    Ok(Json(Paged::new(entries, page.limit, |e| (0, e.id))))
}
