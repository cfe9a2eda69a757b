//! What the hub shows to whoever connects, before any token: who may scrape /metrics, how
//! OPTIONS and wrong methods are answered, and the Content-Security-Policy of the pages it serves.

mod common;

use common::*;

async fn metrics_with(app: &TestApp, token: Option<&str>) -> reqwest::Response {
    let mut req = app.http.get(format!("{}/metrics", app.url));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn a_configured_metrics_token_is_asked_of_every_scraper() {
    let app = spawn_app_with(Engine::Sqlite, |s| {
        s.server.metrics_token = switchboard::config::Secret::new("scrape-me-7f3a");
    })
    .await;
    // Loopback does not open it either: a proxy on the same machine would let everyone in.
    assert_eq!(metrics_with(&app, None).await.status(), 401);
    assert_eq!(metrics_with(&app, Some("scrape-me")).await.status(), 401);
    // A console token is not the metrics token.
    assert_eq!(metrics_with(&app, Some(&app.token)).await.status(), 401);
    let scraped = metrics_with(&app, Some("scrape-me-7f3a")).await;
    assert_eq!(scraped.status(), 200);
    assert!(scraped.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    app.stop().await;
}

#[tokio::test]
async fn without_a_metrics_token_the_machine_itself_may_scrape() {
    // The test client is on loopback; remote clients get 404 (ops.rs unit tests pin that rule,
    // as this machine has no second address to connect from).
    let app = spawn_app(Engine::Sqlite).await;
    let scraped = metrics_with(&app, None).await;
    assert_eq!(scraped.status(), 200);
    assert!(scraped.text().await.unwrap().contains("switchboard_"));
    // A reverse proxy on this machine connects from loopback too; what it forwards is hidden.
    for header in ["x-forwarded-for", "forwarded", "x-real-ip"] {
        let proxied = app
            .http
            .get(format!("{}/metrics", app.url))
            .header(header, "for=203.0.113.7")
            .send()
            .await
            .unwrap();
        assert_eq!(proxied.status(), 404, "{header}");
    }
    app.stop().await;
}

#[tokio::test]
async fn behind_a_configured_proxy_metrics_need_the_token_even_from_loopback() {
    // A proxy that adds no forwarding header makes every request look local.
    let app = spawn_app_with(Engine::Sqlite, |s| {
        s.server.trusted_proxies = vec!["127.0.0.1".into()];
    })
    .await;
    assert_eq!(metrics_with(&app, None).await.status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn options_on_api_routes_answers_204_with_the_methods_of_the_path() {
    let app = spawn_app(Engine::Sqlite).await;
    for (path, methods) in [
        ("/api/v1/inboxes", "GET, HEAD, OPTIONS, POST"),
        ("/api/v1/conversations/1", "GET, HEAD, OPTIONS, PATCH"),
        ("/api/v1/auth/login", "OPTIONS, POST"),
        ("/healthz", "GET, HEAD, OPTIONS"),
    ] {
        let reply = app
            .http
            .request(reqwest::Method::OPTIONS, format!("{}{path}", app.url))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 204, "OPTIONS {path}");
        assert_eq!(reply.headers()["allow"], methods, "OPTIONS {path}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_cross_origin_preflight_to_the_console_api_is_answered_without_cors_grants() {
    let app = spawn_app(Engine::Sqlite).await;
    let preflight = app
        .http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/v1/conversations", app.url),
        )
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    // The console is same-origin only: no Access-Control-Allow-Origin, so the browser refuses.
    assert!(preflight
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    app.stop().await;
}

#[tokio::test]
async fn a_method_a_path_does_not_take_is_405_with_allow() {
    let app = spawn_app(Engine::Sqlite).await;
    let reply = app
        .http
        .delete(format!("{}/api/v1/inboxes", app.url))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 405);
    let allow = reply.headers()["allow"].to_str().unwrap().to_string();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    app.stop().await;
}

fn csp_of(reply: &reqwest::Response) -> String {
    reply
        .headers()
        .get("content-security-policy")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// The directive's sources, e.g. `img-src` → ["'self'", "data:"].
fn sources<'a>(csp: &'a str, directive: &str) -> Vec<&'a str> {
    csp.split(';')
        .map(str::trim)
        .find_map(|d| {
            d.strip_prefix(directive)
                .filter(|rest| rest.starts_with(' '))
        })
        .map(|rest| rest.split_whitespace().collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_console_loads_no_remote_images() {
    let app = spawn_app(Engine::Sqlite).await;
    let page = app.http.get(&app.url).send().await.unwrap();
    let csp = csp_of(&page);
    let img = sources(&csp, "img-src");
    assert!(!img.is_empty(), "no img-src in {csp}");
    assert!(
        img.iter().all(|s| ["'self'", "data:", "blob:"].contains(s)),
        "remote images allowed: {csp}"
    );
    app.stop().await;
}

#[tokio::test]
async fn swagger_ui_is_served_under_a_strict_policy() {
    let app = spawn_app(Engine::Sqlite).await;
    for path in ["/api/docs/", "/api/docs/index.html"] {
        let page = app
            .http
            .get(format!("{}{path}", app.url))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200, "{path}");
        let csp = csp_of(&page);
        assert_eq!(sources(&csp, "default-src"), ["'none'"], "{path}: {csp}");
        assert_eq!(sources(&csp, "script-src"), ["'self'"], "{path}: {csp}");
        assert_eq!(
            sources(&csp, "frame-ancestors"),
            ["'none'"],
            "{path}: {csp}"
        );
        assert_eq!(sources(&csp, "connect-src"), ["'self'"], "{path}: {csp}");
        assert!(!csp.contains("unsafe-"), "{path}: {csp}");
    }
    app.stop().await;
}
