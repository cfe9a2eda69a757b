//! The console's "test connection" for email inboxes: the IMAP and SMTP settings tried before
//! the inbox is saved, or those of a saved inbox (with changes typed since), answered with what
//! each server said. Admins only, held to the workspace's test budget, and through the same
//! address rules as every outgoing call (see email/check.rs).

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use switchboard_connector_core::ChannelKind;
use utoipa::ToSchema;

use super::visible_inbox;
use crate::domain::Id;
use crate::email::check::{self, ConnectionCheck};
use crate::email::{EmailInboxSettings, EmailSecrets};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::AppState;
use crate::store::Principal;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionCheckBody {
    /// The settings to try, as `POST /api/v1/inboxes` takes them for an email inbox. For a
    /// saved inbox, absent means its saved settings.
    #[serde(default)]
    pub email: Option<EmailInboxSettings>,
    /// Absent or empty for a saved inbox: its saved password, as long as the server and user
    /// name are the saved ones (a saved password is never sent to a server it was not saved for).
    #[serde(default)]
    pub imap_password: Option<String>,
    #[serde(default)]
    pub smtp_password: Option<String>,
}

impl ConnectionCheckBody {
    fn typed(&self) -> EmailSecrets {
        let given = |p: &Option<String>| p.clone().filter(|p| !p.is_empty());
        EmailSecrets {
            imap_password: given(&self.imap_password),
            smtp_password: given(&self.smtp_password),
        }
    }
}

/// Tries an email inbox's IMAP and SMTP settings before it is saved.
#[utoipa::path(post, path = "/api/v1/inboxes/test-connection", tag = "inboxes", security(("bearer" = [])),
    request_body = ConnectionCheckBody,
    responses(
        (status = 200, description = "What each server said (`ok` per server)", body = ConnectionCheck),
        (status = 422, description = "The settings are incomplete or too long", body = ErrorBody),
        (status = 429, description = "Too many tests in this workspace; see Retry-After", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn check_new(
    State(state): State<AppState>,
    who: Principal,
    ApiJson(body): ApiJson<ConnectionCheckBody>,
) -> ApiResult<Json<ConnectionCheck>> {
    let passwords = body.typed();
    let email = body.email.ok_or_else(|| {
        ApiError::Unprocessable("`email` names the servers to try (at least `address`)".into())
    })?;
    run(&state, &who, email, &passwords).await
}

/// Tries a saved email inbox's settings, or changes to them typed since.
#[utoipa::path(post, path = "/api/v1/inboxes/{inbox_id}/test-connection", tag = "inboxes", security(("bearer" = [])),
    params(("inbox_id" = i64, Path)), request_body = ConnectionCheckBody,
    responses(
        (status = 200, description = "What each server said (`ok` per server)", body = ConnectionCheck),
        (status = 404, body = ErrorBody),
        (status = 422, description = "Not an email inbox, or the settings are incomplete", body = ErrorBody),
        (status = 429, description = "Too many tests in this workspace; see Retry-After", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(inbox = inbox_id))]
pub async fn check_saved(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(inbox_id): ApiPath<Id>,
    ApiJson(body): ApiJson<ConnectionCheckBody>,
) -> ApiResult<Json<ConnectionCheck>> {
    let inbox = visible_inbox(&state, &who, inbox_id).await?;
    if inbox.kind != ChannelKind::Email {
        return Err(ApiError::Unprocessable(format!(
            "only email inboxes have servers to test; this one is {}",
            inbox.kind
        )));
    }
    let sealed = state
        .store
        .webhook_inbox(inbox.id)
        .await?
        .and_then(|(_, sealed)| sealed);
    let saved = EmailInboxSettings::load(&inbox, sealed.as_deref(), &state.secrets)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let typed = body.typed();
    let email = body.email.unwrap_or_else(|| saved.clone());
    let passwords = email.passwords(&typed, &saved);
    run(&state, &who, email, &passwords).await
}

async fn run(
    state: &AppState,
    who: &Principal,
    email: EmailInboxSettings,
    passwords: &EmailSecrets,
) -> ApiResult<Json<ConnectionCheck>> {
    crate::channels::email::check_lengths(&email, passwords)?;
    email
        .check()
        .map_err(|e| ApiError::Unprocessable(e.to_string()))?;
    if email.imap.is_none() && email.smtp.is_none() {
        return Err(ApiError::Unprocessable(
            "the settings name no IMAP or SMTP server to try".into(),
        ));
    }
    state.test_sends.take(who.workspace_id())?;
    let policy = state
        .settings
        .outbound
        .policy()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let email = email.with_passwords(passwords);
    Ok(Json(check::check(&email, &policy).await))
}
