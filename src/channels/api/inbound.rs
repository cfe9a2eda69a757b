//! The API channel's inbound endpoint: any system can hand the hub a customer message.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use switchboard_connector_core::{
    phone, Identity, InboundAttachment, InboundMessage, InboundSender,
};
use utoipa::ToSchema;

use crate::channels::ChannelContext;
use crate::domain::{Id, Message};
use crate::edge::attachments::{check_attachment_types, parse_attachments, AttachmentInput};
use crate::edge::error::{ApiError, ApiResult, ErrorBody};
use crate::edge::extract::{ApiJson, ApiPath};
use crate::limits::{self, LimitError};
use crate::store::Principal;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InboundContact {
    /// Your system's id for this person; messages with the same one join the same contact.
    pub identifier: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InboundMessageBody {
    pub contact: InboundContact,
    /// Your id for this message. Sending the same one again answers the stored message.
    pub external_id: String,
    #[serde(default)]
    pub text: String,
    pub html: Option<String>,
    pub subject: Option<String>,
    /// Keeps messages with the same key in one conversation while it is open.
    pub thread_key: Option<String>,
    #[serde(default)]
    pub attachments: Vec<AttachmentInput>,
}

/// Every text an integration can store through the inbound endpoint, capped (`text` is held
/// to its cap by the ingest door).
fn check_inbound(body: &InboundMessageBody) -> Result<(), LimitError> {
    let contact = &body.contact;
    limits::optional(
        "contact.identifier",
        contact.identifier.as_deref(),
        limits::IDENTIFIER,
    )?;
    limits::optional("contact.name", contact.name.as_deref(), limits::NAME)?;
    limits::optional("contact.email", contact.email.as_deref(), limits::EMAIL)?;
    limits::optional("contact.phone", contact.phone.as_deref(), limits::PHONE)?;
    limits::text("external_id", &body.external_id, limits::EXTERNAL_ID)?;
    limits::optional("subject", body.subject.as_deref(), limits::SUBJECT)?;
    limits::optional("thread_key", body.thread_key.as_deref(), limits::IDENTIFIER)?;
    body.html
        .as_deref()
        .map_or(Ok(()), |h| limits::bytes("html", h, limits::HTML_BYTES))
}

/// The API channel's door: any system can hand the hub a customer message.
#[utoipa::path(post, path = "/api/v1/inboxes/{inbox_id}/messages", tag = "inboxes", security(("bearer" = [])),
    params(("inbox_id" = i64, Path)), request_body = InboundMessageBody,
    responses(
        (status = 201, description = "Stored", body = Message),
        (status = 200, description = "Already stored under this external id", body = Message),
        (status = 422, body = ErrorBody)))]
pub async fn inbound_message(
    State(ctx): State<ChannelContext>,
    who: Principal,
    ApiPath(inbox_id): ApiPath<Id>,
    ApiJson(body): ApiJson<InboundMessageBody>,
) -> ApiResult<(StatusCode, Json<Message>)> {
    let inbox = super::api_inbox(&ctx, &who, inbox_id, "messages").await?;
    check_inbound(&body)?;
    let contact = body.contact;
    let mut identities = Vec::new();
    if let Some(id) = contact
        .identifier
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        // Scoped to the inbox: two integrations may use the same ids for different people.
        identities.push(Identity::new(format!("api:{}", inbox.id), id));
    }
    if let Some(email) = &contact.email {
        crate::domain::EmailAddress::parse(email).map_err(ApiError::Unprocessable)?;
    }
    // The integration typed it: an unreadable number is its mistake to hear about (422), and a
    // readable one is stored in the form SMS and WhatsApp numbers take.
    let phone = match contact.phone.as_deref() {
        Some(raw) => Some(
            phone::normalise(raw, ctx.desk.phone_region())
                .map_err(|e| ApiError::Unprocessable(format!("`contact.phone`: {e}")))?,
        ),
        None => None,
    };
    if identities.is_empty() && contact.email.is_none() && phone.is_none() {
        return Err(ApiError::Unprocessable(
            "`contact` needs an `identifier`, `email` or `phone`".into(),
        ));
    }
    let attachments = parse_attachments(body.attachments)?;
    check_attachment_types(&attachments, &ctx.settings.attachments.content_types)?;
    let attachments = attachments
        .into_iter()
        .map(|(filename, content_type, source)| InboundAttachment {
            filename,
            content_type,
            source,
        })
        .collect();
    let message = InboundMessage {
        external_id: body.external_id,
        sender: InboundSender {
            identities,
            name: contact.name,
            email: contact.email,
            phone,
        },
        text: body.text,
        html: body.html,
        subject: body.subject,
        attachments,
        thread_key: body.thread_key,
        ..Default::default()
    };
    let outcome = ctx
        .desk
        .ingest(who.workspace_id(), inbox.id, message)
        .await?;
    let status = if outcome.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(outcome.message)))
}
