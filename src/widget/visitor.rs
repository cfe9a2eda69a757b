//! Who a visitor request comes from: a signed visitor token, for a web chat inbox that still
//! exists, from an allowed origin, verified when the inbox requires it. Checked on every visitor
//! endpoint and the socket alike.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use serde::Serialize;
use switchboard_connector_core::ChannelKind;
use utoipa::ToSchema;

use super::WidgetState;
use super::{VisitorClaims, WebChatSettings};
use crate::domain::{Attachment, Conversation, Direction, Id, Inbox, Message};
use crate::edge::error::ApiError;

pub struct Visitor {
    pub claims: VisitorClaims,
    pub inbox: Inbox,
    pub settings: WebChatSettings,
}

impl Visitor {
    /// The visitor's conversations in this inbox, most recent first.
    pub async fn conversations(&self, state: &WidgetState) -> Result<Vec<Conversation>, ApiError> {
        let filter = crate::store::ConversationFilter {
            inbox_id: Some(self.inbox.id),
            contact_id: Some(self.claims.contact_id),
            ..Default::default()
        };
        let page = crate::store::Page {
            after: None,
            limit: 50,
        };
        Ok(state
            .store()
            .list_conversations(self.claims.workspace_id, &filter, &page)
            .await?)
    }

    /// What the visitor may see of a conversation after message `after` (private notes and
    /// internal activity left out), oldest first, at most `limit` messages; whether that was all.
    pub async fn messages_after(
        &self,
        state: &WidgetState,
        conversation_id: Id,
        mut after: Id,
        limit: usize,
    ) -> Result<(Vec<VisitorMessage>, bool), ApiError> {
        let mut names = AgentNames::default();
        let mut data = Vec::new();
        loop {
            let page = crate::store::Page {
                after: Some((0, after)),
                limit: 200,
            };
            let batch = state
                .store()
                .list_messages(self.claims.workspace_id, conversation_id, &page)
                .await?;
            let done = batch.len() < 200;
            for message in &batch {
                after = message.id;
                if VisitorMessage::visible(message) {
                    let name = names.name(state, self.claims.workspace_id, message).await;
                    data.push(VisitorMessage::new(message, name));
                }
            }
            if done {
                return Ok((data, true));
            }
            if data.len() >= limit {
                return Ok((data, false));
            }
        }
    }

    /// The conversation at this id, if it is this visitor's own; 404 otherwise, so another
    /// visitor's ids reveal nothing.
    pub async fn own_conversation(
        &self,
        state: &WidgetState,
        id: Id,
    ) -> Result<Conversation, ApiError> {
        state
            .store()
            .get_conversation(self.claims.workspace_id, id)
            .await?
            .filter(|c| c.contact_id == self.claims.contact_id && c.inbox_id == self.inbox.id)
            .ok_or(ApiError::NotFound("conversation"))
    }
}

pub fn origin(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers.get(header::ORIGIN).and_then(|v| v.to_str().ok())
}

/// The visitor token of a request: `Authorization: Bearer` or, for sockets, `?token=`.
fn token(parts: &Parts) -> Option<String> {
    crate::auth::bearer_token(&parts.headers)
        .map(str::to_string)
        .or_else(|| crate::auth::query_token(parts.uri.query()))
}

impl<S> FromRequestParts<S> for Visitor
where
    S: Send + Sync,
    WidgetState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let state = WidgetState::from_ref(state);
        let token = token(parts).ok_or(ApiError::Unauthorized)?;
        let claims = state
            .visitor_tokens
            .verify(&token, crate::domain::now_millis())
            .map_err(|e| ApiError::Unauthorized.with_reason(e.to_string()))?;
        let inbox = state
            .store()
            .get_inbox(claims.workspace_id, claims.inbox_id)
            .await?
            .filter(|i| i.kind == ChannelKind::WebChat)
            .ok_or(ApiError::Unauthorized)?;
        let settings = WebChatSettings::from_inbox(&inbox.settings);
        if !settings.origin_allowed(origin(&parts.headers)) {
            return Err(ApiError::forbidden("this site may not embed the widget"));
        }
        if settings.require_identity_verification && claims.verified.is_none() {
            return Err(ApiError::forbidden(
                "this chat requires a verified identity",
            ));
        }
        Ok(Visitor {
            claims,
            inbox,
            settings,
        })
    }
}

/// A message as a visitor sees it: no private notes, no internal activity, agents by name.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct VisitorMessage {
    pub id: Id,
    pub conversation_id: Id,
    /// `incoming` from the visitor, `outgoing` from an agent.
    pub direction: Direction,
    pub text: String,
    pub attachments: Vec<Attachment>,
    pub sender_name: Option<String>,
    pub status: crate::domain::DeliveryStatus,
    pub created_at: i64,
}

impl VisitorMessage {
    pub fn visible(message: &Message) -> bool {
        matches!(message.direction, Direction::Incoming | Direction::Outgoing)
    }

    pub fn new(message: &Message, sender_name: Option<String>) -> Self {
        VisitorMessage {
            id: message.id,
            conversation_id: message.conversation_id,
            direction: message.direction,
            text: message.text.clone(),
            attachments: message
                .attachments
                .iter()
                .map(|a| Attachment {
                    url: Some(
                        a.url
                            .clone()
                            .unwrap_or_else(|| format!("/widget/v1/attachments/{}", a.id)),
                    ),
                    ..a.clone()
                })
                .collect(),
            sender_name,
            status: message.status,
            created_at: message.created_at,
        }
    }
}

/// Agents' display names, looked up once per user.
#[derive(Default)]
pub struct AgentNames(std::collections::HashMap<Id, Option<String>>);

impl AgentNames {
    pub async fn name(
        &mut self,
        state: &WidgetState,
        workspace_id: Id,
        message: &Message,
    ) -> Option<String> {
        if message.direction != Direction::Outgoing {
            return None;
        }
        let user_id = message.sender_id?;
        if let std::collections::hash_map::Entry::Vacant(slot) = self.0.entry(user_id) {
            let name = state
                .store()
                .get_user(workspace_id, user_id)
                .await
                .ok()
                .flatten()
                .map(|u| u.name);
            slot.insert(name);
        }
        self.0.get(&user_id).cloned().flatten()
    }
}
