//! The visitor's own conversations under /widget/v1: the list, their messages, read receipts,
//! ratings, queue position and attachments.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::visitor::{Visitor, VisitorMessage};
use super::WidgetState;
use crate::domain::Id;
use crate::edge::error::{ApiError, ApiResult, ErrorBody};
use crate::edge::extract::{ApiJson, ApiPath, ApiQuery};

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
    State(state): State<WidgetState>,
    visitor: Visitor,
) -> ApiResult<Json<VisitorConversations>> {
    let list = visitor.conversations(&state).await?;
    let ids: Vec<Id> = list.iter().map(|c| c.id).collect();
    let unread = state.store().widget().unread_by_contact(&ids).await?;
    let ratings = state.store().widget().ratings(&ids).await?;
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
    State(state): State<WidgetState>,
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
pub struct ReadInput {
    pub message_id: Id,
}

#[utoipa::path(post, path = "/widget/v1/conversations/{conversation_id}/read", tag = "widget",
    security(("visitor" = [])), params(("conversation_id" = i64, Path)), request_body = ReadInput,
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn read(
    State(state): State<WidgetState>,
    visitor: Visitor,
    ApiPath(id): ApiPath<Id>,
    ApiJson(body): ApiJson<ReadInput>,
) -> ApiResult<StatusCode> {
    let conversation = visitor.own_conversation(&state, id).await?;
    state
        .desk
        .mark_read_by_contact(
            visitor.claims.workspace_id,
            conversation.id,
            body.message_id,
        )
        .await?;
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
    State(state): State<WidgetState>,
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
    state
        .desk
        .rate(
            visitor.claims.workspace_id,
            conversation.id,
            body.score,
            body.comment,
        )
        .await?;
    let rating = state
        .store()
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
    State(state): State<WidgetState>,
    visitor: Visitor,
    ApiPath(id): ApiPath<Id>,
) -> ApiResult<Json<QueuePosition>> {
    let conversation = visitor.own_conversation(&state, id).await?;
    let position = state
        .store()
        .widget()
        .queue_position(visitor.claims.workspace_id, conversation.id)
        .await?;
    Ok(Json(QueuePosition { position }))
}

#[utoipa::path(get, path = "/widget/v1/attachments/{attachment_id}", tag = "widget",
    security(("visitor" = [])), params(("attachment_id" = i64, Path)),
    responses((status = 200, description = "The file"), (status = 404, body = ErrorBody)))]
pub async fn attachment(
    State(state): State<WidgetState>,
    visitor: Visitor,
    ApiPath(id): ApiPath<Id>,
) -> ApiResult<Response> {
    let blob = state
        .store()
        .get_attachment(visitor.claims.workspace_id, id)
        .await?
        .ok_or(ApiError::NotFound("attachment"))?;
    let conversation = visitor
        .own_conversation(&state, blob.conversation_id)
        .await?;
    let visible = state
        .store()
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
    Ok(crate::edge::attachments::file_response(
        &blob.attachment,
        data,
    ))
}
