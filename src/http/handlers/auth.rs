//! Signing in and out, the caller's own profile, and creating personal API tokens.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::account::audit_by;
use crate::auth::{decoy_hash, new_token, verify_password, TOKEN_PREFIX_API, TOKEN_PREFIX_SESSION};
use crate::domain::{now_millis, EmailAddress, Millis, User};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, ClientIp};
use crate::http::AppState;
use crate::store::{ApiToken, AuditAction, NewToken, Principal, TokenKind};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    /// Send as `Authorization: Bearer <token>`. Shown once; only its hash is stored.
    pub token: String,
    pub user: User,
}

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 401, description = "Wrong email or password", body = ErrorBody),
        (status = 403, description = "The account is disabled", body = ErrorBody),
        (status = 415, description = "The body is not JSON", body = ErrorBody),
        (status = 422, description = "The body does not fit", body = ErrorBody),
        (status = 429, description = "Too many attempts; see the Retry-After header (seconds)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait")))))]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<LoginRequest>,
) -> ApiResult<Json<TokenResponse>> {
    // Bounded first: the limiter remembers failed emails, and the hash works on the password.
    crate::limits::text("email", &body.email, crate::limits::EMAIL)?;
    crate::limits::text("password", &body.password, crate::limits::PASSWORD)?;
    // The attempt is reserved before the (slow) hash, so concurrent guesses all count.
    let attempt = state
        .limiter
        .reserve(&body.email, ip)
        .map_err(ApiError::TooManyRequests)?;
    let credentials = match EmailAddress::parse(&body.email) {
        Ok(email) => state.store.credentials_by_email(&email).await?,
        Err(_) => None,
    };
    // Verify against a decoy when there is no such account (or it has no password yet: an
    // invitation not yet accepted), so timing does not tell.
    let hash = credentials
        .as_ref()
        .map(|c| c.password_hash.as_str())
        .filter(|h| !h.is_empty())
        .unwrap_or(decoy_hash())
        .to_string();
    let password = body.password;
    let matches = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let Some(credentials) = credentials.filter(|_| matches) else {
        attempt.failed();
        metrics::counter!("switchboard_logins_total", "result" => "failed").increment(1);
        return Err(ApiError::Unauthorized);
    };
    if credentials.user.disabled {
        // Said only to whoever knows the password: the account exists but is switched off.
        attempt.failed();
        metrics::counter!("switchboard_logins_total", "result" => "disabled").increment(1);
        return Err(ApiError::forbidden("this account is disabled"));
    }
    attempt.succeeded();
    // Kept, so that after a restart this address is still one the account signs in from.
    let (account, address) = crate::auth::LoginLimiter::keys(&body.email, ip);
    if let Err(e) = state
        .store
        .accounts()
        .remember_login_address(&account, &address, now_millis())
        .await
    {
        tracing::warn!(error = %e, "could not keep the address of a sign-in");
    }
    metrics::counter!("switchboard_logins_total", "result" => "ok").increment(1);
    Ok(Json(start_session(&state, credentials.user).await?))
}

/// A new session for `user`, who has just proven who they are.
pub(super) async fn start_session(state: &AppState, user: User) -> ApiResult<TokenResponse> {
    let (token, hash) = new_token(TOKEN_PREFIX_SESSION);
    let ttl = Duration::from_secs(state.settings.security.session_ttl_hours * 3600);
    state
        .store
        .create_token(NewToken {
            user_id: user.id,
            kind: TokenKind::Session,
            name: "session".into(),
            hash,
            expires_at: Some(now_millis() + ttl.as_millis() as i64),
        })
        .await?;
    Ok(TokenResponse { token, user })
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "The token no longer works")))]
pub async fn logout(State(state): State<AppState>, who: Principal) -> ApiResult<StatusCode> {
    state.store.delete_token(who.token_id).await?;
    state
        .gateway
        .hub
        .recheck_user(who.workspace_id(), who.user.id);
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub user: User,
    /// Inboxes the user is a member of (admins see every inbox regardless).
    pub inbox_ids: Vec<i64>,
    /// Plain text put under the user's email replies, above the inbox's signature.
    pub email_signature: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn me(State(state): State<AppState>, who: Principal) -> ApiResult<Json<Me>> {
    let email_signature = state
        .store
        .profiles()
        .email_signature(who.workspace_id(), who.user.id)
        .await?;
    Ok(Json(Me {
        user: who.user,
        inbox_ids: who.member_inboxes,
        email_signature,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiToken {
    /// What the token is for, e.g. "CRM sync".
    pub name: String,
    /// When the token stops working (Unix milliseconds, in the future). Absent: never.
    pub expires_at: Option<Millis>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedApiToken {
    /// Send as `Authorization: Bearer <token>`. Shown once; only its hash is stored.
    pub token: String,
    /// The token as listings show it.
    pub api_token: ApiToken,
    pub user: User,
}

/// Characters of a token kept in clear for listings: the kind prefix and a few random ones.
const SHOWN_PREFIX_CHARS: usize = 12;

#[utoipa::path(post, path = "/api/v1/tokens", tag = "auth", security(("bearer" = [])),
    request_body = NewApiToken,
    responses(
        (status = 201, description = "A personal API token; its secret is shown this once", body = CreatedApiToken),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, description = "A bad name or an expiry in the past", body = ErrorBody)))]
pub async fn create_api_token(
    State(state): State<AppState>,
    who: Principal,
    ApiJson(body): ApiJson<NewApiToken>,
) -> ApiResult<(StatusCode, Json<CreatedApiToken>)> {
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::Unprocessable(
            "`name` must be 1 to 100 characters".into(),
        ));
    }
    if body.expires_at.is_some_and(|at| at <= now_millis()) {
        return Err(ApiError::Unprocessable(
            "`expires_at` must be in the future".into(),
        ));
    }
    let (token, hash) = new_token(TOKEN_PREFIX_API);
    let prefix: String = token.chars().take(SHOWN_PREFIX_CHARS).collect();
    let audit = audit_by(
        &who,
        AuditAction::TokenCreated,
        "token",
        None,
        serde_json::json!({"name": name, "expires_at": body.expires_at}),
    );
    let api_token = state
        .store
        .accounts()
        .create_api_token(
            NewToken {
                user_id: who.user.id,
                kind: TokenKind::Api,
                name: name.to_string(),
                hash,
                expires_at: body.expires_at,
            },
            prefix,
            audit,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedApiToken {
            token,
            api_token,
            user: who.user,
        }),
    ))
}
