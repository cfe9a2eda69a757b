//! The API channel's status endpoint: the system behind an API inbox tells the hub what became of
//! a reply it was handed (delivered, read, failed), as SMS and messenger providers do with their
//! status callbacks, so agents see it move in the thread.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use switchboard_connector_core::provider::{ProviderStatus, StatusUpdate};
use utoipa::ToSchema;

use crate::channels::ChannelContext;
use crate::domain::Id;
use crate::edge::error::{ApiError, ApiResult, ErrorBody};
use crate::edge::extract::{ApiJson, ApiPath};
use crate::limits;
use crate::store::Principal;

/// Where a reply is now, as the receiving system reports it.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportedStatus {
    Delivered,
    Read,
    Failed,
}

impl From<ReportedStatus> for ProviderStatus {
    fn from(s: ReportedStatus) -> Self {
        match s {
            ReportedStatus::Delivered => ProviderStatus::Delivered,
            ReportedStatus::Read => ProviderStatus::Read,
            ReportedStatus::Failed => ProviderStatus::Failed,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    /// The id your callback receiver answered (`{"id": …}`) when it took the reply.
    pub external_id: String,
    pub status: ReportedStatus,
    /// Why it failed, in your words; shown to agents.
    pub error: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct StatusTaken {
    pub accepted: bool,
}

/// Reports what became of a reply the callback receiver took. Statuses only move forward
/// (delivered → read; failed ends a reply that was not read), so late or repeated reports change
/// nothing; a report that arrives before the hub has recorded the send is kept and applied then.
#[utoipa::path(post, path = "/api/v1/inboxes/{inbox_id}/statuses", tag = "inboxes", security(("bearer" = [])),
    params(("inbox_id" = i64, Path)), request_body = StatusBody,
    responses(
        (status = 202, description = "Taken: the reply moves forward if this is news", body = StatusTaken),
        (status = 422, description = "Not an API inbox, or a field is wrong", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(inbox = inbox_id))]
pub async fn report_status(
    State(ctx): State<ChannelContext>,
    who: Principal,
    ApiPath(inbox_id): ApiPath<Id>,
    ApiJson(body): ApiJson<StatusBody>,
) -> ApiResult<(StatusCode, Json<StatusTaken>)> {
    let inbox = super::api_inbox(&ctx, &who, inbox_id, "statuses").await?;
    let external_id = body.external_id.trim();
    limits::text("external_id", external_id, limits::EXTERNAL_ID)?;
    if external_id.is_empty() {
        return Err(ApiError::Unprocessable(
            "`external_id` names no message".into(),
        ));
    }
    let error = body
        .error
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty());
    limits::optional("error", error, limits::SETTING_TEXT)?;
    if error.is_some() && !matches!(body.status, ReportedStatus::Failed) {
        return Err(ApiError::Unprocessable(
            "`error` goes with `\"status\": \"failed\"` only".into(),
        ));
    }
    ctx.desk
        .provider_status(
            inbox.id,
            StatusUpdate {
                provider_message_id: external_id.to_string(),
                status: body.status.into(),
                error: error.map(str::to_string),
            },
        )
        .await?;
    Ok((StatusCode::ACCEPTED, Json(StatusTaken { accepted: true })))
}
