//! Canned responses: saved answers agents insert in the reply box by typing `/` and a short code.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::domain::now_millis;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::ApiJson;
use crate::http::AppState;
use crate::store::{CannedResponse, Principal};

/// Longest short code: it is typed after `/` in the reply box.
const SHORT_CODE_MAX: usize = 32;
const CONTENT_MAX: usize = 10_000;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCannedResponse {
    /// Letters, digits, `-` and `_`, typed after `/` in the reply box.
    pub short_code: String,
    pub content: String,
}

#[utoipa::path(get, path = "/api/v1/canned_responses", tag = "conversations", security(("bearer" = [])),
    responses((status = 200, description = "By short code", body = Vec<CannedResponse>)))]
pub async fn list(
    State(state): State<AppState>,
    who: Principal,
) -> ApiResult<Json<Vec<CannedResponse>>> {
    Ok(Json(
        state
            .store
            .console()
            .canned_responses(who.workspace_id())
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/canned_responses", tag = "conversations", security(("bearer" = [])),
    request_body = NewCannedResponse,
    responses((status = 201, body = CannedResponse), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    who: Principal,
    ApiJson(body): ApiJson<NewCannedResponse>,
) -> ApiResult<(StatusCode, Json<CannedResponse>)> {
    let code = body.short_code.trim();
    if code.is_empty()
        || code.chars().count() > SHORT_CODE_MAX
        || !code
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
    {
        return Err(ApiError::Unprocessable(format!(
            "`short_code` is 1 to {SHORT_CODE_MAX} letters, digits, `-` or `_`"
        )));
    }
    let content = body.content.trim();
    if content.is_empty() || content.len() > CONTENT_MAX {
        return Err(ApiError::Unprocessable(format!(
            "`content` is 1 to {CONTENT_MAX} bytes"
        )));
    }
    let created = state
        .store
        .console()
        .create_canned_response(who.workspace_id(), code, content, now_millis())
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}
