//! Bad input gets a clear 4xx error in the API's JSON shape, never a crash, and loses nothing.

mod common;

use common::*;
use serde_json::json;

async fn raw(app: &TestApp, path: &str, content_type: Option<&str>, body: Vec<u8>) -> Reply {
    let mut req = app
        .http
        .post(format!("{}{path}", app.url))
        .bearer_auth(&app.token)
        .body(body);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    Reply::from(req.send().await.unwrap()).await
}

fn assert_error(reply: &Reply, status: u16, code: &str, mentions: &str) {
    assert_eq!(reply.status, status, "{}", reply.text);
    assert_eq!(reply.json["error"]["code"], code, "{}", reply.text);
    let message = reply.json["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(mentions),
        "message {message:?} should mention {mentions:?}"
    );
}

on_both_engines! {
    async fn malformed_bodies_get_clear_errors_and_lose_nothing(engine) {
        let app = spawn_app(engine).await;
        let (inbox, _) = app.api_inbox("CRM", None).await;
        let path = format!("/api/v1/inboxes/{inbox}/messages");
        let json_ct = Some("application/json");

        let truncated = raw(&app, &path, json_ct, br#"{"contact": {"identifier": "a"}, "external_id": "#.to_vec()).await;
        assert_error(&truncated, 400, "bad_request", "malformed JSON");

        let not_utf8 = raw(&app, &path, json_ct,
            b"{\"contact\": {\"identifier\": \"a\"}, \"external_id\": \"x\", \"text\": \"caf\xe9\"}".to_vec()).await;
        assert_error(&not_utf8, 400, "bad_request", "UTF-8");

        let unknown_field = raw(&app, &path, json_ct,
            br#"{"contact": {"identifier": "a"}, "external_id": "x", "text": "hi", "priority": 9}"#.to_vec()).await;
        assert_error(&unknown_field, 422, "unprocessable", "unknown field `priority`");

        let wrong_type = raw(&app, &path, json_ct,
            br#"{"contact": {"identifier": "a"}, "external_id": 7, "text": "hi"}"#.to_vec()).await;
        assert_error(&wrong_type, 422, "unprocessable", "external_id");

        let no_content_type = raw(&app, &path, None, br#"{}"#.to_vec()).await;
        assert_error(&no_content_type, 415, "unsupported_media_type", "application/json");

        let empty_id = app.post(&path, Some(&app.token),
            json!({"contact": {"identifier": "a"}, "external_id": " ", "text": "hi"})).await;
        assert_error(&empty_id, 422, "unprocessable", "external_id");

        let huge_text = app.post(&path, Some(&app.token),
            json!({"contact": {"identifier": "a"}, "external_id": "big", "text": "x".repeat(70_000)})).await;
        assert_error(&huge_text, 422, "unprocessable", "64 KiB");

        let nobody = app.post(&path, Some(&app.token), json!({"contact": {}, "external_id": "n", "text": "hi"})).await;
        assert_error(&nobody, 422, "unprocessable", "identifier");

        // Nothing half-stored: the conversation list is still empty, and a good message works.
        let listed = app.get("/api/v1/conversations", Some(&app.token)).await.expect_status(200);
        assert_eq!(listed.json["data"].as_array().unwrap().len(), 0);
        app.customer_writes(inbox, "a", "good-1", "finally, a good one").await.expect_status(201);
        app.stop().await;
    }

    async fn oversized_bodies_are_refused_with_413(engine) {
        let app = spawn_app(engine).await;
        let mut body = br#"{"name": ""#.to_vec();
        body.extend(std::iter::repeat_n(b'a', 2 * 1024 * 1024));
        body.extend(br#""}"#);
        let reply = raw(&app, "/api/v1/contacts", Some("application/json"), body).await;
        assert_error(&reply, 413, "payload_too_large", "too large");
        app.stop().await;
    }
}

#[tokio::test]
async fn paths_queries_and_routes_that_do_not_exist_get_json_errors() {
    let app = spawn_app(Engine::Sqlite).await;
    let bad_id = app.get("/api/v1/conversations/abc", Some(&app.token)).await;
    assert_eq!(bad_id.status, 400, "{}", bad_id.text);
    assert_eq!(bad_id.json["error"]["code"], "bad_request");

    let bad_cursor = app
        .get("/api/v1/conversations?cursor=%%%", Some(&app.token))
        .await;
    assert_eq!(bad_cursor.status, 400, "{}", bad_cursor.text);
    let bad_limit = app
        .get("/api/v1/contacts?limit=100000", Some(&app.token))
        .await;
    assert_error(&bad_limit, 400, "bad_request", "limit");
    let bad_status = app
        .get("/api/v1/conversations?status=sleeping", Some(&app.token))
        .await;
    assert_error(&bad_status, 400, "bad_request", "sleeping");

    let missing = app.get("/api/v1/nothing-here", Some(&app.token)).await;
    assert_error(&missing, 404, "not_found", "route");
    let absent = app
        .get("/api/v1/conversations/999999", Some(&app.token))
        .await;
    assert_error(&absent, 404, "not_found", "conversation");
    app.stop().await;
}

#[tokio::test]
async fn login_failures_are_rate_limited_and_do_not_say_which_part_was_wrong() {
    let app = spawn_app_with(Engine::Sqlite, |s| s.security.login_max_failures = 3).await;
    let wrong_password = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": "owner@example.com", "password": "nope-nope"}),
        )
        .await;
    let unknown_user = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": "ghost@example.com", "password": "nope-nope"}),
        )
        .await;
    assert_eq!(wrong_password.status, 401);
    assert_eq!(unknown_user.status, 401);
    assert_eq!(
        wrong_password.json, unknown_user.json,
        "the two failures must look the same"
    );

    // The third failure from this client address uses up its budget…
    app.post(
        "/api/v1/auth/login",
        None,
        json!({"email": "owner@example.com", "password": "nope-nope"}),
    )
    .await
    .expect_status(401);
    // …so even the right password is refused until the window passes.
    let limited = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": "owner@example.com", "password": PASSWORD}),
        )
        .await;
    assert_error(&limited, 429, "too_many_requests", "try again");
    assert!(limited.headers.contains_key("retry-after"));
    app.stop().await;
}

#[tokio::test]
async fn tokens_stop_working_after_logout() {
    let app = spawn_app(Engine::Sqlite).await;
    app.get("/api/v1/me", Some(&app.token))
        .await
        .expect_status(200);
    app.post("/api/v1/auth/logout", Some(&app.token), json!({}))
        .await
        .expect_status(204);
    app.get("/api/v1/me", Some(&app.token))
        .await
        .expect_status(401);
    app.get("/api/v1/me", Some("sbs_forged"))
        .await
        .expect_status(401);
    app.stop().await;
}

#[tokio::test]
async fn swagger_ui_is_served_and_reads_the_apis_own_document() {
    let app = spawn_app(Engine::Sqlite).await;
    let page = app.get("/api/docs/", None).await.expect_status(200);
    assert!(
        page.text.contains("swagger"),
        "{}",
        &page.text[..page.text.len().min(200)]
    );
    let init = app
        .get("/api/docs/swagger-initializer.js", None)
        .await
        .expect_status(200);
    assert!(init.text.contains("/api/v1/openapi.json"), "{}", init.text);
    app.stop().await;
}
