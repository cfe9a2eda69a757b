//! Users (owners, admins, agents) and teams of the workspace.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::hash_password;
use crate::domain::{EmailAddress, Id, Role, Team, User};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::AppState;
use crate::store::{NewUser, Principal};

#[utoipa::path(get, path = "/api/v1/users", tag = "people", security(("bearer" = [])),
    responses((status = 200, body = Vec<User>)))]
pub async fn list_users(
    State(state): State<AppState>,
    who: Principal,
) -> ApiResult<Json<Vec<User>>> {
    Ok(Json(state.store.list_users(who.workspace_id()).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    /// At least 8 characters.
    pub password: String,
}

#[utoipa::path(post, path = "/api/v1/users", tag = "people", security(("bearer" = [])),
    request_body = CreateUser,
    responses((status = 201, body = User), (status = 403, body = ErrorBody),
        (status = 409, description = "The email is taken", body = ErrorBody)))]
pub async fn create_user(
    State(state): State<AppState>,
    who: Principal,
    ApiJson(body): ApiJson<CreateUser>,
) -> ApiResult<(StatusCode, Json<User>)> {
    if body.role == Role::Owner && who.user.role != Role::Owner {
        return Err(ApiError::forbidden("only an owner can make another owner"));
    }
    let email = EmailAddress::parse(&body.email).map_err(ApiError::Unprocessable)?;
    let name = body.name.trim().to_string();
    if name.is_empty() {
        return Err(ApiError::Unprocessable("`name` must not be empty".into()));
    }
    let password = body.password;
    let password_hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(ApiError::Unprocessable)?;
    let user = state
        .store
        .create_user(NewUser {
            workspace_id: who.workspace_id(),
            email,
            name,
            role: body.role,
            password_hash,
        })
        .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

#[utoipa::path(get, path = "/api/v1/teams", tag = "people", security(("bearer" = [])),
    responses((status = 200, body = Vec<Team>)))]
pub async fn list_teams(
    State(state): State<AppState>,
    who: Principal,
) -> ApiResult<Json<Vec<Team>>> {
    Ok(Json(state.store.list_teams(who.workspace_id()).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTeam {
    pub name: String,
}

#[utoipa::path(post, path = "/api/v1/teams", tag = "people", security(("bearer" = [])),
    request_body = CreateTeam,
    responses((status = 201, body = Team), (status = 409, body = ErrorBody)))]
pub async fn create_team(
    State(state): State<AppState>,
    who: Principal,
    ApiJson(body): ApiJson<CreateTeam>,
) -> ApiResult<(StatusCode, Json<Team>)> {
    let name = body.name.trim();
    if name.is_empty() {
        return Err(ApiError::Unprocessable("`name` must not be empty".into()));
    }
    let team = state.store.create_team(who.workspace_id(), name).await?;
    Ok((StatusCode::CREATED, Json(team)))
}

#[utoipa::path(post, path = "/api/v1/teams/{team_id}/members", tag = "people", security(("bearer" = [])),
    params(("team_id" = i64, Path)), request_body = super::AddMemberBody,
    responses((status = 200, body = Team), (status = 404, body = ErrorBody)))]
pub async fn add_team_member(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(team_id): ApiPath<Id>,
    ApiJson(body): ApiJson<super::AddMemberBody>,
) -> ApiResult<Json<Team>> {
    Ok(Json(
        state
            .store
            .add_team_member(who.workspace_id(), team_id, body.user_id)
            .await?,
    ))
}
