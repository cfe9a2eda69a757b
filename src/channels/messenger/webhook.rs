//! Meta's webhook calls for a Messenger or Instagram inbox: the subscription handshake (GET,
//! the verify token the hub made at setup) and the events (POST, signed with the app secret).
//! Customer messages go to ingest, deliveries and reads to the replies' statuses; the answer
//! is 200 only once all of a call's events are committed, so Meta re-delivers anything else
//! (and ingest's key, the `mid`, makes a re-delivery the same message).

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use switchboard_connector_core::provider::{ProviderStatus, StatusUpdate};
use switchboard_connector_core::{ChannelKind, Identity, InboundMessage, InboundSender};
use switchboard_connector_meta::messenger::{self, CustomerMessage, MessagingEvent, ReadMark};
use switchboard_connector_meta::{verify_handshake, verify_signature, Handshake};

use super::{settings_of, MetaSecrets, Product};
use crate::attachment_meta::content_type_allowed;
use crate::channels::hooks::{self, HookError};
use crate::channels::ChannelContext;
use crate::domain::Id;
use crate::edge::error::ErrorBody;
use crate::edge::extract::ApiPath;

/// The most replies one read receipt by watermark moves at once; an older backlog stays as it
/// was (their delivery or sent status), which is what an unknown read looks like anyway.
const READ_BATCH: i64 = 500;

impl Product {
    fn kind(self) -> ChannelKind {
        match self {
            Product::Messenger => ChannelKind::Messenger,
            Product::Instagram => ChannelKind::Instagram,
        }
    }

    /// The webhook's `object` for this product.
    fn object(self) -> &'static str {
        match self {
            Product::Messenger => "page",
            Product::Instagram => "instagram",
        }
    }
}

/// Meta's subscription handshake for a Messenger inbox: echoes `hub.challenge` when
/// `hub.verify_token` is the inbox's.
#[utoipa::path(get, path = "/hooks/messenger/{inbox_id}", tag = "webhooks",
    params(("inbox_id" = i64, Path), ("hub.mode" = Option<String>, Query),
        ("hub.verify_token" = Option<String>, Query), ("hub.challenge" = Option<String>, Query)),
    responses(
        (status = 200, description = "The challenge, echoed", body = String),
        (status = 403, description = "Not the inbox's verify token", body = ErrorBody),
        (status = 404, description = "No Messenger inbox with this id", body = ErrorBody)))]
pub async fn messenger_handshake(
    State(ctx): State<ChannelContext>,
    ApiPath(inbox_id): ApiPath<Id>,
    Query(handshake): Query<Handshake>,
) -> Result<String, HookError> {
    handshake_for(&ctx, inbox_id, Product::Messenger, &handshake).await
}

/// Meta's subscription handshake for an Instagram inbox.
#[utoipa::path(get, path = "/hooks/instagram/{inbox_id}", tag = "webhooks",
    params(("inbox_id" = i64, Path), ("hub.mode" = Option<String>, Query),
        ("hub.verify_token" = Option<String>, Query), ("hub.challenge" = Option<String>, Query)),
    responses(
        (status = 200, description = "The challenge, echoed", body = String),
        (status = 403, description = "Not the inbox's verify token", body = ErrorBody),
        (status = 404, description = "No Instagram inbox with this id", body = ErrorBody)))]
pub async fn instagram_handshake(
    State(ctx): State<ChannelContext>,
    ApiPath(inbox_id): ApiPath<Id>,
    Query(handshake): Query<Handshake>,
) -> Result<String, HookError> {
    handshake_for(&ctx, inbox_id, Product::Instagram, &handshake).await
}

/// Messenger's events for the inbox's page, signed with `X-Hub-Signature-256`.
#[utoipa::path(post, path = "/hooks/messenger/{inbox_id}", tag = "webhooks",
    params(("inbox_id" = i64, Path)),
    request_body(content = Object, content_type = "application/json",
        description = "Meta's notification: `{\"object\": \"page\", \"entry\": [{\"id\", \"messaging\": [...]}]}`"),
    responses(
        (status = 200, description = "Every event of the call is kept"),
        (status = 401, description = "Missing or wrong signature: nothing kept", body = ErrorBody),
        (status = 404, description = "No Messenger inbox with this id", body = ErrorBody),
        (status = 422, description = "Not a Messenger Platform notification", body = ErrorBody),
        (status = 500, description = "Not kept: Meta delivers again", body = ErrorBody)))]
pub async fn messenger_events(
    State(ctx): State<ChannelContext>,
    ApiPath(inbox_id): ApiPath<Id>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, HookError> {
    events_for(&ctx, inbox_id, Product::Messenger, &headers, &body).await
}

/// Instagram's messaging events for the inbox's professional account.
#[utoipa::path(post, path = "/hooks/instagram/{inbox_id}", tag = "webhooks",
    params(("inbox_id" = i64, Path)),
    request_body(content = Object, content_type = "application/json",
        description = "Meta's notification: `{\"object\": \"instagram\", \"entry\": [{\"id\", \"messaging\": [...]}]}`"),
    responses(
        (status = 200, description = "Every event of the call is kept"),
        (status = 401, description = "Missing or wrong signature: nothing kept", body = ErrorBody),
        (status = 404, description = "No Instagram inbox with this id", body = ErrorBody),
        (status = 422, description = "Not an Instagram messaging notification", body = ErrorBody),
        (status = 500, description = "Not kept: Meta delivers again", body = ErrorBody)))]
pub async fn instagram_events(
    State(ctx): State<ChannelContext>,
    ApiPath(inbox_id): ApiPath<Id>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, HookError> {
    events_for(&ctx, inbox_id, Product::Instagram, &headers, &body).await
}

async fn handshake_for(
    ctx: &ChannelContext,
    inbox_id: Id,
    product: Product,
    handshake: &Handshake,
) -> Result<String, HookError> {
    let hook = hooks::webhook_inbox::<MetaSecrets>(ctx, inbox_id, product.kind()).await?;
    verify_handshake(handshake, &hook.secrets.verify_token)
        .map(str::to_string)
        .ok_or(HookError::Forbidden)
}

#[tracing::instrument(skip_all, fields(inbox = inbox_id, kind = %product.kind()))]
async fn events_for(
    ctx: &ChannelContext,
    inbox_id: Id,
    product: Product,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<StatusCode, HookError> {
    let hook = hooks::webhook_inbox::<MetaSecrets>(ctx, inbox_id, product.kind()).await?;
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    if let Err(why) = verify_signature(hook.secrets.app_secret.as_bytes(), signature, body) {
        tracing::warn!(%why, "a webhook call failed its signature check");
        return Err(HookError::Unauthorized);
    }
    let settings = settings_of(&hook.inbox).map_err(HookError::Internal)?;
    let notification = messenger::parse(body)
        .map_err(|e| HookError::Invalid(format!("not a Messenger Platform notification: {e}")))?;
    if notification.object != product.object() {
        tracing::warn!(object = %notification.object, "a notification for another object; ignored");
        return Ok(StatusCode::OK);
    }
    let own_id = settings.own_id();
    let inbox = &hook.inbox;
    for entry in &notification.entry {
        if entry.id != own_id {
            tracing::warn!(entry = %entry.id, "events for another page or account; ignored");
            continue;
        }
        for item in &entry.messaging {
            if item.recipient.id != own_id && item.sender.id != own_id {
                tracing::warn!("an event between other parties; ignored");
                continue;
            }
            match item.event(own_id) {
                MessagingEvent::Customer(message) => {
                    let inbound = inbound_message(ctx, product, message, item.timestamp).await?;
                    ctx.desk
                        .ingest(inbox.workspace_id, inbox.id, inbound)
                        .await
                        .map_err(|e| HookError::Internal(e.to_string()))?;
                }
                MessagingEvent::Echo { mid } => {
                    // The hub's own replies come back as echoes, and so do messages a person
                    // sent from Meta's inbox: neither is the customer speaking.
                    tracing::debug!(%mid, "an echo of the page's own message; skipped");
                }
                MessagingEvent::Delivered { mids, watermark } => {
                    let customer = Identity::new(product.kind().as_str(), &item.sender.id);
                    let mids = match (mids.is_empty(), watermark) {
                        (true, Some(w)) => replies_until(ctx, inbox.id, &customer, w).await?,
                        _ => mids,
                    };
                    move_replies(ctx, inbox.id, mids, ProviderStatus::Delivered).await?;
                }
                MessagingEvent::Read(mark) => {
                    let customer = Identity::new(product.kind().as_str(), &item.sender.id);
                    let mids = match mark {
                        ReadMark::Message(mid) => vec![mid],
                        ReadMark::Watermark(w) => {
                            replies_until(ctx, inbox.id, &customer, w).await?
                        }
                    };
                    move_replies(ctx, inbox.id, mids, ProviderStatus::Read).await?;
                }
                MessagingEvent::Ignored(what) => tracing::debug!("{what}; not kept"),
            }
        }
    }
    Ok(StatusCode::OK)
}

/// The replies to this customer that Meta had by `watermark` (and are not read yet).
async fn replies_until(
    ctx: &ChannelContext,
    inbox_id: Id,
    customer: &Identity,
    watermark: i64,
) -> Result<Vec<String>, HookError> {
    Ok(ctx
        .desk
        .store()
        .replies_sent_until(inbox_id, customer, watermark, READ_BATCH)
        .await?)
}

async fn move_replies(
    ctx: &ChannelContext,
    inbox_id: Id,
    mids: Vec<String>,
    status: ProviderStatus,
) -> Result<(), HookError> {
    for mid in mids {
        let update = StatusUpdate {
            provider_message_id: mid,
            status,
            error: None,
        };
        ctx.desk.provider_status(inbox_id, update).await?;
    }
    Ok(())
}

/// A customer's message as ingest takes it: media fetched (capped) and carried inline, stories,
/// shares and quick replies kept in the message's details.
async fn inbound_message(
    ctx: &ChannelContext,
    product: Product,
    message: CustomerMessage,
    timestamp: i64,
) -> Result<InboundMessage, HookError> {
    let mut meta = serde_json::Map::new();
    meta.insert("timestamp".into(), timestamp.into());
    let mut attachments = Vec::new();
    let mut not_kept = Vec::new();
    for (n, media) in message.media.iter().enumerate() {
        let request = ctx
            .http
            .get(&media.url)
            .map_err(|e| HookError::Internal(format!("cannot fetch media: {e}")))?;
        let filename = media_filename(&media.url, &media.kind, n);
        match hooks::fetch_media(ctx, request, filename, None).await {
            Ok(file)
                if content_type_allowed(
                    &file.content_type,
                    &ctx.settings.attachments.content_types,
                ) =>
            {
                attachments.push(file)
            }
            Ok(file) => not_kept.push(serde_json::json!({
                "type": media.kind, "url": media.url,
                "reason": format!("{} files are not accepted here", file.content_type),
            })),
            // Too large: the words are kept, and where the file was.
            Err(HookError::Invalid(reason)) => not_kept.push(serde_json::json!({
                "type": media.kind, "url": media.url, "reason": reason,
            })),
            Err(other) => return Err(other),
        }
    }
    if !not_kept.is_empty() {
        meta.insert("media_not_kept".into(), not_kept.into());
    }
    if !message.links.is_empty() {
        let links: Vec<_> = message
            .links
            .iter()
            .map(|l| serde_json::json!({"type": l.kind, "url": l.url}))
            .collect();
        meta.insert("links".into(), links.into());
    }
    if let Some(payload) = &message.quick_reply {
        meta.insert("quick_reply".into(), payload.clone().into());
    }
    if let Some(mid) = &message.reply_to {
        meta.insert("reply_to".into(), mid.clone().into());
    }
    let mut text = message.text.clone();
    if let Some(story) = &message.story {
        // Stories are the customer's and vanish after a day: the hub keeps where it was (for
        // the console to show while it lasts), never its media.
        meta.insert(
            "story".into(),
            serde_json::json!({"type": story.kind.as_str(), "url": story.url, "id": story.id}),
        );
        if text.trim().is_empty() {
            text = match story.kind {
                messenger::StoryKind::Mention => "Mentioned you in their story".into(),
                messenger::StoryKind::Reply => "Replied to your story".into(),
            };
        }
    }
    if text.trim().is_empty() && attachments.is_empty() {
        // Nothing to show but links or files not kept: say so rather than lose the message.
        text = message
            .links
            .iter()
            .map(|l| l.url.clone())
            .chain(
                message
                    .media
                    .iter()
                    .map(|m| format!("[{}] {}", m.kind, m.url)),
            )
            .collect::<Vec<_>>()
            .join("\n");
        if text.is_empty() {
            text = "[an attachment the hub cannot show]".into();
        }
    }
    Ok(InboundMessage {
        external_id: message.mid,
        sender: InboundSender {
            identities: vec![Identity::new(product.kind().as_str(), message.from)],
            ..Default::default()
        },
        text,
        attachments,
        meta: Some(serde_json::Value::Object(meta)),
        ..Default::default()
    })
}

/// A file's name from its URL's last segment (Meta's CDN names keep the extension), else the
/// attachment's type and position.
fn media_filename(url: &str, kind: &str, n: usize) -> String {
    let from_url = url::Url::parse(url).ok().and_then(|u| {
        u.path_segments()
            .and_then(|mut s| s.next_back().map(str::to_string))
    });
    match from_url {
        Some(name)
            if !name.is_empty()
                && name.len() <= 128
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) =>
        {
            name
        }
        _ => format!("{kind}-{}", n + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_is_named_after_its_url_when_the_name_is_plain() {
        assert_eq!(
            media_filename("https://cdn.fbsbx.com/v/t1/photo_123.jpg?_nc=1", "image", 0),
            "photo_123.jpg"
        );
        assert_eq!(
            media_filename("https://cdn.fbsbx.com/v/t1/", "video", 1),
            "video-2"
        );
        assert_eq!(
            media_filename("https://cdn/x/%0Aevil.html", "file", 0),
            "file-1"
        );
    }
}
