//! The inbox's webhook at `/hooks/whatsapp/{inbox_id}`: Meta's subscription handshake (GET),
//! and its `messages` notifications (POST, signed with the app secret): customer messages go
//! through ingest, with the media they name fetched with the inbox's token, and statuses move
//! our replies forward. 200 only once everything the call carried is committed.

use axum::body::Bytes;
use axum::extract::{OriginalUri, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use switchboard_connector_core::{ChannelKind, InboundMessage};
use switchboard_connector_meta::whatsapp::{self, Incoming, MediaRef, WebhookPayload};
use switchboard_connector_meta::{verify_handshake, verify_signature, Handshake};

use super::{graph, WhatsappSecrets, WhatsappSettings};
use crate::channels::hooks::{self, HookError, HookInbox};
use crate::channels::sms::twilio::{self, Prefix, TwilioSecrets};
use crate::channels::sms::{called_url, HookRequest};
use crate::channels::ChannelContext;
use crate::domain::Id;
use crate::edge::extract::ApiPath;

/// Longest challenge echoed (Meta's are short numbers).
const MAX_CHALLENGE: usize = 256;

/// Meta's `GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`: the challenge, as
/// plain text, only for the token the hub made for this inbox.
#[utoipa::path(get, path = "/hooks/whatsapp/{inbox_id}", tag = "webhooks",
    params(("inbox_id" = i64, Path)),
    responses((status = 200, description = "The challenge, echoed", content_type = "text/plain"),
        (status = 403, description = "Not the inbox's verify token"), (status = 404)))]
#[tracing::instrument(skip_all, fields(inbox = inbox_id))]
pub async fn handshake(
    State(ctx): State<ChannelContext>,
    ApiPath(inbox_id): ApiPath<Id>,
    Query(asked): Query<Handshake>,
) -> Result<Response, HookError> {
    let HookInbox { secrets, .. } = match carrier(&ctx, inbox_id).await? {
        Carrier::Meta(hook) => hook,
        // Twilio has no subscription handshake: nobody but Meta asks this.
        Carrier::Twilio(_) => return Err(HookError::Forbidden),
    };
    match verify_handshake(&asked, &secrets.verify_token) {
        Some(challenge) if challenge.len() <= MAX_CHALLENGE => Ok((
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            challenge.to_string(),
        )
            .into_response()),
        _ => Err(HookError::Forbidden),
    }
}

/// Meta's `messages` notification, checked against `X-Hub-Signature-256` before anything is
/// read from it.
#[utoipa::path(post, path = "/hooks/whatsapp/{inbox_id}", tag = "webhooks",
    params(("inbox_id" = i64, Path)),
    request_body(content = serde_json::Value, description = "Meta's `messages` notification, signed in `X-Hub-Signature-256`"),
    responses((status = 200, description = "Everything it carried is stored"),
        (status = 401, description = "Missing or wrong signature: nothing stored"), (status = 404),
        (status = 500, description = "Not stored; Meta delivers it again")))]
#[tracing::instrument(skip_all, fields(inbox = inbox_id))]
pub async fn notification(
    State(ctx): State<ChannelContext>,
    ApiPath(inbox_id): ApiPath<Id>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, HookError> {
    let HookInbox { inbox, secrets } = match carrier(&ctx, inbox_id).await? {
        Carrier::Meta(hook) => hook,
        Carrier::Twilio(hook) => {
            let request = HookRequest {
                url: called_url(&ctx, &uri),
                headers,
                body,
            };
            return twilio::handle(&ctx, hook, Prefix::WHATSAPP, request).await;
        }
    };
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    if let Err(why) = verify_signature(secrets.app_secret.as_bytes(), signature, &body) {
        tracing::warn!(%why, "a WhatsApp webhook call failed its signature check");
        return Err(HookError::Unauthorized);
    }
    let payload: WebhookPayload = serde_json::from_slice(&body)
        .map_err(|e| HookError::Invalid(format!("not a WhatsApp notification: {e}")))?;
    let settings = WhatsappSettings::of(&inbox).map_err(HookError::Internal)?;
    let notification = whatsapp::read_notification(payload, &settings.phone_number_id);
    for skipped in &notification.skipped {
        // Meta sends an app's notifications for every number it serves to one URL: another
        // inbox's (or an unknown number's) are not this inbox's to store.
        tracing::warn!(
            addressed_to = %skipped.phone_number_id,
            messages = skipped.messages,
            statuses = skipped.statuses,
            "a WhatsApp notification for another phone number came to this inbox; ignored"
        );
    }
    let mut messages = Vec::with_capacity(notification.incoming.len());
    for incoming in notification.incoming {
        messages.push(with_media(&ctx, &secrets, &settings, incoming).await?);
    }
    // One notification can carry many messages (a customer's burst, a backlog after an
    // outage): stored in one transaction. Any refused one makes Meta deliver the call again;
    // the stored ones are then answered as duplicates.
    for outcome in ctx
        .desk
        .ingest_many(inbox.workspace_id, inbox.id, messages)
        .await
    {
        outcome?;
    }
    for update in notification.statuses {
        ctx.desk.provider_status(inbox.id, update).await?;
    }
    Ok((StatusCode::OK, axum::Json(json!({"ok": true}))).into_response())
}

/// Who carries the WhatsApp inbox the URL names (Meta's Cloud API or Twilio, whose webhooks
/// are each signed their own way), with its secrets opened: the inbox is read once.
enum Carrier {
    Meta(HookInbox<WhatsappSecrets>),
    Twilio(HookInbox<TwilioSecrets>),
}

async fn carrier(ctx: &ChannelContext, inbox_id: Id) -> Result<Carrier, HookError> {
    let HookInbox { inbox, secrets } =
        hooks::webhook_inbox::<serde_json::Value>(ctx, inbox_id, ChannelKind::Whatsapp).await?;
    let unreadable =
        |e: serde_json::Error| HookError::Internal(format!("inbox {inbox_id}'s secrets: {e}"));
    Ok(if super::is_twilio(&inbox) {
        let secrets = serde_json::from_value(secrets).map_err(unreadable)?;
        Carrier::Twilio(HookInbox { inbox, secrets })
    } else {
        let secrets = serde_json::from_value(secrets).map_err(unreadable)?;
        Carrier::Meta(HookInbox { inbox, secrets })
    })
}

/// The message with its media file attached; a file that cannot be kept for good (too large,
/// a type the hub does not take, gone at Meta) is named in the message rather than losing the
/// message. A passing failure answers 500, so Meta delivers the message again.
async fn with_media(
    ctx: &ChannelContext,
    secrets: &WhatsappSecrets,
    settings: &WhatsappSettings,
    incoming: Incoming,
) -> Result<InboundMessage, HookError> {
    let Incoming { mut message, media } = incoming;
    let Some(media) = media else {
        return Ok(message);
    };
    match fetch(ctx, secrets, settings, &media).await {
        Ok(attachment) => {
            message.attachments.push(attachment);
            set_media_meta(&mut message, &media, None);
        }
        Err(Fetch::Retry(why)) => return Err(HookError::Internal(why)),
        Err(Fetch::NotKept(why)) => {
            tracing::warn!(media = %media.id, %why, "a WhatsApp media file was not kept");
            if message.text.trim().is_empty() {
                message.text = format!("[{} not kept: {why}]", media.filename);
            }
            set_media_meta(&mut message, &media, Some(why));
        }
    }
    Ok(message)
}

enum Fetch {
    Retry(String),
    NotKept(String),
}

async fn fetch(
    ctx: &ChannelContext,
    secrets: &WhatsappSecrets,
    settings: &WhatsappSettings,
    media: &MediaRef,
) -> Result<switchboard_connector_core::InboundAttachment, Fetch> {
    let allowed = &ctx.settings.attachments.content_types;
    if let Some(declared) = &media.mime_type {
        if !crate::attachment_meta::content_type_allowed(declared, allowed) {
            return Err(Fetch::NotKept(format!(
                "files of type {declared} are not accepted"
            )));
        }
    }
    let graph = graph(ctx);
    let token = &secrets.access_token;
    let url = whatsapp::media_url(&graph, token, &media.id, &settings.phone_number_id)
        .await
        .map_err(|e| match e.is_transient() {
            true => Fetch::Retry(e.to_string()),
            false => Fetch::NotKept(e.to_string()),
        })?;
    let request = graph
        .authorized_get(token, &url)
        .map_err(|e| Fetch::NotKept(e.to_string()))?;
    let filename = crate::attachment_meta::check_filename(&media.filename)
        .unwrap_or_else(|_| "attachment".to_string());
    let attachment = hooks::fetch_media(ctx, request, filename, media.mime_type.clone())
        .await
        .map_err(|e| match e {
            HookError::Invalid(why) => Fetch::NotKept(why),
            other => Fetch::Retry(other.to_string()),
        })?;
    if !crate::attachment_meta::content_type_allowed(&attachment.content_type, allowed) {
        return Err(Fetch::NotKept(format!(
            "files of type {} are not accepted",
            attachment.content_type
        )));
    }
    Ok(attachment)
}

fn set_media_meta(message: &mut InboundMessage, media: &MediaRef, not_kept: Option<String>) {
    let details = json!({
        "id": media.id,
        "mime_type": media.mime_type,
        "filename": media.filename,
        "kept": not_kept.is_none(),
        "why_not_kept": not_kept,
    });
    match message.meta.as_mut().and_then(|m| m.get_mut("whatsapp")) {
        Some(whatsapp) => whatsapp["media"] = details,
        None => message.meta = Some(json!({"whatsapp": {"media": details}})),
    }
}
