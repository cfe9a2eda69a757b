//! Canned responses: saved answers agents insert in the reply box by typing `/` and a short code.
//! A shared one is the workspace's: everyone uses it, owners and admins write it. A personal one
//! is its agent's alone: to anyone else it does not exist (404, as another's API token).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::domain::{now_millis, Id};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::AppState;
use crate::limits::{CANNED_CODE, CANNED_CONTENT};
use crate::store::{CannedPatch, CannedResponse, Principal};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCannedResponse {
    /// 1 to 32 letters, digits, `-` and `_`, typed after `/` in the reply box; unique among the
    /// shared responses, or among the caller's personal ones.
    pub short_code: String,
    /// 1 to 10,000 characters.
    pub content: String,
    /// True: for everyone in the workspace (owners and admins only). False: the caller's own.
    /// Absent: shared when an owner or admin creates it (as before personal ones existed),
    /// personal otherwise.
    #[serde(default)]
    pub shared: Option<bool>,
}

/// A change to a canned response; absent fields stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CannedResponseChange {
    pub short_code: Option<String>,
    pub content: Option<String>,
}

fn short_code(raw: &str) -> ApiResult<String> {
    let code = raw.trim();
    if code.is_empty()
        || code.chars().count() > CANNED_CODE
        || !code
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
    {
        return Err(ApiError::Unprocessable(format!(
            "`short_code` is 1 to {CANNED_CODE} letters, digits, `-` or `_`"
        )));
    }
    Ok(code.to_string())
}

fn content(raw: &str) -> ApiResult<String> {
    let content = raw.trim();
    if content.is_empty() {
        return Err(ApiError::Unprocessable("`content` is empty".into()));
    }
    crate::limits::text("content", content, CANNED_CONTENT)?;
    Ok(content.to_string())
}

/// The response `id` if the caller may change it: their own personal one, or a shared one for
/// owners and admins. Another agent's personal response is not found, as it is not listed.
async fn changeable(state: &AppState, who: &Principal, id: Id) -> ApiResult<CannedResponse> {
    let canned = state
        .store
        .canned()
        .canned_response(who.workspace_id(), id)
        .await?
        .filter(|c| c.owner_id.is_none_or(|owner| owner == who.user.id))
        .ok_or(ApiError::NotFound("canned response"))?;
    if canned.shared && !who.is_admin() {
        return Err(ApiError::forbidden(
            "only owners and admins change shared canned responses",
        ));
    }
    Ok(canned)
}

#[utoipa::path(get, path = "/api/v1/canned_responses", tag = "conversations", security(("bearer" = [])),
    responses((status = 200, description = "The shared responses and the caller's personal ones, by short code", body = Vec<CannedResponse>)))]
pub async fn list(
    State(state): State<AppState>,
    who: Principal,
) -> ApiResult<Json<Vec<CannedResponse>>> {
    Ok(Json(
        state
            .store
            .canned()
            .canned_responses(who.workspace_id(), who.user.id)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/canned_responses", tag = "conversations", security(("bearer" = [])),
    request_body = NewCannedResponse,
    responses((status = 201, body = CannedResponse),
        (status = 403, description = "A shared response, and the caller is not an owner or admin", body = ErrorBody),
        (status = 409, description = "The short code is taken in that scope", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    who: Principal,
    ApiJson(body): ApiJson<NewCannedResponse>,
) -> ApiResult<(StatusCode, Json<CannedResponse>)> {
    let shared = body.shared.unwrap_or(who.is_admin());
    if shared && !who.is_admin() {
        return Err(ApiError::forbidden(
            "only owners and admins write shared canned responses",
        ));
    }
    let (code, content) = (short_code(&body.short_code)?, content(&body.content)?);
    let owner = (!shared).then_some(who.user.id);
    let created = state
        .store
        .canned()
        .create_canned_response(who.workspace_id(), owner, &code, &content, now_millis())
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(patch, path = "/api/v1/canned_responses/{canned_response_id}", tag = "conversations", security(("bearer" = [])),
    params(("canned_response_id" = i64, Path, description = "The caller's personal response, or a shared one")),
    request_body = CannedResponseChange,
    responses((status = 200, body = CannedResponse),
        (status = 403, description = "A shared response, and the caller is not an owner or admin", body = ErrorBody),
        (status = 404, description = "No such response, or another agent's personal one", body = ErrorBody),
        (status = 409, description = "The short code is taken in that scope", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<Id>,
    ApiJson(body): ApiJson<CannedResponseChange>,
) -> ApiResult<Json<CannedResponse>> {
    changeable(&state, &who, id).await?;
    let patch = CannedPatch {
        short_code: body.short_code.as_deref().map(short_code).transpose()?,
        content: body.content.as_deref().map(content).transpose()?,
    };
    Ok(Json(
        state
            .store
            .canned()
            .update_canned_response(who.workspace_id(), id, patch)
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/canned_responses/{canned_response_id}", tag = "conversations", security(("bearer" = [])),
    params(("canned_response_id" = i64, Path, description = "The caller's personal response, or a shared one")),
    responses((status = 204, description = "Deleted"),
        (status = 403, description = "A shared response, and the caller is not an owner or admin", body = ErrorBody),
        (status = 404, description = "No such response, or another agent's personal one", body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<Id>,
) -> ApiResult<StatusCode> {
    changeable(&state, &who, id).await?;
    if !state
        .store
        .canned()
        .delete_canned_response(who.workspace_id(), id)
        .await?
    {
        return Err(ApiError::NotFound("canned response"));
    }
    Ok(StatusCode::NO_CONTENT)
}
