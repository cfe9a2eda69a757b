//! What every provider webhook does the same way: find the inbox the URL names (of the right
//! kind), open its sealed secrets, compare secrets in constant time, fetch media the provider
//! holds (with the inbox's credentials, size-capped, through the guarded
//! client), and answer. A webhook answers 200 only after what it carried is committed
//! (`Desk::ingest`, `Desk::provider_status`), so a provider that saw anything else re-delivers,
//! and ingest's (inbox, external id) key makes the re-delivery the same message.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use switchboard_connector_core::{AttachmentSource, ChannelKind, DeliveryError, InboundAttachment};

use super::{ChannelContext, ChannelError, InboxSetup, SetupEnv};
use crate::domain::{Id, Inbox};
use crate::store::{ClaimedDelivery, StoreError};

/// Why a webhook call was refused. Signature failures say no more than that: the caller may be
/// an attacker probing which inboxes exist and what they check.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// No inbox of this kind under this id (or it has no secrets to check against).
    #[error("no such inbox")]
    NotFound,
    /// The signature (or secret-token header) is missing or wrong: nothing was stored.
    #[error("signature check failed")]
    Unauthorized,
    /// A verify-token handshake with the wrong token.
    #[error("forbidden")]
    Forbidden,
    /// The body is not what the provider sends; nothing was stored.
    #[error("{0}")]
    Invalid(String),
    /// Our side failed: 500, so the provider tries again later.
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for HookError {
    fn from(e: StoreError) -> Self {
        HookError::Internal(e.to_string())
    }
}

impl IntoResponse for HookError {
    fn into_response(self) -> Response {
        let status = match &self {
            HookError::NotFound => StatusCode::NOT_FOUND,
            HookError::Unauthorized => StatusCode::UNAUTHORIZED,
            HookError::Forbidden => StatusCode::FORBIDDEN,
            HookError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            HookError::Internal(why) => {
                tracing::error!(error = %why, "webhook failed; the provider will retry");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let (code, message) = match &self {
            HookError::NotFound => ("not_found", self.to_string()),
            HookError::Unauthorized => ("unauthorized", self.to_string()),
            HookError::Forbidden => ("forbidden", self.to_string()),
            HookError::Invalid(_) => ("unprocessable", self.to_string()),
            HookError::Internal(_) => ("internal", "internal error".to_string()),
        };
        // The house's error shape (`ErrorBody` in the OpenAPI document), like every other route.
        let body = serde_json::json!({ "error": { "code": code, "message": message } });
        (status, axum::Json(body)).into_response()
    }
}

/// An inbox a webhook named, with its secrets opened.
pub struct HookInbox<S> {
    pub inbox: Inbox,
    pub secrets: S,
}

/// The inbox `inbox_id` if it is of `kind`, with its sealed secrets opened as `S` (the JSON
/// the channel sealed at setup with `seal_json`).
pub async fn webhook_inbox<S: DeserializeOwned>(
    ctx: &ChannelContext,
    inbox_id: Id,
    kind: ChannelKind,
) -> Result<HookInbox<S>, HookError> {
    let (inbox, sealed) = ctx
        .desk
        .store()
        .webhook_inbox(inbox_id)
        .await?
        .filter(|(inbox, _)| inbox.kind == kind)
        .ok_or(HookError::NotFound)?;
    let sealed = sealed.ok_or(HookError::NotFound)?;
    let secrets = open_json(ctx, &sealed)
        .map_err(|e| HookError::Internal(format!("inbox {inbox_id}'s secrets: {e}")))?;
    Ok(HookInbox { inbox, secrets })
}

/// The channel's secrets, sealed as JSON (several per provider: an auth token, an app secret,
/// a verify token…).
pub fn seal_json(
    setup: &mut InboxSetup,
    env: &SetupEnv<'_>,
    secrets: &impl Serialize,
) -> Result<(), ChannelError> {
    let plain = serde_json::to_vec(secrets).map_err(|e| ChannelError::Internal(e.to_string()))?;
    setup.sealed_secret = Some(env.secrets.seal(&plain));
    Ok(())
}

/// Opens what `seal_json` sealed.
fn open_json<S: DeserializeOwned>(ctx: &ChannelContext, sealed: &[u8]) -> anyhow::Result<S> {
    let plain = ctx.secrets.open(sealed)?;
    Ok(serde_json::from_slice(&plain)?)
}

/// A claimed delivery's inbox secrets, opened for its sender; `what` names them in the error
/// when the inbox has none ("an auth token"). Failing here fails the message for good: no
/// retry can conjure a missing key.
pub fn delivery_secrets<S: DeserializeOwned>(
    ctx: &ChannelContext,
    claimed: &ClaimedDelivery,
    what: &str,
) -> Result<S, DeliveryError> {
    let sealed = claimed
        .sealed_secret
        .as_deref()
        .ok_or_else(|| DeliveryError::Permanent(format!("the inbox has no {what}")))?;
    open_json(ctx, sealed)
        .map_err(|e| DeliveryError::Permanent(format!("the inbox's secrets: {e}")))
}

/// Where a provider sends this inbox's webhooks: `/hooks/{kind}/{inbox_id}` under the hub's
/// public URL (the address the provider reaches, which is also what Twilio signs).
pub fn webhook_url(env: &SetupEnv<'_>, inbox: &Inbox) -> String {
    format!("{}/hooks/{}/{}", public_base(env), inbox.kind, inbox.id)
}

/// The hub's public URL without a trailing slash (the listen address when none is set).
pub fn public_base(env: &SetupEnv<'_>) -> String {
    let server = &env.settings.server;
    if server.public_url.is_empty() {
        format!("http://{}", server.addr)
    } else {
        server.public_url.trim_end_matches('/').to_string()
    }
}

/// Two secrets compared in constant time (verify tokens, secret-token headers).
pub fn same_secret(expected: &[u8], given: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    !expected.is_empty() && expected.ct_eq(given).into()
}

/// Fetches a media file the provider holds for a message, with the request the channel built
/// (its URL and credentials), held to `providers.max_media_bytes`: the file is carried inline
/// into ingest, so the hub never hands the provider's credentials to anyone.
pub async fn fetch_media(
    ctx: &ChannelContext,
    request: reqwest::RequestBuilder,
    filename: String,
    declared_type: Option<String>,
) -> Result<InboundAttachment, HookError> {
    let cap = ctx.settings.providers.max_media_bytes;
    let mut response = request
        .send()
        .await
        .map_err(|e| HookError::Internal(format!("cannot fetch media: {e}")))?;
    if !response.status().is_success() {
        return Err(HookError::Internal(format!(
            "the provider answered {} to a media fetch",
            response.status()
        )));
    }
    if response.content_length().is_some_and(|n| n as usize > cap) {
        return Err(HookError::Invalid(format!(
            "a media file is larger than the {cap} bytes allowed"
        )));
    }
    let content_type = declared_type.or_else(|| {
        response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_string())
    });
    let mut data = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| HookError::Internal(format!("cannot fetch media: {e}")))?
    {
        if data.len() + chunk.len() > cap {
            return Err(HookError::Invalid(format!(
                "a media file is larger than the {cap} bytes allowed"
            )));
        }
        data.extend_from_slice(&chunk);
    }
    Ok(InboundAttachment {
        filename,
        content_type: content_type.unwrap_or_else(|| "application/octet-stream".into()),
        source: AttachmentSource::Inline(data),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_expected_secret_never_matches() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"", b""));
    }
}
