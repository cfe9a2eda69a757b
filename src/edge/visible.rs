//! What a caller may see, asked the same way by every adapter: the REST handlers and the
//! channels' own routes (the API channel's endpoints, WhatsApp's templates).

use super::error::{ApiError, ApiResult};
use crate::domain::{Id, Inbox};
use crate::store::{Principal, Store};

/// The inbox at this id in the caller's workspace (404 otherwise), if the caller may see it
/// (403 otherwise: agents see the inboxes they are members of).
pub async fn inbox(store: &dyn Store, who: &Principal, inbox_id: Id) -> ApiResult<Inbox> {
    let inbox = store
        .get_inbox(who.workspace_id(), inbox_id)
        .await?
        .ok_or(ApiError::NotFound("inbox"))?;
    if !who.can_see_inbox(inbox.id) {
        return Err(ApiError::forbidden("you are not a member of this inbox"));
    }
    Ok(inbox)
}
