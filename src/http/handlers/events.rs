//! The event log over HTTP: what changed since a sequence number, for clients that poll or that
//! catch up after being away. The WebSocket gateway streams the same events live.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::Event;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::ApiQuery;
use crate::http::AppState;
use crate::store::Principal;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    /// The last sequence number seen; 0 for the start.
    pub after: Option<i64>,
    /// 1 to 1000, default 200.
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct EventPage {
    pub events: Vec<Event>,
    /// Pass as `after` next time. Past events the caller may not see still move it forward.
    pub last_seq: i64,
}

#[utoipa::path(get, path = "/api/v1/events", tag = "events", security(("bearer" = [])),
    params(EventQuery), responses((status = 200, body = EventPage)))]
pub async fn list(
    State(state): State<AppState>,
    who: Principal,
    ApiQuery(query): ApiQuery<EventQuery>,
) -> ApiResult<Json<EventPage>> {
    let limit = query.limit.unwrap_or(200);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::BadRequest(
            "`limit` must be between 1 and 1000".into(),
        ));
    }
    let after = query.after.unwrap_or(0).max(0);
    let events = state
        .store
        .events_after(who.workspace_id(), after, limit)
        .await?;
    let last_seq = events.last().map_or(after, |e| e.seq);
    let events = events
        .into_iter()
        .filter(|e| e.inbox_id.is_none_or(|inbox| who.can_see_inbox(inbox)))
        .filter(|e| who.is_admin() || !crate::gateway::hub::admins_only(e))
        .collect();
    Ok(Json(EventPage { events, last_seq }))
}
