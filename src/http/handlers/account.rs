//! What a signed-in user does to their own account: their name and email signature, list and
//! revoke personal API tokens, sign out everywhere, change their password.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::Me;
use crate::auth::verify_password;
use crate::domain::{now_millis, EmailAddress, Id};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath, ClientIp};
use crate::http::AppState;
use crate::store::{ApiToken, AuditAction, NewAuditEntry, Principal, ProfilePatch, Revoke};

/// An audit line for something `who` did to `target_kind` `target_id`.
pub(crate) fn audit_by(
    who: &Principal,
    action: AuditAction,
    target_kind: &'static str,
    target_id: Option<Id>,
    details: serde_json::Value,
) -> NewAuditEntry {
    NewAuditEntry {
        workspace_id: who.workspace_id(),
        actor: Some((who.user.id, who.user.name.clone())),
        action,
        target_kind,
        target_id,
        details,
    }
}

#[utoipa::path(get, path = "/api/v1/tokens", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's personal API tokens that have not expired, newest first; never their secrets", body = Vec<ApiToken>),
        (status = 401, body = ErrorBody)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    who: Principal,
) -> ApiResult<Json<Vec<ApiToken>>> {
    Ok(Json(
        state
            .store
            .accounts()
            .api_tokens(who.user.id, now_millis())
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/tokens/{token_id}", tag = "auth", security(("bearer" = [])),
    params(("token_id" = i64, Path, description = "One of the caller's own API tokens")),
    responses(
        (status = 204, description = "The token no longer works"),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, description = "The caller has no such API token", body = ErrorBody)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(token_id): ApiPath<Id>,
) -> ApiResult<StatusCode> {
    let audit = audit_by(
        &who,
        AuditAction::TokenRevoked,
        "token",
        Some(token_id),
        serde_json::json!({}),
    );
    let revoked = state
        .store
        .accounts()
        .revoke_api_token(who.user.id, token_id, audit)
        .await?;
    if !revoked {
        return Err(ApiError::NotFound("token"));
    }
    state
        .gateway
        .hub
        .recheck_user(who.workspace_id(), who.user.id);
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct Revoked {
    /// Sessions and API tokens that stopped working, the caller's own included.
    pub revoked: u64,
}

#[utoipa::path(post, path = "/api/v1/auth/logout-everywhere", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, description = "Every session and API token of the caller, this one included, no longer works", body = Revoked),
        (status = 401, body = ErrorBody)))]
pub async fn logout_everywhere(
    State(state): State<AppState>,
    who: Principal,
) -> ApiResult<Json<Revoked>> {
    let audit = audit_by(
        &who,
        AuditAction::UserSignedOutEverywhere,
        "user",
        Some(who.user.id),
        serde_json::json!({}),
    );
    let revoked = state
        .store
        .accounts()
        .revoke_tokens(who.user.id, Revoke::Everything, Some(audit))
        .await?;
    state
        .gateway
        .hub
        .recheck_user(who.workspace_id(), who.user.id);
    Ok(Json(Revoked { revoked }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    pub current_password: String,
    /// At least 8 characters.
    pub new_password: String,
}

#[utoipa::path(put, path = "/api/v1/me/password", tag = "auth", security(("bearer" = [])),
    request_body = ChangePassword,
    responses(
        (status = 204, description = "Changed; every other session and API token of the caller stops working, the one that asked goes on"),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "The current password is wrong (code `wrong_password`)", body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, description = "The new password is too short", body = ErrorBody),
        (status = 429, description = "Too many wrong passwords; see Retry-After", body = ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    who: Principal,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<ChangePassword>,
) -> ApiResult<StatusCode> {
    crate::limits::text(
        "current_password",
        &body.current_password,
        crate::limits::PASSWORD,
    )?;
    // A stolen session must not become a way to guess the password: same budgets as login.
    let attempt = state
        .limiter
        .reserve(&who.user.email, ip)
        .map_err(ApiError::TooManyRequests)?;
    let email = EmailAddress::parse(&who.user.email).map_err(ApiError::Internal)?;
    let stored = state
        .store
        .credentials_by_email(&email)
        .await?
        .ok_or(ApiError::Unauthorized)?
        .password_hash;
    let (current, new) = (body.current_password, body.new_password);
    let matches = tokio::task::spawn_blocking(move || verify_password(&current, &stored))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    if !matches {
        attempt.failed();
        return Err(ApiError::WrongPassword);
    }
    attempt.succeeded();
    let new_hash = super::people::password_hash(new).await?;
    let audit = audit_by(
        &who,
        AuditAction::UserPasswordChanged,
        "user",
        Some(who.user.id),
        serde_json::json!({}),
    );
    state
        .store
        .accounts()
        .set_password(
            who.user.id,
            new_hash,
            // Whoever knew the old password may have made tokens with it: only the caller's
            // own session (or token) survives, as a password manager's change flow expects.
            Revoke::AllExcept(who.token_id),
            audit,
        )
        .await?;
    state
        .gateway
        .hub
        .recheck_user(who.workspace_id(), who.user.id);
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileChange {
    /// The name customers and colleagues see, 1 to 200 characters.
    pub name: Option<String>,
    /// Plain text, at most 10,000 characters, put under the caller's email replies; an empty
    /// text removes it.
    pub email_signature: Option<String>,
}

#[utoipa::path(patch, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    request_body = ProfileChange,
    responses(
        (status = 200, description = "The caller after the change", body = Me),
        (status = 401, body = ErrorBody),
        (status = 422, description = "An empty or too long name, or a too long signature", body = ErrorBody)))]
pub async fn update_me(
    State(state): State<AppState>,
    who: Principal,
    ApiJson(body): ApiJson<ProfileChange>,
) -> ApiResult<Json<Me>> {
    let name = match body.name.as_deref().map(str::trim) {
        Some("") => return Err(ApiError::Unprocessable("`name` is empty".into())),
        Some(name) => {
            crate::limits::text("name", name, crate::limits::NAME)?;
            Some(name.to_string())
        }
        None => None,
    };
    let email_signature = match body.email_signature.as_deref().map(str::trim_end) {
        Some(s) => {
            crate::limits::text("email_signature", s, crate::limits::SIGNATURE)?;
            Some((!s.trim().is_empty()).then(|| s.to_string()))
        }
        None => None,
    };
    let (user, email_signature) = state
        .store
        .profiles()
        .update_profile(
            who.workspace_id(),
            who.user.id,
            ProfilePatch {
                name,
                email_signature,
            },
        )
        .await?;
    Ok(Json(Me {
        user,
        inbox_ids: who.member_inboxes,
        email_signature,
    }))
}
