//! Signing in and out, the caller's own profile, and personal API tokens.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{decoy_hash, new_token, verify_password, TOKEN_PREFIX_API, TOKEN_PREFIX_SESSION};
use crate::domain::{now_millis, EmailAddress, User};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, ClientIp};
use crate::http::AppState;
use crate::store::{NewToken, Principal, TokenKind};

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
        (status = 401, description = "Wrong email or password", body = ErrorBody),
        (status = 429, description = "Too many failed attempts", body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<LoginRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let account_key = format!("account:{}", body.email.trim().to_lowercase());
    let mut keys = vec![account_key.clone()];
    if let Some(ip) = ip {
        keys.push(format!("ip:{ip}"));
    }
    state
        .limiter
        .check(&keys)
        .map_err(ApiError::TooManyRequests)?;
    let credentials = match EmailAddress::parse(&body.email) {
        Ok(email) => state.store.credentials_by_email(&email).await?,
        Err(_) => None,
    };
    // Verify against a decoy when there is no such account, so timing does not tell.
    let hash = credentials
        .as_ref()
        .map_or(decoy_hash(), |c| c.password_hash.as_str())
        .to_string();
    let password = body.password;
    let matches = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let Some(credentials) = credentials.filter(|_| matches) else {
        state.limiter.failed(&keys);
        metrics::counter!("switchboard_logins_total", "result" => "failed").increment(1);
        return Err(ApiError::Unauthorized);
    };
    state.limiter.succeeded(&account_key);
    let (token, hash) = new_token(TOKEN_PREFIX_SESSION);
    let ttl = Duration::from_secs(state.settings.security.session_ttl_hours * 3600);
    state
        .store
        .create_token(NewToken {
            user_id: credentials.user.id,
            kind: TokenKind::Session,
            name: "session".into(),
            hash,
            expires_at: Some(now_millis() + ttl.as_millis() as i64),
        })
        .await?;
    metrics::counter!("switchboard_logins_total", "result" => "ok").increment(1);
    Ok(Json(TokenResponse {
        token,
        user: credentials.user,
    }))
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "The token no longer works")))]
pub async fn logout(State(state): State<AppState>, who: Principal) -> ApiResult<StatusCode> {
    state.store.delete_token(who.token_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub user: User,
    /// Inboxes the user is a member of (admins see every inbox regardless).
    pub inbox_ids: Vec<i64>,
}

#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn me(who: Principal) -> Json<Me> {
    Json(Me {
        user: who.user,
        inbox_ids: who.member_inboxes,
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiToken {
    /// What the token is for, e.g. "CRM sync".
    pub name: String,
}

#[utoipa::path(post, path = "/api/v1/tokens", tag = "auth", security(("bearer" = [])),
    request_body = NewApiToken,
    responses((status = 201, description = "A token that does not expire; shown once", body = TokenResponse)))]
pub async fn create_api_token(
    State(state): State<AppState>,
    who: Principal,
    ApiJson(body): ApiJson<NewApiToken>,
) -> ApiResult<(StatusCode, Json<TokenResponse>)> {
    let name = body.name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(ApiError::Unprocessable(
            "`name` must be 1 to 100 characters".into(),
        ));
    }
    let (token, hash) = new_token(TOKEN_PREFIX_API);
    state
        .store
        .create_token(NewToken {
            user_id: who.user.id,
            kind: TokenKind::Api,
            name: name.to_string(),
            hash,
            expires_at: None,
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(TokenResponse {
            token,
            user: who.user,
        }),
    ))
}
