//! Conversations, their messages (replies and private notes), assignment, and attachments.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use switchboard_connector_core::AttachmentSource;
use utoipa::{IntoParams, ToSchema};

use super::visible_conversation;
use crate::domain::{Conversation, ConversationStatus, Id, Message};
use crate::edge::attachments::{
    check_attachment_types, file_response, parse_attachments, AttachmentInput,
};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, PageQuery, Paged};
use crate::http::AppState;
use crate::store::{
    Actor, AssigneeFilter, ConversationFilter, ConversationPatch, ConversationSummary,
    NewAttachment, NewReply, Principal, ViewCounts,
};

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ConversationQuery {
    /// open, pending, snoozed or resolved.
    pub status: Option<String>,
    /// `me`, `none` (unassigned), or a user id.
    pub assignee: Option<String>,
    pub inbox: Option<Id>,
    pub contact: Option<Id>,
    /// Only conversations carrying this label.
    pub label: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/conversations", tag = "conversations", security(("bearer" = [])),
    params(ConversationQuery),
    responses((status = 200, description = "Most recent activity first, each with what the inbox list shows", body = Paged<ListedConversation>)))]
pub async fn list(
    State(state): State<AppState>,
    who: Principal,
    ApiQuery(query): ApiQuery<ConversationQuery>,
) -> ApiResult<Json<Paged<ListedConversation>>> {
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .page()?;
    let status = query
        .status
        .as_deref()
        .map(|s| {
            ConversationStatus::parse(s)
                .ok_or_else(|| ApiError::BadRequest(format!("unknown status {s:?}")))
        })
        .transpose()?;
    let assignee = match query.assignee.as_deref() {
        None => None,
        Some("me") => Some(AssigneeFilter::User(who.user.id)),
        Some("none") => Some(AssigneeFilter::Unassigned),
        Some(id) => Some(AssigneeFilter::User(id.parse().map_err(|_| {
            ApiError::BadRequest("`assignee` is `me`, `none` or a user id".into())
        })?)),
    };
    let filter = ConversationFilter {
        status,
        assignee,
        inbox_id: query.inbox,
        contact_id: query.contact,
        label: query.label.filter(|l| !l.is_empty()),
        visible_inboxes: who.visible_inboxes(),
    };
    let conversations = state
        .store
        .list_conversations(who.workspace_id(), &filter, &page)
        .await?;
    let ids: Vec<Id> = conversations.iter().map(|c| c.id).collect();
    let mut summaries: std::collections::HashMap<Id, ConversationSummary> = state
        .store
        .console()
        .summaries(who.workspace_id(), who.user.id, &ids)
        .await?
        .into_iter()
        .map(|s| (s.conversation_id, s))
        .collect();
    let listed = conversations
        .into_iter()
        .map(|conversation| ListedConversation {
            summary: summaries.remove(&conversation.id).unwrap_or_default(),
            conversation,
        })
        .collect();
    Ok(Json(Paged::new(listed, page.limit, |c| {
        (c.conversation.last_activity_at, c.conversation.id)
    })))
}

/// A row of the inbox list: the conversation and who it is with, the last message, unread count.
#[derive(Serialize, ToSchema)]
pub struct ListedConversation {
    #[serde(flatten)]
    pub conversation: Conversation,
    pub summary: ConversationSummary,
}

#[utoipa::path(get, path = "/api/v1/conversations/counts", tag = "conversations", security(("bearer" = [])),
    responses((status = 200, description = "Open conversations per view of the inbox list", body = ViewCounts)))]
pub async fn counts(State(state): State<AppState>, who: Principal) -> ApiResult<Json<ViewCounts>> {
    let visible = who.visible_inboxes();
    Ok(Json(
        state
            .store
            .console()
            .view_counts(who.workspace_id(), who.user.id, visible.as_deref())
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/conversations/{conversation_id}", tag = "conversations", security(("bearer" = [])),
    params(("conversation_id" = i64, Path)),
    responses((status = 200, body = ConversationDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<Id>,
) -> ApiResult<Json<ConversationDetail>> {
    let conversation = visible_conversation(&state, &who, id).await?;
    let rating = state
        .store
        .widget()
        .ratings(&[conversation.id])
        .await?
        .pop();
    Ok(Json(ConversationDetail {
        conversation,
        rating,
    }))
}

/// A conversation with what the customer said of it.
#[derive(Serialize, ToSchema)]
pub struct ConversationDetail {
    #[serde(flatten)]
    pub conversation: Conversation,
    /// The customer's rating (CSAT), once they gave one.
    pub rating: Option<crate::store::Rating>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadBody {
    /// The newest message the agent has seen.
    pub message_id: Id,
}

/// The caller has read the conversation up to `message_id`: their read marker moves on and the
/// customer's messages up to there become `read` (the website widget shows "Seen").
#[utoipa::path(post, path = "/api/v1/conversations/{conversation_id}/read", tag = "conversations",
    security(("bearer" = [])), params(("conversation_id" = i64, Path)), request_body = ReadBody,
    responses((status = 204, description = "Marked"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn mark_read(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<Id>,
    ApiJson(body): ApiJson<ReadBody>,
) -> ApiResult<StatusCode> {
    let conversation = visible_conversation(&state, &who, id).await?;
    state
        .desk
        .mark_read(
            who.workspace_id(),
            who.user.id,
            conversation.id,
            body.message_id,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateConversation {
    pub status: Option<ConversationStatus>,
    /// With `status: snoozed`: when it wakes up (Unix milliseconds).
    pub snoozed_until: Option<i64>,
    pub priority: Option<i64>,
    pub labels: Option<Vec<String>>,
}

fn actor(who: &Principal) -> Actor {
    Actor {
        user_id: who.user.id,
        name: who.user.name.clone(),
    }
}

#[utoipa::path(patch, path = "/api/v1/conversations/{conversation_id}", tag = "conversations", security(("bearer" = [])),
    params(("conversation_id" = i64, Path)), request_body = UpdateConversation,
    responses((status = 200, body = Conversation), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<Id>,
    ApiJson(body): ApiJson<UpdateConversation>,
) -> ApiResult<Json<Conversation>> {
    let conversation = visible_conversation(&state, &who, id).await?;
    if let Some(labels) = &body.labels {
        if labels.len() > 50 || labels.iter().any(|l| l.trim().is_empty() || l.len() > 64) {
            return Err(ApiError::Unprocessable(
                "labels are 1 to 64 characters, at most 50".into(),
            ));
        }
    }
    let patch = ConversationPatch {
        status: body.status,
        snoozed_until: body.snoozed_until,
        priority: body.priority,
        labels: body.labels,
    };
    let updated = state
        .desk
        .update_conversation(who.workspace_id(), conversation.id, patch, actor(&who))
        .await?;
    Ok(Json(updated))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    /// The agent, or null to unassign.
    pub assignee_id: Option<Id>,
    pub team_id: Option<Id>,
}

#[utoipa::path(post, path = "/api/v1/conversations/{conversation_id}/assignment", tag = "conversations", security(("bearer" = [])),
    params(("conversation_id" = i64, Path)), request_body = Assignment,
    responses((status = 200, body = Conversation), (status = 422, description = "The assignee cannot see this inbox", body = ErrorBody)))]
pub async fn assign(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<Id>,
    ApiJson(body): ApiJson<Assignment>,
) -> ApiResult<Json<Conversation>> {
    let conversation = visible_conversation(&state, &who, id).await?;
    let updated = state
        .desk
        .assign(
            who.workspace_id(),
            conversation.id,
            crate::store::Assignment {
                assignee_id: body.assignee_id,
                team_id: body.team_id,
            },
            actor(&who),
        )
        .await?;
    Ok(Json(updated))
}

#[utoipa::path(get, path = "/api/v1/conversations/{conversation_id}/messages", tag = "conversations", security(("bearer" = [])),
    params(("conversation_id" = i64, Path), PageQuery),
    responses((status = 200, description = "Oldest first", body = Paged<Message>)))]
pub async fn messages(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<Id>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<Paged<Message>>> {
    let conversation = visible_conversation(&state, &who, id).await?;
    let page = query.page()?;
    let messages = state
        .store
        .list_messages(who.workspace_id(), conversation.id, &page)
        .await?;
    Ok(Json(Paged::new(messages, page.limit, |m| (0, m.id))))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyBody {
    pub text: String,
    pub html: Option<String>,
    /// A private note: seen by agents only, never sent to the customer.
    #[serde(default)]
    pub private: bool,
    #[serde(default)]
    pub attachments: Vec<AttachmentInput>,
    /// Email conversations only: more recipients who get a copy.
    #[serde(default)]
    pub cc: Vec<String>,
    /// Email conversations only: recipients who get a copy the others do not see.
    #[serde(default)]
    pub bcc: Vec<String>,
    /// WhatsApp conversations only: an approved message template to send, the one kind of
    /// message allowed outside the 24-hour customer-service window. `text` may then be empty:
    /// the stored text is the template's body with its parameters filled in.
    #[serde(default)]
    pub template: Option<TemplateReply>,
    /// The inbox the reply goes out through, in a conversation across channels: a
    /// contact-scoped inbox you see on which the contact has an identity. Without it the reply
    /// goes where the customer last wrote.
    #[serde(default)]
    pub via_inbox_id: Option<Id>,
    /// Made by the client for this send (a UUID, say; up to 64 letters, digits or `-_.:`). A
    /// retry with the same `client_id` from the same author in the same conversation is stored
    /// once and answered with the stored message (200); another body with it is refused (409).
    #[serde(default)]
    pub client_id: Option<String>,
}

/// A message template and the values of its body's `{{1}}`, `{{2}}`… placeholders, in order.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateReply {
    pub name: String,
    /// The template's language code, as `GET /api/v1/inboxes/{inbox_id}/templates` lists it.
    pub language: String,
    #[serde(default)]
    pub parameters: Vec<String>,
}

/// CC and BCC go with email replies only, and must be real addresses.
async fn email_copies(
    state: &AppState,
    who: &Principal,
    conversation: &crate::domain::Conversation,
    body: &ReplyBody,
) -> ApiResult<Option<serde_json::Value>> {
    if body.cc.is_empty() && body.bcc.is_empty() {
        return Ok(None);
    }
    let inbox = state
        .store
        .get_inbox(who.workspace_id(), conversation.inbox_id)
        .await?;
    if inbox.map(|i| i.kind) != Some(switchboard_connector_core::ChannelKind::Email) {
        return Err(ApiError::Unprocessable(
            "`cc` and `bcc` are for email conversations only".into(),
        ));
    }
    if body.private {
        return Err(ApiError::Unprocessable(
            "a private note has no recipients: drop `cc` and `bcc`".into(),
        ));
    }
    let mut lists = Vec::new();
    for (field, list) in [("cc", &body.cc), ("bcc", &body.bcc)] {
        if list.len() > 50 {
            return Err(ApiError::Unprocessable(format!(
                "`{field}` has more than 50 addresses"
            )));
        }
        let mut clean = Vec::new();
        for address in list {
            let parsed = crate::domain::EmailAddress::parse(address).map_err(|_| {
                ApiError::Unprocessable(format!("`{field}`: {address:?} is not an email address"))
            })?;
            clean.push(parsed.as_str().to_string());
        }
        lists.push(clean);
    }
    Ok(Some(
        serde_json::json!({ "email": { "cc": lists[0], "bcc": lists[1] } }),
    ))
}

#[utoipa::path(post, path = "/api/v1/conversations/{conversation_id}/messages", tag = "conversations", security(("bearer" = [])),
    params(("conversation_id" = i64, Path)), request_body = ReplyBody,
    responses((status = 201, description = "Stored; replies are queued for delivery", body = Message),
        (status = 200, description = "A retry with a known `client_id`: the message stored before", body = Message),
        (status = 409, description = "The `client_id` was used for another message", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn reply(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<Id>,
    ApiJson(body): ApiJson<ReplyBody>,
) -> ApiResult<(StatusCode, Json<Message>)> {
    let conversation = visible_conversation(&state, &who, id).await?;
    let client = super::reply_client::reply_client(&body)?;
    let mut text = body.text.trim_end().to_string();
    if text.trim().is_empty() && body.attachments.is_empty() && body.template.is_none() {
        return Err(ApiError::Unprocessable(
            "a message needs `text` or attachments".into(),
        ));
    }
    if text.len() > crate::desk::MAX_TEXT_BYTES {
        return Err(ApiError::Unprocessable(
            "`text` is longer than 64 KiB".into(),
        ));
    }
    if let Some(html) = &body.html {
        crate::limits::bytes("html", html, crate::limits::HTML_BYTES)?;
    }
    let mut meta = email_copies(&state, &who, &conversation, &body).await?;
    if let Some(template) = &body.template {
        if body.private {
            return Err(ApiError::Unprocessable(
                "a private note is never sent: drop `template`".into(),
            ));
        }
        meta = Some(serde_json::json!({ "template": template }));
    }
    if body.private && body.via_inbox_id.is_some() {
        return Err(ApiError::Unprocessable(
            "a private note goes out through no inbox: drop `via_inbox_id`".into(),
        ));
    }
    let mut via = None;
    if !body.private {
        // The channel's own rule for replies (WhatsApp's customer-service window), asked of
        // the inbox the reply goes out through.
        let inbox = state
            .desk
            .reply_inbox(&who, &conversation, body.via_inbox_id)
            .await?;
        via = body.via_inbox_id.map(|_| inbox.id);
        if body.template.is_some()
            && inbox.kind != switchboard_connector_core::ChannelKind::Whatsapp
        {
            return Err(ApiError::Unprocessable(
                "`template` is for WhatsApp conversations only".into(),
            ));
        }
        state
            .channels
            .check_reply(&state.channel_context, &inbox, &conversation, meta.as_ref())
            .await?;
        // What goes out is the channel's content (a template's body): store that.
        if let Some(stored) = state
            .channels
            .reply_text(&state.channel_context, &inbox, meta.as_ref())
            .await?
        {
            text = stored;
        }
        if inbox.kind == switchboard_connector_core::ChannelKind::Email {
            // Kept with the message, so that every retry sends the signature it was written with.
            let signature = state
                .store
                .profiles()
                .email_signature(who.workspace_id(), who.user.id)
                .await?;
            meta = crate::email::with_agent_signature(meta, signature);
        }
    }
    let attachments = parse_attachments(body.attachments)?;
    check_attachment_types(&attachments, &state.settings.attachments.content_types)?;
    let attachments = attachments
        .into_iter()
        .map(|(filename, content_type, source)| match source {
            AttachmentSource::Url(url) => NewAttachment {
                filename,
                content_type,
                url: Some(url),
                data: None,
            },
            AttachmentSource::Inline(data) => NewAttachment {
                filename,
                content_type,
                url: None,
                data: Some(data),
            },
        })
        .collect();
    let reply = NewReply {
        workspace_id: who.workspace_id(),
        conversation_id: conversation.id,
        author: actor(&who),
        text,
        html: body.html,
        private: body.private,
        attachments,
        meta,
        client,
        // The desk decides, from the inbox's routing policy.
        assign_to_author: false,
    };
    let replied = match via {
        Some(inbox) => state.desk.reply_via(reply, inbox).await?,
        None => state.desk.reply(reply).await?,
    };
    let status = if replied.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(replied.message)))
}

#[utoipa::path(get, path = "/api/v1/attachments/{attachment_id}", tag = "conversations", security(("bearer" = [])),
    params(("attachment_id" = i64, Path)),
    responses((status = 200, description = "The file"), (status = 307, description = "Stored by reference elsewhere"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn attachment(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<Id>,
) -> ApiResult<Response> {
    let blob = state
        .store
        .get_attachment(who.workspace_id(), id)
        .await?
        .ok_or(ApiError::NotFound("attachment"))?;
    if !who.can_see_inbox(blob.inbox_id) {
        return Err(ApiError::forbidden(
            "you are not a member of this attachment's inbox",
        ));
    }
    match (blob.data, &blob.attachment.url) {
        (Some(data), _) => Ok(file_response(&blob.attachment, data)),
        // Re-parsed: a URL stored raw by an older release may carry characters a header cannot.
        (None, Some(url)) => match url::Url::parse(url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => {
                Ok(Redirect::temporary(url.as_str()).into_response())
            }
            _ => Err(ApiError::NotFound("attachment content")),
        },
        (None, None) => Err(ApiError::NotFound("attachment content")),
    }
}

/// How far the caller has read this conversation, and how many messages are after that.
#[utoipa::path(get, path = "/api/v1/conversations/{conversation_id}/read", tag = "conversations",
    security(("bearer" = [])), params(("conversation_id" = i64, Path)),
    responses((status = 200, body = crate::store::ReadMarker), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn read_marker(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<Id>,
) -> ApiResult<Json<crate::store::ReadMarker>> {
    let conversation = visible_conversation(&state, &who, id).await?;
    Ok(Json(
        state
            .store
            .gateway()
            .read_marker(who.workspace_id(), who.user.id, conversation.id)
            .await?,
    ))
}
