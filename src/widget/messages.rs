//! `POST /widget/v1/messages`: what a visitor writes (with pre-chat answers and files) goes in
//! through the desk's ingest door.

use super::session::{ip_key, throttled};

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use switchboard_connector_core::{InboundAttachment, InboundMessage, InboundSender};
use utoipa::ToSchema;

use super::resume;
use super::visitor::{Visitor, VisitorMessage};
use super::WidgetState;
use crate::domain::{EmailAddress, Id};
use crate::edge::attachments::{parse_attachments, AttachmentInput};
use crate::edge::error::{ApiError, ApiResult, ErrorBody};
use crate::edge::extract::{ApiJson, ClientIp};
use crate::limits::{self, LimitError};
use crate::store::Unverified;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrechatAnswers {
    pub name: Option<String>,
    pub email: Option<String>,
    #[serde(default)]
    pub fields: serde_json::Map<String, serde_json::Value>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitorMessageInput {
    /// Chosen by the widget per message; a retry with the same one answers the same message.
    pub client_id: String,
    #[serde(default)]
    pub text: String,
    pub conversation_id: Option<Id>,
    pub prechat: Option<PrechatAnswers>,
    #[serde(default)]
    pub attachments: Vec<AttachmentInput>,
}

#[derive(Serialize, ToSchema)]
pub struct PostedMessage {
    pub message: VisitorMessage,
    pub conversation_id: Id,
}

#[utoipa::path(post, path = "/widget/v1/messages", tag = "widget", security(("visitor" = [])),
    request_body = VisitorMessageInput,
    responses((status = 201, body = PostedMessage), (status = 200, description = "A retry of a stored message", body = PostedMessage),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn post_message(
    State(state): State<WidgetState>,
    ClientIp(ip): ClientIp,
    visitor: Visitor,
    ApiJson(body): ApiJson<VisitorMessageInput>,
) -> ApiResult<(StatusCode, Json<PostedMessage>)> {
    let limits = &state.settings;
    throttled(
        &state,
        vec![
            format!("visitor:{}", visitor.claims.visitor_id),
            format!("msg:{}", ip_key(ip)),
        ],
    )?;
    let client_id = body.client_id.trim();
    if client_id.is_empty() || client_id.len() > 64 {
        return Err(ApiError::Unprocessable(
            "`client_id` must be 1 to 64 characters".into(),
        ));
    }
    if body.text.len() > limits.max_message_bytes {
        return Err(ApiError::Unprocessable(format!(
            "`text` is longer than {} bytes",
            limits.max_message_bytes
        )));
    }
    check_prechat(body.prechat.as_ref())?;
    if let Some(id) = body.conversation_id {
        visitor.own_conversation(&state, id).await?;
    }
    let attachments: Vec<InboundAttachment> = parse_attachments(body.attachments)?
        .into_iter()
        .map(|(filename, content_type, source): (String, String, _)| {
            let size = match &source {
                switchboard_connector_core::AttachmentSource::Inline(d) => d.len(),
                switchboard_connector_core::AttachmentSource::Url(_) => {
                    return Err(ApiError::Unprocessable(
                        "visitors upload files; links go in the text".into(),
                    ))
                }
            };
            if size > limits.max_attachment_bytes {
                return Err(ApiError::PayloadTooLarge);
            }
            if !crate::attachment_meta::content_type_allowed(
                &content_type,
                &limits.attachment_types,
            ) {
                return Err(ApiError::Unprocessable(format!(
                    "files of type {content_type} are not accepted"
                )));
            }
            Ok(InboundAttachment {
                filename,
                content_type,
                source,
            })
        })
        .collect::<Result<_, _>>()?;
    let prechat = body.prechat.unwrap_or(PrechatAnswers {
        name: None,
        email: None,
        fields: Default::default(),
    });
    if let Some(email) = &prechat.email {
        EmailAddress::parse(email).map_err(ApiError::Unprocessable)?;
    }
    let identities = resume::session_identities(&visitor.claims);
    if !prechat.fields.is_empty() || prechat.email.is_some() {
        // What the form asked is kept on the visitor's own contact, unverified: a typed email
        // must never lead to somebody else's conversations.
        let sender = InboundSender {
            identities: identities.clone(),
            ..Default::default()
        };
        let typed = Unverified {
            name: prechat.name.clone(),
            email: prechat.email.clone(),
            phone: None,
            attributes: prechat.fields.clone(),
        };
        state
            .desk
            .find_or_create_contact(visitor.claims.workspace_id, sender, typed)
            .await?;
    }
    let message = InboundMessage {
        // Scoped to the visitor, so one visitor can never name another's message.
        external_id: format!("{}:{client_id}", visitor.claims.visitor_id),
        sender: InboundSender {
            identities,
            name: prechat.name,
            email: None,
            phone: None,
        },
        text: body.text,
        html: None,
        subject: None,
        attachments,
        thread_key: None,
        ..Default::default()
    };
    let outcome = state
        .desk
        .ingest(visitor.claims.workspace_id, visitor.inbox.id, message)
        .await?;
    let status = if outcome.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(PostedMessage {
            conversation_id: outcome.conversation.id,
            message: VisitorMessage::new(&outcome.message, None),
        }),
    ))
}

/// What an anonymous visitor types into the pre-chat form is stored on their contact and shown
/// in every agent's list: each answer is capped.
fn check_prechat(prechat: Option<&PrechatAnswers>) -> Result<(), LimitError> {
    let Some(prechat) = prechat else {
        return Ok(());
    };
    limits::optional("prechat.name", prechat.name.as_deref(), limits::NAME)?;
    limits::optional("prechat.email", prechat.email.as_deref(), limits::EMAIL)?;
    limits::attributes("prechat.fields", &prechat.fields)
}
