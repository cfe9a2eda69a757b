//! `POST /hooks/telegram/{inbox_id}`: an update Telegram delivers, proven by the secret token
//! the hub gave `setWebhook`. Answered 200 only once it is stored: Telegram repeats anything
//! else, and the repeat is the same message.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use switchboard_connector_core::ChannelKind;
use switchboard_connector_telegram::api::Update;
use switchboard_connector_telegram::SECRET_TOKEN_HEADER;

use super::{bot_api, updates, TelegramSecrets};
use crate::channels::hooks::{self, HookError};
use crate::channels::ChannelContext;
use crate::domain::Id;
use crate::edge::extract::ApiPath;

/// Telegram's webhook for a Telegram inbox (set by the hub with `setWebhook`).
#[utoipa::path(post, path = "/hooks/telegram/{inbox_id}", tag = "inboxes",
    params(("inbox_id" = i64, Path),
           ("X-Telegram-Bot-Api-Secret-Token" = String, Header,
            description = "The secret token the hub gave setWebhook")),
    request_body(content = Object, description = "A Telegram Bot API Update"),
    responses(
        (status = 200, description = "Stored (or already stored, or nothing to store)"),
        (status = 401, description = "The secret token is missing or wrong: nothing stored", body = crate::edge::error::ErrorBody),
        (status = 500, description = "Not stored; Telegram delivers it again", body = crate::edge::error::ErrorBody)))]
#[tracing::instrument(skip_all, fields(inbox = inbox_id))]
pub async fn receive_update(
    State(ctx): State<ChannelContext>,
    ApiPath(inbox_id): ApiPath<Id>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<serde_json::Value>, HookError> {
    let hook =
        hooks::webhook_inbox::<TelegramSecrets>(&ctx, inbox_id, ChannelKind::Telegram).await?;
    let given = headers
        .get(SECRET_TOKEN_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if !hooks::same_secret(hook.secrets.secret_token.as_bytes(), given) {
        return Err(HookError::Unauthorized);
    }
    let update: Update = serde_json::from_slice(&body)
        .map_err(|e| HookError::Invalid(format!("not a Telegram update: {e}")))?;
    let api = bot_api(&ctx, &hook.secrets).map_err(|e| HookError::Internal(e.to_string()))?;
    updates::ingest_update(&ctx, &hook.inbox, &api, &update).await?;
    Ok(Json(serde_json::json!({ "ok": true })))
}
