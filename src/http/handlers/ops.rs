//! Operations endpoints: liveness, readiness, Prometheus metrics, the OpenAPI document.

use std::net::IpAddr;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::auth::hash_token;
use crate::http::error::ApiError;
use crate::http::extract::ClientIp;
use crate::http::AppState;

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "Alive")))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// The process can serve: its database answers.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "Ready"), (status = 503, description = "The database does not answer")))]
pub async fn readyz(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    state.store.ping().await.map_err(|e| {
        tracing::warn!(error = %e, "readiness check failed");
        ApiError::Unavailable
    })?;
    Ok("ready")
}

/// Prometheus text exposition. With `server.metrics_token` set, only to `Authorization: Bearer
/// <token>`; without it, only to clients on this machine (loopback), others get 404.
#[utoipa::path(get, path = "/metrics", tag = "operations", security((), ("bearer" = [])),
    responses((status = 200, description = "Metrics", content_type = "text/plain", body = String),
        (status = 401, description = "A metrics token is configured and this is not it", body = crate::http::error::ErrorBody),
        (status = 404, description = "No metrics token is configured and the client is not on loopback", body = crate::http::error::ErrorBody)))]
pub async fn metrics(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
) -> Response {
    let configured = state.settings.server.metrics_token.expose();
    let presented = crate::auth::bearer_token(&headers);
    // A reverse proxy on this machine connects from loopback too: what it forwards is not local,
    // and with a proxy configured, even what it forwards without saying so.
    let proxied = !state.proxies.is_empty()
        || ["forwarded", "x-forwarded-for", "x-real-ip"]
            .iter()
            .any(|name| headers.contains_key(*name));
    match metrics_gate(configured, presented, client.filter(|_| !proxied)) {
        MetricsGate::Open => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            state.prometheus.render(),
        )
            .into_response(),
        MetricsGate::NeedsToken => ApiError::Unauthorized.into_response(),
        MetricsGate::Hidden => ApiError::NotFound("route").into_response(),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum MetricsGate {
    Open,
    NeedsToken,
    /// Answered like an unknown route: nothing tells a stranger metrics exist.
    Hidden,
}

/// Who may read /metrics. Metrics name routes, inboxes' traffic and error rates: not for the
/// public internet. A configured token is the only key (also on loopback, where a proxy in front
/// of the hub would otherwise let everyone in); without one, the machine itself may scrape.
fn metrics_gate(configured: &str, presented: Option<&str>, client: Option<IpAddr>) -> MetricsGate {
    if !configured.is_empty() {
        // Compared as digests, so the time taken says nothing about the token.
        return match presented {
            Some(token) if hash_token(token) == hash_token(configured) => MetricsGate::Open,
            _ => MetricsGate::NeedsToken,
        };
    }
    match client {
        Some(ip) if ip.is_loopback() || ip.to_canonical().is_loopback() => MetricsGate::Open,
        _ => MetricsGate::Hidden,
    }
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "operations", responses((status = 200, description = "OpenAPI 3.1")))]
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(crate::http::openapi::document())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_token_only_loopback_reads_metrics() {
        let local: IpAddr = "127.0.0.1".parse().unwrap();
        let local6: IpAddr = "::1".parse().unwrap();
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        let remote: IpAddr = "203.0.113.7".parse().unwrap();
        assert_eq!(metrics_gate("", None, Some(local)), MetricsGate::Open);
        assert_eq!(metrics_gate("", None, Some(local6)), MetricsGate::Open);
        assert_eq!(metrics_gate("", None, Some(mapped)), MetricsGate::Open);
        assert_eq!(metrics_gate("", None, Some(remote)), MetricsGate::Hidden);
        assert_eq!(
            metrics_gate("", Some("guess"), Some(remote)),
            MetricsGate::Hidden
        );
        assert_eq!(metrics_gate("", None, None), MetricsGate::Hidden);
    }

    #[test]
    fn a_configured_token_is_needed_from_everywhere() {
        let local: IpAddr = "127.0.0.1".parse().unwrap();
        let remote: IpAddr = "203.0.113.7".parse().unwrap();
        assert_eq!(
            metrics_gate("s3cret", Some("s3cret"), Some(remote)),
            MetricsGate::Open
        );
        assert_eq!(
            metrics_gate("s3cret", None, Some(local)),
            MetricsGate::NeedsToken
        );
        assert_eq!(
            metrics_gate("s3cret", Some("s3cre"), Some(remote)),
            MetricsGate::NeedsToken
        );
    }
}
