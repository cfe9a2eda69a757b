//! The HTTP face of the hub: REST API under /api/v1, health and metrics, OpenAPI and Swagger UI.
//! Routes come from the table in `routes.rs`; this module wires them with access control, body
//! limits, request metrics and tracing.

mod assets;
mod error_docs;
pub(crate) mod handlers;
pub mod listener;
pub mod openapi;
pub mod routes;
mod static_files;

use std::sync::Arc;
use std::time::Instant;

// The shared web glue lives below every adapter; these names keep the REST handlers' paths.
pub use crate::edge::{client_address, error, extract};

use axum::extract::{DefaultBodyLimit, FromRef, MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::auth::{hash_token, LoginLimiter};
use crate::config::Settings;
use crate::crypto::SecretBox;
use crate::desk::Desk;
use crate::domain::now_millis;
use crate::gateway::GatewayState;
use crate::store::Store;
use crate::widget::WidgetState;
use error::ApiError;
use routes::Access;

/// What the REST handlers share: the desk, the store for reading, and what only this adapter
/// needs. The widget's and the console socket's parts are their own states, handed to their
/// handlers by `FromRef`.
pub struct Shared {
    pub desk: Desk,
    /// For reading; writes that make events go through the desk.
    pub store: Arc<dyn Store>,
    /// The email channel's mail side: mail in (IMAP, forwarding) and replies out.
    pub email: Arc<crate::email::EmailChannel>,
    /// The channels this hub runs: setup, senders, webhook routes.
    pub channels: Arc<crate::channels::ChannelRegistry>,
    /// What the channels' own routes are handed as their state.
    pub channel_context: crate::channels::ChannelContext,
    pub secrets: SecretBox,
    pub limiter: LoginLimiter,
    /// Test sends per workspace (the console's "send test" button), held to a small rate.
    pub test_sends: handlers::channel_tests::TestSendLimiter,
    pub settings: Settings,
    pub prometheus: PrometheusHandle,
    pub signals: Arc<crate::signals::Signals>,
    /// Reverse proxies believed about where a request came from.
    pub proxies: client_address::TrustedProxies,
    pub widget: WidgetState,
    pub gateway: GatewayState,
}

#[derive(Clone)]
pub struct AppState(pub Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl FromRef<AppState> for Desk {
    fn from_ref(state: &AppState) -> Desk {
        state.desk.clone()
    }
}

impl FromRef<AppState> for WidgetState {
    fn from_ref(state: &AppState) -> WidgetState {
        state.widget.clone()
    }
}

impl FromRef<AppState> for GatewayState {
    fn from_ref(state: &AppState) -> GatewayState {
        state.gateway.clone()
    }
}

impl FromRef<AppState> for client_address::TrustedProxies {
    fn from_ref(state: &AppState) -> client_address::TrustedProxies {
        state.proxies.clone()
    }
}

/// The routes that carry files get the larger upload limit.
fn takes_uploads(path: &str) -> bool {
    path.ends_with("/messages")
}

pub fn router(state: AppState) -> Router {
    let mut api = Router::new();
    let table = routes::table_with(&state.channels, &state.channel_context);
    let allow = allowed_methods(table.iter().map(|(route, _)| route));
    let mut answers_options = std::collections::HashSet::new();
    for (route, handler) in table {
        let access = route.access;
        let limit = if takes_uploads(route.path) {
            state.settings.server.max_upload_bytes
        } else {
            state.settings.server.max_body_bytes
        };
        let mut handler = handler.layer(DefaultBodyLimit::max(limit)).route_layer(
            middleware::from_fn_with_state(
                state.clone(),
                move |state: State<AppState>, req: Request, next: Next| {
                    authenticate(state, access, req, next)
                },
            ),
        );
        if route.path.starts_with("/widget/") {
            // OPTIONS must be a method of the route, or the router's method-not-allowed
            // fallback answers the preflight before CORS sees it.
            handler = handler.options(|| async { axum::http::StatusCode::NO_CONTENT });
            // Widgets run on the customer's site: cross-origin by nature. Which origins may
            // embed an inbox is checked per inbox by the visitor extractor. CORS sits outside
            // authentication so that preflights are answered and errors stay readable.
            handler = handler.layer(
                tower_http::cors::CorsLayer::new()
                    .allow_origin(tower_http::cors::AllowOrigin::mirror_request())
                    .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
                    .allow_headers([
                        axum::http::header::AUTHORIZATION,
                        axum::http::header::CONTENT_TYPE,
                    ])
                    .max_age(std::time::Duration::from_secs(3600)),
            );
        } else if answers_options.insert(route.path) {
            // One OPTIONS per path (the router merges a path's methods, and a method twice
            // panics): 204 and the methods the path takes. The console API sets no CORS
            // policy, so a cross-origin preflight gets no Access-Control-* headers and the
            // browser refuses, as it should.
            let methods = allow[route.path].clone();
            handler = handler.options(move || async move {
                (
                    axum::http::StatusCode::NO_CONTENT,
                    [(axum::http::header::ALLOW, methods)],
                )
            });
        }
        api = api.route(route.path, handler);
    }
    api.merge(openapi::swagger_router())
        .merge(assets::routes())
        .fallback(|| async { ApiError::NotFound("route") })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed.into_response() })
        .layer(middleware::from_fn(record_metrics))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// Each path's methods as an `Allow` header value: what the table routes, HEAD with GET (axum
/// answers HEAD for GET routes), and OPTIONS.
fn allowed_methods<'a>(
    routes: impl Iterator<Item = &'a routes::Route>,
) -> std::collections::HashMap<&'static str, String> {
    let mut by_path: std::collections::HashMap<&'static str, Vec<&'a str>> =
        std::collections::HashMap::new();
    for route in routes {
        let methods = by_path.entry(route.path).or_default();
        methods.push(route.method.as_str());
        if route.method == axum::http::Method::GET {
            methods.push("HEAD");
        }
    }
    by_path
        .into_iter()
        .map(|(path, mut methods)| {
            methods.push("OPTIONS");
            methods.sort_unstable();
            methods.dedup();
            (path, methods.join(", "))
        })
        .collect()
}

/// Resolves the bearer token into a `Principal` and applies the route's access rule.
async fn authenticate(
    State(state): State<AppState>,
    access: Access,
    req: Request,
    next: Next,
) -> Response {
    // Visitor routes authenticate the visitor token themselves (see widget::visitor).
    if matches!(access, Access::Public | Access::Visitor) {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    // Browsers cannot set headers on WebSockets: the console socket also takes `?token=`.
    let token = match crate::auth::bearer_token(&parts.headers) {
        Some(token) => Some(token.to_string()),
        None if parts.uri.path() == "/api/v1/ws" => crate::auth::query_token(parts.uri.query()),
        None => None,
    };
    let Some(token) = token else {
        return ApiError::Unauthorized.into_response();
    };
    let principal = match state
        .store
        .principal_by_token(&hash_token(&token), now_millis())
        .await
    {
        Ok(Some(p)) => p,
        Ok(None) => return ApiError::Unauthorized.into_response(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    if access == Access::Admin && !principal.is_admin() {
        return ApiError::forbidden("this needs an owner or admin").into_response();
    }
    if access == Access::Owner && principal.user.role != crate::domain::Role::Owner {
        return ApiError::forbidden("this needs an owner").into_response();
    }
    // When a token was last used, for its owner's token list; written at most once a minute.
    let now = now_millis();
    if principal
        .token_last_used_at
        .is_none_or(|at| now - at >= crate::store::TOKEN_TOUCH_EVERY_MS)
    {
        let store = state.store.clone();
        let token_id = principal.token_id;
        tokio::spawn(async move {
            if let Err(e) = store.accounts().touch_token(token_id, now).await {
                tracing::warn!(error = %e, "could not note a token's use");
            }
        });
    }
    parts.extensions.insert(principal);
    next.run(Request::from_parts(parts, body)).await
}

async fn record_metrics(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("switchboard_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!("switchboard_http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}
