//! The channels the hub runs, with their setup forms, for the console's "new inbox" page.

use axum::extract::State;
use axum::Json;

use crate::channels::ChannelForm;
use crate::http::error::ApiResult;
use crate::http::AppState;
use crate::store::Principal;

#[utoipa::path(get, path = "/api/v1/channels", tag = "inboxes", security(("bearer" = [])),
    responses((status = 200, description = "Each channel's kind, label and setup fields", body = Vec<ChannelForm>)))]
pub async fn list(
    State(state): State<AppState>,
    _who: Principal,
) -> ApiResult<Json<Vec<ChannelForm>>> {
    Ok(Json(state.channels.forms()))
}
