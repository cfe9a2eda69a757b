//! Users (owners, admins, agents) and teams of the workspace.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use super::account::audit_by;
use crate::auth::hash_password;
use crate::domain::{now_millis, EmailAddress, Id, Role, Team, User};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::AppState;
use crate::store::{AuditAction, NewUser, Principal, Revoke, UserPatch};

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
        (status = 422, body = ErrorBody),
        (status = 409, description = "The email is taken", body = ErrorBody)))]
pub async fn create_user(
    State(state): State<AppState>,
    who: Principal,
    ApiJson(body): ApiJson<CreateUser>,
) -> ApiResult<(StatusCode, Json<User>)> {
    let (email, name) = new_member(&who, &body.email, &body.name, body.role)?;
    let password_hash = password_hash(body.password).await?;
    let audit = audit_by(
        &who,
        AuditAction::UserCreated,
        "user",
        None,
        serde_json::json!({"email": email.as_str(), "role": body.role}),
    );
    let user = state
        .store
        .accounts()
        .create_user_audited(
            NewUser {
                workspace_id: who.workspace_id(),
                email,
                name,
                role: body.role,
                password_hash,
            },
            audit,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// The email and name of a new member of the workspace, checked; 403 for an owner made by
/// someone who is not one.
pub(super) fn new_member(
    who: &Principal,
    email: &str,
    name: &str,
    role: Role,
) -> ApiResult<(EmailAddress, String)> {
    if role == Role::Owner && who.user.role != Role::Owner {
        return Err(ApiError::forbidden("only an owner can make another owner"));
    }
    crate::limits::text("email", email, crate::limits::EMAIL)?;
    let email = EmailAddress::parse(email).map_err(ApiError::Unprocessable)?;
    let name = name.trim().to_string();
    if name.is_empty() {
        return Err(ApiError::Unprocessable("`name` must not be empty".into()));
    }
    crate::limits::text("name", &name, crate::limits::NAME)?;
    Ok((email, name))
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
    responses((status = 201, body = Team), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_team(
    State(state): State<AppState>,
    who: Principal,
    ApiJson(body): ApiJson<CreateTeam>,
) -> ApiResult<(StatusCode, Json<Team>)> {
    let name = body.name.trim();
    if name.is_empty() {
        return Err(ApiError::Unprocessable("`name` must not be empty".into()));
    }
    crate::limits::text("name", name, crate::limits::NAME)?;
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

#[utoipa::path(patch, path = "/api/v1/teams/{team_id}", tag = "people", security(("bearer" = [])),
    params(("team_id" = i64, Path)), request_body = CreateTeam,
    responses((status = 200, body = Team), (status = 404, body = ErrorBody),
        (status = 409, description = "Another team has the name", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn rename_team(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(team_id): ApiPath<Id>,
    ApiJson(body): ApiJson<CreateTeam>,
) -> ApiResult<Json<Team>> {
    let name = body.name.trim();
    if name.is_empty() {
        return Err(ApiError::Unprocessable("`name` must not be empty".into()));
    }
    crate::limits::text("name", name, crate::limits::NAME)?;
    Ok(Json(
        state
            .store
            .rename_team(who.workspace_id(), team_id, name)
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/teams/{team_id}", tag = "people", security(("bearer" = [])),
    params(("team_id" = i64, Path)),
    responses((status = 204, description = "Deleted; its conversations stay, with no team"),
        (status = 404, body = ErrorBody)))]
pub async fn delete_team(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(team_id): ApiPath<Id>,
) -> ApiResult<StatusCode> {
    let team = state
        .store
        .get_team(who.workspace_id(), team_id)
        .await?
        .ok_or(ApiError::NotFound("team"))?;
    state.desk.delete_team(who.workspace_id(), team.id).await?;
    let entry = super::account::audit_by(
        &who,
        AuditAction::TeamDeleted,
        "team",
        Some(team.id),
        serde_json::json!({"name": team.name}),
    );
    state.store.accounts().record_audit(entry).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/teams/{team_id}/members/{user_id}", tag = "people", security(("bearer" = [])),
    params(("team_id" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 200, description = "The team without the user (also when they were not on it)", body = Team),
        (status = 404, body = ErrorBody)))]
pub async fn remove_team_member(
    State(state): State<AppState>,
    who: Principal,
    ApiPath((team_id, user_id)): ApiPath<(Id, Id)>,
) -> ApiResult<Json<Team>> {
    Ok(Json(
        state
            .store
            .remove_team_member(who.workspace_id(), team_id, user_id)
            .await?,
    ))
}

/// The user at `user_id` if the caller (an owner or admin) may manage them: 404 outside the
/// workspace; 403 for oneself (`what` says what cannot be done to oneself) and, unless the
/// caller is an owner, for owners.
pub(super) async fn manageable_user(
    state: &AppState,
    who: &Principal,
    user_id: Id,
    what: &str,
) -> ApiResult<User> {
    let target = state
        .store
        .get_user(who.workspace_id(), user_id)
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    if target.id == who.user.id {
        return Err(ApiError::Forbidden(format!("you cannot {what} yourself")));
    }
    if target.role == Role::Owner && who.user.role != Role::Owner {
        return Err(ApiError::forbidden("only an owner can manage an owner"));
    }
    Ok(target)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    pub role: Option<Role>,
    /// `true` disables the user and ends every session and API token of theirs at once.
    pub disabled: Option<bool>,
}

#[utoipa::path(patch, path = "/api/v1/users/{user_id}", tag = "people", security(("bearer" = [])),
    params(("user_id" = i64, Path)), request_body = UpdateUser,
    responses(
        (status = 200, body = User),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Agents; oneself; an owner, unless the caller is one", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update_user(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(user_id): ApiPath<Id>,
    ApiJson(body): ApiJson<UpdateUser>,
) -> ApiResult<Json<User>> {
    let target = manageable_user(&state, &who, user_id, "change or disable").await?;
    if body.role == Some(Role::Owner) && who.user.role != Role::Owner {
        return Err(ApiError::forbidden("only an owner can make another owner"));
    }
    let mut audit = Vec::new();
    if let Some(role) = body.role.filter(|r| *r != target.role) {
        audit.push(audit_by(
            &who,
            AuditAction::UserRoleChanged,
            "user",
            Some(user_id),
            serde_json::json!({"from": target.role, "to": role}),
        ));
    }
    if let Some(disabled) = body.disabled.filter(|d| *d != target.disabled) {
        let action = if disabled {
            AuditAction::UserDisabled
        } else {
            AuditAction::UserEnabled
        };
        audit.push(audit_by(
            &who,
            action,
            "user",
            Some(user_id),
            serde_json::json!({}),
        ));
    }
    let patch = UserPatch {
        role: body.role,
        disabled: body.disabled,
    };
    let user = state
        .store
        .accounts()
        .update_user(who.workspace_id(), user_id, patch, audit, now_millis())
        .await?;
    // A role or a switch-off changes what the user's open consoles may hear: now, not later.
    state.gateway.hub.recheck_user(who.workspace_id(), user_id);
    if body.disabled == Some(true) && !target.disabled {
        state
            .desk
            .agent_disabled(who.workspace_id(), user_id)
            .await?;
    }
    Ok(Json(user))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPassword {
    /// At least 8 characters.
    pub new_password: String,
}

#[utoipa::path(put, path = "/api/v1/users/{user_id}/password", tag = "people", security(("bearer" = [])),
    params(("user_id" = i64, Path)), request_body = ResetPassword,
    responses(
        (status = 204, description = "Set; every session of the user is signed out (API tokens stay)"),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Agents; oneself (use PUT /api/v1/me/password); an owner, unless the caller is one", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, description = "The password is too short", body = ErrorBody)))]
pub async fn reset_password(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(user_id): ApiPath<Id>,
    ApiJson(body): ApiJson<ResetPassword>,
) -> ApiResult<StatusCode> {
    manageable_user(&state, &who, user_id, "reset the password of").await?;
    let password_hash = password_hash(body.new_password).await?;
    let audit = audit_by(
        &who,
        AuditAction::UserPasswordReset,
        "user",
        Some(user_id),
        serde_json::json!({}),
    );
    state
        .store
        .accounts()
        .set_password(user_id, password_hash, Revoke::SessionsExcept(None), audit)
        .await?;
    state.gateway.hub.recheck_user(who.workspace_id(), user_id);
    Ok(StatusCode::NO_CONTENT)
}

/// A new password's hash, made on a blocking thread (argon2 is tens of milliseconds of CPU);
/// 422 for a password that does not fit the rules.
pub(crate) async fn password_hash(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(ApiError::Unprocessable)
}
