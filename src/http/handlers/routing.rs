//! Routing settings over the API: each inbox's policy, each agent's capacity and skills, and the
//! queue supervisors watch.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::visible_inbox;
use crate::domain::{now_millis, Conversation, Id};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::AppState;
use crate::routing::RoutingPolicy;
use crate::store::{AgentRouting, ConversationFilter, Page, Principal};

#[utoipa::path(get, path = "/api/v1/inboxes/{inbox_id}/routing", tag = "routing", security(("bearer" = [])),
    params(("inbox_id" = i64, Path)), responses((status = 200, body = RoutingPolicy), (status = 403, body = ErrorBody)))]
pub async fn policy(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(inbox_id): ApiPath<Id>,
) -> ApiResult<Json<RoutingPolicy>> {
    let inbox = visible_inbox(&state, &who, inbox_id).await?;
    let stored = state
        .store
        .routing()
        .policy(who.workspace_id(), inbox.id)
        .await?;
    Ok(Json(
        stored
            .and_then(|p| serde_json::from_str(&p).ok())
            .unwrap_or_default(),
    ))
}

#[utoipa::path(put, path = "/api/v1/inboxes/{inbox_id}/routing", tag = "routing", security(("bearer" = [])),
    params(("inbox_id" = i64, Path)), request_body = RoutingPolicy,
    responses((status = 200, body = RoutingPolicy), (status = 422, body = ErrorBody)))]
pub async fn set_policy(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(inbox_id): ApiPath<Id>,
    ApiJson(policy): ApiJson<RoutingPolicy>,
) -> ApiResult<Json<RoutingPolicy>> {
    let inbox = visible_inbox(&state, &who, inbox_id).await?;
    policy.validate().map_err(ApiError::Unprocessable)?;
    if let Some(team) = policy.team_id {
        state
            .store
            .get_team(who.workspace_id(), team)
            .await?
            .ok_or_else(|| ApiError::Unprocessable(format!("no team {team}")))?;
    }
    let json = serde_json::to_string(&policy).map_err(|e| ApiError::Internal(e.to_string()))?;
    state
        .desk
        .set_routing_policy(who.workspace_id(), inbox.id, &json)
        .await?;
    Ok(Json(policy))
}

#[utoipa::path(get, path = "/api/v1/users/{user_id}/routing", tag = "routing", security(("bearer" = [])),
    params(("user_id" = i64, Path)), responses((status = 200, body = AgentRouting), (status = 404, body = ErrorBody)))]
pub async fn agent(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(user_id): ApiPath<Id>,
) -> ApiResult<Json<AgentRouting>> {
    Ok(Json(
        state
            .store
            .routing()
            .agent(who.workspace_id(), user_id)
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentRoutingInput {
    /// Open conversations the router may give this agent at once (0 to 1000).
    pub capacity: i64,
    #[serde(default)]
    pub skills: Vec<String>,
}

#[utoipa::path(put, path = "/api/v1/users/{user_id}/routing", tag = "routing", security(("bearer" = [])),
    params(("user_id" = i64, Path)), request_body = AgentRoutingInput,
    responses((status = 200, body = AgentRouting), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_agent(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(user_id): ApiPath<Id>,
    ApiJson(body): ApiJson<AgentRoutingInput>,
) -> ApiResult<Json<AgentRouting>> {
    if !(0..=1000).contains(&body.capacity) {
        return Err(ApiError::Unprocessable("`capacity` is 0 to 1000".into()));
    }
    crate::limits::list(
        "skills",
        &body.skills,
        crate::limits::LIST_ITEMS,
        crate::limits::LABEL,
    )?;
    let agent = AgentRouting {
        user_id,
        capacity: body.capacity,
        skills: body.skills,
    };
    state
        .desk
        .set_agent_routing(who.workspace_id(), agent.clone())
        .await?;
    Ok(Json(agent))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    pub inbox: Option<Id>,
}

#[derive(Serialize, ToSchema)]
pub struct Waiting {
    pub position: i64,
    /// How long the customer has waited, in milliseconds.
    pub waiting_ms: i64,
    pub conversation: Conversation,
}

/// Unassigned open conversations in the order the router will hand them out (VIP first, then by
/// the inbox's priority), for supervisors.
#[utoipa::path(get, path = "/api/v1/queue", tag = "routing", security(("bearer" = [])),
    params(QueueQuery), responses((status = 200, body = Vec<Waiting>)))]
pub async fn queue(
    State(state): State<AppState>,
    who: Principal,
    ApiQuery(query): ApiQuery<QueueQuery>,
) -> ApiResult<Json<Vec<Waiting>>> {
    if let Some(inbox) = query.inbox {
        visible_inbox(&state, &who, inbox).await?;
    }
    let filter = ConversationFilter {
        status: Some(crate::domain::ConversationStatus::Open),
        assignee: Some(crate::store::AssigneeFilter::Unassigned),
        inbox_id: query.inbox,
        visible_inboxes: who.visible_inboxes(),
        ..Default::default()
    };
    let mut waiting = state
        .store
        .list_conversations(
            who.workspace_id(),
            &filter,
            &Page {
                after: None,
                limit: 200,
            },
        )
        .await?;
    let mut policies = std::collections::HashMap::new();
    for c in &waiting {
        if let std::collections::hash_map::Entry::Vacant(slot) = policies.entry(c.inbox_id) {
            let p: RoutingPolicy = state
                .store
                .routing()
                .policy(who.workspace_id(), c.inbox_id)
                .await?
                .and_then(|p| serde_json::from_str(&p).ok())
                .unwrap_or_default();
            slot.insert(p);
        }
    }
    waiting.sort_by_key(|c| {
        let p = &policies[&c.inbox_id];
        let vip = p.vip_label.as_ref().is_some_and(|l| c.labels.contains(l));
        let key = match p.priority {
            crate::routing::Priority::LongestWaiting => c.waiting_since.unwrap_or(c.created_at),
            crate::routing::Priority::EarliestCreated => c.created_at,
        };
        (!vip, key, c.id)
    });
    let now = now_millis();
    Ok(Json(
        waiting
            .into_iter()
            .enumerate()
            .map(|(i, c)| Waiting {
                position: i as i64 + 1,
                waiting_ms: now - c.waiting_since.unwrap_or(c.created_at),
                conversation: c,
            })
            .collect(),
    ))
}
