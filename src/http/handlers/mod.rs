//! Request handlers, one module per resource. Each handler checks what its path points at against
//! the caller (the route table has already checked the role).

pub mod account;
pub mod audit;
pub mod auth;
pub mod canned;
pub mod channel_tests;
pub mod channels;
pub mod connection_checks;
pub mod contacts;
pub mod conversations;
pub mod events;
pub mod inboxes;
pub mod invitations;
pub mod ops;
pub mod people;
pub mod reply_client;
pub mod routing;

use crate::domain::{Conversation, Id, Inbox};
use crate::store::Principal;

use super::error::{ApiError, ApiResult};
use super::AppState;

/// The inbox at this id, if the caller may see it: 404 outside their workspace, 403 inside it
/// without membership.
pub async fn visible_inbox(state: &AppState, who: &Principal, inbox_id: Id) -> ApiResult<Inbox> {
    crate::edge::visible::inbox(state.store.as_ref(), who, inbox_id).await
}

/// The conversation at this id, if the caller may see its inbox.
pub async fn visible_conversation(
    state: &AppState,
    who: &Principal,
    conversation_id: Id,
) -> ApiResult<Conversation> {
    let conversation = state
        .store
        .get_conversation(who.workspace_id(), conversation_id)
        .await?
        .ok_or(ApiError::NotFound("conversation"))?;
    if !who.can_see_inbox(conversation.inbox_id) {
        return Err(ApiError::forbidden(
            "you are not a member of this conversation's inbox",
        ));
    }
    Ok(conversation)
}

/// `{"user_id": …}`: who to add to an inbox or a team.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMemberBody {
    pub user_id: Id,
}
