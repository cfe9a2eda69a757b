//! The visitor REST endpoints under /widget/v1: sessions, the visitor's own conversations and
//! messages, read receipts, ratings, queue position and attachments.

use std::net::IpAddr;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::{Deserialize, Serialize};
use switchboard_connector_core::{InboundAttachment, InboundMessage, InboundSender};
use utoipa::ToSchema;

use super::identity::{verify_identifier_hash, verify_jwt, IdentityError, VerifiedIdentity};
use super::resume;
use super::settings::Prechat;
use super::token::TokenError;
use super::visitor::{Visitor, VisitorMessage};
use super::{VisitorClaims, WebChatSettings};
use crate::domain::{now_millis, EmailAddress, Id};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, ClientIp};
use crate::http::handlers::inboxes::{parse_attachments, AttachmentInput};
use crate::http::AppState;
use crate::limits::{self, LimitError};
use crate::store::Unverified;

fn throttled(state: &AppState, keys: Vec<String>) -> ApiResult<()> {
    state
        .widget_throttle
        .hit(&keys)
        .map_err(ApiError::TooManyRequests)
}

fn ip_key(ip: Option<IpAddr>) -> String {
    format!("ip:{}", ip.map_or("unknown".into(), |ip| ip.to_string()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityInput {
    pub identifier: String,
    pub identifier_hash: Option<String>,
    pub jwt: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionRequest {
    pub website_token: String,
    pub visitor_token: Option<String>,
    pub identity: Option<IdentityInput>,
    pub locale: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SessionVisitor {
    pub contact_id: Id,
    pub name: Option<String>,
    pub email: Option<String>,
    pub verified: bool,
}

#[derive(Serialize, ToSchema)]
pub struct AttachmentLimits {
    pub max_bytes: usize,
    pub content_types: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SessionInbox {
    pub name: String,
    pub greeting: Option<String>,
    pub away_message: Option<String>,
    /// Inside business hours.
    pub online: bool,
    pub prechat: Prechat,
    pub color: String,
    pub attachments: AttachmentLimits,
    pub csat: bool,
}

#[derive(Serialize, ToSchema)]
pub struct SessionResponse {
    pub visitor_token: String,
    pub visitor: SessionVisitor,
    pub inbox: SessionInbox,
}

fn identity_error(e: IdentityError) -> ApiError {
    match e {
        IdentityError::Required => ApiError::Forbidden(e.to_string()),
        other => ApiError::Unauthorized.with_reason(other.to_string()),
    }
}

/// Checks what the host site vouched for, with the inbox's identity secret. An identifier hash
/// covers the identifier alone: the name and email beside it are not vouched for.
fn verify_identity(
    state: &AppState,
    sealed_secret: Option<&[u8]>,
    input: &IdentityInput,
) -> Result<VerifiedIdentity, ApiError> {
    let secret = sealed_secret
        .ok_or_else(|| ApiError::Internal("web chat inbox without identity secret".into()))
        .and_then(|s| {
            state
                .secrets
                .open(s)
                .map_err(|e| ApiError::Internal(e.to_string()))
        })?;
    match (&input.jwt, &input.identifier_hash) {
        (Some(jwt), _) => {
            let who = verify_jwt(&secret, jwt).map_err(identity_error)?;
            if who.identifier != input.identifier {
                return Err(identity_error(IdentityError::BadSignature));
            }
            // Signed by the site, and still stored: held to the same caps as typed values.
            limits::optional("identity.jwt.name", who.name.as_deref(), limits::NAME)?;
            limits::optional("identity.jwt.email", who.email.as_deref(), limits::EMAIL)?;
            Ok(who)
        }
        (None, Some(hash)) => {
            verify_identifier_hash(&secret, &input.identifier, hash).map_err(identity_error)?;
            Ok(VerifiedIdentity {
                identifier: input.identifier.clone(),
                name: None,
                email: None,
                expires_at: None,
            })
        }
        (None, None) => Err(identity_error(IdentityError::BadSignature)),
    }
}

/// Starts or resumes a visitor's session.
#[utoipa::path(post, path = "/widget/v1/sessions", tag = "widget", request_body = SessionRequest,
    responses((status = 200, body = SessionResponse),
        (status = 401, description = "Forged visitor token or identity", body = ErrorBody),
        (status = 403, description = "Origin not allowed, or a verified identity is required", body = ErrorBody),
        (status = 404, description = "Unknown website token", body = ErrorBody),
        (status = 422, description = "A field is invalid or longer than its cap", body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn session(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: axum::http::HeaderMap,
    ApiJson(body): ApiJson<SessionRequest>,
) -> ApiResult<Json<SessionResponse>> {
    throttled(&state, vec![format!("session:{}", ip_key(ip))])?;
    check_session_input(&body)?;
    let (inbox, sealed) = state
        .store
        .widget()
        .inbox_by_website_token(body.website_token.trim())
        .await?
        .ok_or(ApiError::NotFound("website token"))?;
    let settings = WebChatSettings::from_inbox(&inbox.settings);
    if !settings.origin_allowed(super::visitor::origin(&headers)) {
        return Err(ApiError::forbidden("this site may not embed the widget"));
    }
    let verified = match &body.identity {
        Some(input) => Some(verify_identity(&state, sealed.as_deref(), input)?),
        None if settings.require_identity_verification => {
            return Err(identity_error(IdentityError::Required))
        }
        None => None,
    };
    let now = now_millis();
    let previous = match &body.visitor_token {
        Some(token) => match state.visitor_tokens.verify(token, now) {
            Ok(claims) if claims.inbox_id != inbox.id => {
                return Err(
                    ApiError::Unauthorized.with_reason("visitor token of another inbox".into())
                );
            }
            Ok(claims) => Some(claims),
            // An expired token names nobody: the browser starts afresh.
            Err(TokenError::Expired) => None,
            Err(e) => return Err(ApiError::Unauthorized.with_reason(e.to_string())),
        },
        None => None,
    };
    // A browser keeps its visitor id while the same person comes back; a verified identity
    // decides the contact across devices.
    let visitor_id = previous
        .filter(|p| resume::continues(p, verified.as_ref()))
        .map(|p| p.visitor_id)
        .unwrap_or_else(|| crate::auth::random_token(16));
    if let Some(email) = verified.as_ref().and_then(|v| v.email.as_deref()) {
        EmailAddress::parse(email).map_err(ApiError::Unprocessable)?;
    }
    let sender = InboundSender {
        identities: resume::claimed_identities(inbox.id, &visitor_id, verified.as_ref()),
        name: verified.as_ref().and_then(|v| v.name.clone()),
        email: verified.as_ref().and_then(|v| v.email.clone()),
        phone: None,
    };
    // Unsigned name and email beside an identifier hash are the visitor's word, like a form's.
    let typed = body
        .identity
        .as_ref()
        .map_or_else(Unverified::default, |i| Unverified {
            name: i.name.clone(),
            email: i.email.clone().filter(|e| EmailAddress::parse(e).is_ok()),
            ..Default::default()
        });
    let (contact, events) = state
        .store
        .widget()
        .find_or_create_contact(inbox.workspace_id, sender, typed, now)
        .await?;
    state.publish(&events);
    let expires_at = state.visitor_tokens.expiry(
        now,
        verified.is_some(),
        verified.as_ref().and_then(|v| v.expires_at),
    );
    let claims = VisitorClaims {
        workspace_id: inbox.workspace_id,
        inbox_id: inbox.id,
        contact_id: contact.id,
        visitor_id,
        verified: verified.map(|v| v.identifier),
        issued_at: now,
        expires_at: Some(expires_at),
    };
    let limits = &state.settings.widget;
    Ok(Json(SessionResponse {
        visitor_token: state.visitor_tokens.issue(&claims),
        visitor: SessionVisitor {
            contact_id: contact.id,
            name: contact.name,
            email: contact.email,
            verified: claims.verified.is_some(),
        },
        inbox: SessionInbox {
            name: inbox.name,
            online: settings.is_open(jiff::Timestamp::now()),
            greeting: settings.greeting,
            away_message: settings.away_message,
            prechat: settings.prechat,
            color: settings.color,
            attachments: AttachmentLimits {
                max_bytes: limits.max_attachment_bytes,
                content_types: limits.attachment_types.clone(),
            },
            csat: settings.csat,
        },
    }))
}

#[derive(Serialize, ToSchema)]
pub struct VisitorConversation {
    pub id: Id,
    pub status: crate::domain::ConversationStatus,
    pub created_at: i64,
    pub last_activity_at: i64,
    /// Agent messages the visitor has not read.
    pub unread: i64,
    pub rating: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct VisitorConversations {
    pub data: Vec<VisitorConversation>,
}

#[utoipa::path(get, path = "/widget/v1/conversations", tag = "widget", security(("visitor" = [])),
    responses((status = 200, body = VisitorConversations), (status = 401, body = ErrorBody)))]
pub async fn conversations(
    State(state): State<AppState>,
    visitor: Visitor,
) -> ApiResult<Json<VisitorConversations>> {
    let list = visitor.conversations(&state).await?;
    let ids: Vec<Id> = list.iter().map(|c| c.id).collect();
    let unread = state.store.widget().unread_by_contact(&ids).await?;
    let ratings = state.store.widget().ratings(&ids).await?;
    Ok(Json(VisitorConversations {
        data: list
            .into_iter()
            .map(|c| VisitorConversation {
                unread: unread
                    .iter()
                    .find(|(id, _)| *id == c.id)
                    .map_or(0, |(_, n)| *n),
                rating: ratings
                    .iter()
                    .find(|r| r.conversation_id == c.id)
                    .map(|r| r.score),
                id: c.id,
                status: c.status,
                created_at: c.created_at,
                last_activity_at: c.last_activity_at,
            })
            .collect(),
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AfterQuery {
    /// Only messages after this message id.
    pub after: Option<Id>,
}

#[derive(Serialize, ToSchema)]
pub struct VisitorMessages {
    pub data: Vec<VisitorMessage>,
}

#[utoipa::path(get, path = "/widget/v1/conversations/{conversation_id}/messages", tag = "widget",
    security(("visitor" = [])), params(("conversation_id" = i64, Path), AfterQuery),
    responses((status = 200, body = VisitorMessages), (status = 404, body = ErrorBody)))]
pub async fn messages(
    State(state): State<AppState>,
    visitor: Visitor,
    ApiPath(id): ApiPath<Id>,
    ApiQuery(query): ApiQuery<AfterQuery>,
) -> ApiResult<Json<VisitorMessages>> {
    let conversation = visitor.own_conversation(&state, id).await?;
    let (data, _) = visitor
        .messages_after(&state, conversation.id, query.after.unwrap_or(0), 1000)
        .await?;
    Ok(Json(VisitorMessages { data }))
}

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
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    visitor: Visitor,
    ApiJson(body): ApiJson<VisitorMessageInput>,
) -> ApiResult<(StatusCode, Json<PostedMessage>)> {
    let limits = &state.settings.widget;
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
        let (_, events) = state
            .store
            .widget()
            .find_or_create_contact(visitor.claims.workspace_id, sender, typed, now_millis())
            .await?;
        state.publish(&events);
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
        .ingest
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

fn check_session_input(body: &SessionRequest) -> Result<(), LimitError> {
    limits::optional("locale", body.locale.as_deref(), limits::LOCALE)?;
    let Some(identity) = &body.identity else {
        return Ok(());
    };
    limits::text(
        "identity.identifier",
        &identity.identifier,
        limits::IDENTIFIER,
    )?;
    limits::optional("identity.name", identity.name.as_deref(), limits::NAME)?;
    limits::optional("identity.email", identity.email.as_deref(), limits::EMAIL)?;
    limits::optional(
        "identity.identifier_hash",
        identity.identifier_hash.as_deref(),
        limits::TOKEN,
    )?;
    limits::optional("identity.jwt", identity.jwt.as_deref(), limits::TOKEN)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadInput {
    pub message_id: Id,
}

#[utoipa::path(post, path = "/widget/v1/conversations/{conversation_id}/read", tag = "widget",
    security(("visitor" = [])), params(("conversation_id" = i64, Path)), request_body = ReadInput,
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn read(
    State(state): State<AppState>,
    visitor: Visitor,
    ApiPath(id): ApiPath<Id>,
    ApiJson(body): ApiJson<ReadInput>,
) -> ApiResult<StatusCode> {
    let conversation = visitor.own_conversation(&state, id).await?;
    let events = state
        .store
        .widget()
        .mark_read_by_contact(
            visitor.claims.workspace_id,
            conversation.id,
            body.message_id,
            now_millis(),
        )
        .await?;
    state.publish(&events);
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingInput {
    /// 1 (bad) to 5 (great).
    pub score: i64,
    pub comment: Option<String>,
}

#[utoipa::path(post, path = "/widget/v1/conversations/{conversation_id}/rating", tag = "widget",
    security(("visitor" = [])), params(("conversation_id" = i64, Path)), request_body = RatingInput,
    responses((status = 200, body = crate::store::Rating), (status = 409, description = "Rated already", body = ErrorBody),
        (status = 422, description = "Not resolved yet, or a score outside 1–5", body = ErrorBody)))]
pub async fn rate(
    State(state): State<AppState>,
    visitor: Visitor,
    ApiPath(id): ApiPath<Id>,
    ApiJson(body): ApiJson<RatingInput>,
) -> ApiResult<Json<crate::store::Rating>> {
    if !(1..=5).contains(&body.score) {
        return Err(ApiError::Unprocessable("`score` is 1 to 5".into()));
    }
    if body.comment.as_ref().is_some_and(|c| c.len() > 2000) {
        return Err(ApiError::Unprocessable(
            "`comment` is at most 2000 bytes".into(),
        ));
    }
    let conversation = visitor.own_conversation(&state, id).await?;
    let events = state
        .store
        .widget()
        .rate_conversation(
            visitor.claims.workspace_id,
            conversation.id,
            body.score,
            body.comment,
            now_millis(),
        )
        .await?;
    state.publish(&events);
    let rating = state
        .store
        .widget()
        .ratings(&[conversation.id])
        .await?
        .pop();
    rating.map(Json).ok_or(ApiError::NotFound("rating"))
}

#[derive(Serialize, ToSchema)]
pub struct QueuePosition {
    /// 0 when an agent has the conversation.
    pub position: i64,
}

#[utoipa::path(get, path = "/widget/v1/conversations/{conversation_id}/queue", tag = "widget",
    security(("visitor" = [])), params(("conversation_id" = i64, Path)),
    responses((status = 200, body = QueuePosition), (status = 404, body = ErrorBody)))]
pub async fn queue(
    State(state): State<AppState>,
    visitor: Visitor,
    ApiPath(id): ApiPath<Id>,
) -> ApiResult<Json<QueuePosition>> {
    let conversation = visitor.own_conversation(&state, id).await?;
    let position = state
        .store
        .widget()
        .queue_position(visitor.claims.workspace_id, conversation.id)
        .await?;
    Ok(Json(QueuePosition { position }))
}

#[utoipa::path(get, path = "/widget/v1/attachments/{attachment_id}", tag = "widget",
    security(("visitor" = [])), params(("attachment_id" = i64, Path)),
    responses((status = 200, description = "The file"), (status = 404, body = ErrorBody)))]
pub async fn attachment(
    State(state): State<AppState>,
    visitor: Visitor,
    ApiPath(id): ApiPath<Id>,
) -> ApiResult<Response> {
    let blob = state
        .store
        .get_attachment(visitor.claims.workspace_id, id)
        .await?
        .ok_or(ApiError::NotFound("attachment"))?;
    let conversation = visitor
        .own_conversation(&state, blob.conversation_id)
        .await?;
    let visible = state
        .store
        .list_messages(
            visitor.claims.workspace_id,
            conversation.id,
            &crate::store::Page {
                after: None,
                limit: 1000,
            },
        )
        .await?
        .iter()
        .any(|m| VisitorMessage::visible(m) && m.attachments.iter().any(|a| a.id == id));
    let Some(data) = blob.data.filter(|_| visible) else {
        return Err(ApiError::NotFound("attachment"));
    };
    Ok(crate::http::handlers::conversations::file_response(
        &blob.attachment,
        data,
    ))
}
