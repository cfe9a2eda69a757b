//! Outgoing calls reach the public internet only: callback URLs naming internal addresses are
//! refused when set and again at delivery (also when a name resolves to one), nothing is sent to
//! them, and a redirect from a receiver fails the delivery instead of being followed.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The addresses an attacker points callbacks at, in the spellings that slip past naive checks.
const ATTACK_URLS: [&str; 8] = [
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "http://127.0.0.1:5432/",
    "http://[::1]:6379/",
    "http://0x7f000001/",
    "http://2130706433/",
    "http://0177.0.0.1/",
    "http://[::ffff:169.254.169.254]/",
    "http://10.0.0.1/",
];

/// An app without the harness's loopback allow-list: the production default.
async fn strict_app(engine: Engine) -> TestApp {
    spawn_app_with(engine, |s| s.outbound.allow_hosts.clear()).await
}

/// A raw TCP listener that counts connections and answers each with `response`.
async fn counting_listener(bind: &str, response: String) -> (SocketAddr, Arc<AtomicUsize>) {
    let socket = tokio::net::TcpListener::bind(bind).await.unwrap();
    let addr = socket.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = socket.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            let response = response.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let _ = stream.read(&mut buf).await;
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    (addr, count)
}

fn ok_response() -> String {
    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}".into()
}

/// A customer message and an agent's reply to it; answers (conversation, reply) ids.
async fn reply_to_customer(app: &TestApp, inbox: i64) -> (i64, i64) {
    let incoming = app
        .customer_writes(inbox, "cust-1", &format!("in-{}", uuid_like()), "Hello?")
        .await
        .expect_status(201)
        .json;
    let conversation = incoming["conversation_id"].as_i64().unwrap();
    let reply = app
        .post(
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(&app.token),
            json!({"text": "Hi!"}),
        )
        .await
        .expect_status(201)
        .json;
    (conversation, reply["id"].as_i64().unwrap())
}

on_both_engines! {
    async fn callback_urls_naming_internal_addresses_are_refused_when_set(engine) {
        let app = strict_app(engine).await;
        let (inbox, _) = app.api_inbox("CRM", Some("https://crm.example/hook")).await;
        for url in ATTACK_URLS.iter().chain(&["gopher://crm.example:70/", "file:///etc/passwd"]) {
            let created = app
                .post("/api/v1/inboxes", Some(&app.token), json!({"name": "Evil", "kind": "api", "callback_url": url}))
                .await
                .expect_status(422);
            assert!(created.json["error"]["message"].as_str().unwrap().contains("`callback_url`"), "{url}: {}", created.json);
            let updated = app
                .send(reqwest::Method::PATCH, &format!("/api/v1/inboxes/{inbox}"), Some(&app.token),
                    json!({"settings": {"callback_url": url}}))
                .await
                .expect_status(422);
            assert!(updated.json["error"]["message"].as_str().unwrap().contains("`callback_url`"), "{url}: {}", updated.json);
        }
        let inboxes = app.get("/api/v1/inboxes", Some(&app.token)).await.json;
        assert_eq!(inboxes.as_array().unwrap().len(), 1, "no inbox was created: {inboxes}");
        let kept = app.get(&format!("/api/v1/inboxes/{inbox}"), Some(&app.token)).await.json;
        assert_eq!(kept["settings"]["callback_url"], "https://crm.example/hook");
        app.stop().await;
    }

    async fn a_stored_internal_callback_is_refused_at_delivery_and_nothing_is_sent(engine) {
        let (v4, v4_connections) = counting_listener("127.0.0.1:0", ok_response()).await;
        let (v6, v6_connections) = counting_listener("[::1]:0", ok_response()).await;
        let app = strict_app(engine).await;
        let (inbox, _) = app.api_inbox("CRM", None).await;
        // Stored before the guard existed, or while an allow-list was in force.
        for url in [
            format!("http://127.0.0.1:{}/cb", v4.port()),
            format!("http://0x7f000001:{}/cb", v4.port()),
            format!("http://2130706433:{}/cb", v4.port()),
            format!("http://0177.0.0.1:{}/cb", v4.port()),
            format!("http://[::1]:{}/cb", v6.port()),
            format!("http://[::ffff:127.0.0.1]:{}/cb", v4.port()),
            "http://169.254.169.254/latest/meta-data/".to_string(),
        ] {
            app.store()
                .widget()
                .update_inbox_settings(app.workspace_id, inbox, json!({"callback_url": url}), None)
                .await
                .unwrap();
            let (conversation, message) = reply_to_customer(&app, inbox).await;
            let outcome = app.settled_message(conversation, message).await;
            assert_eq!(outcome["status"], "failed", "{url}: {outcome}");
            assert!(outcome["error"].as_str().unwrap().contains("refused"), "{url}: {outcome}");
        }
        assert_eq!(v4_connections.load(Ordering::SeqCst), 0, "nothing reached 127.0.0.1");
        assert_eq!(v6_connections.load(Ordering::SeqCst), 0, "nothing reached ::1");
        app.stop().await;
    }

    async fn a_name_that_resolves_to_an_internal_address_is_refused_at_delivery(engine) {
        let (addr, connections) = counting_listener("127.0.0.1:0", ok_response()).await;
        let app = strict_app(engine).await;
        // A name passes when set (it may resolve publicly today); its addresses are checked
        // each time a callback is made.
        let url = format!("http://localhost:{}/cb", addr.port());
        let (inbox, _) = app.api_inbox("CRM", Some(&url)).await;
        let (conversation, message) = reply_to_customer(&app, inbox).await;
        let outcome = app.settled_message(conversation, message).await;
        assert_eq!(outcome["status"], "failed", "{outcome}");
        assert!(outcome["error"].as_str().unwrap().contains("loopback"), "{outcome}");
        assert_eq!(connections.load(Ordering::SeqCst), 0);
        app.stop().await;
    }

    async fn a_redirecting_receiver_fails_the_delivery_and_the_target_sees_nothing(engine) {
        let (target, target_connections) = counting_listener("127.0.0.1:0", ok_response()).await;
        let (receiver, receiver_connections) = counting_listener(
            "127.0.0.1:0",
            format!("HTTP/1.1 302 Found\r\nlocation: http://{target}/stolen\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"),
        )
        .await;
        // The harness allow-lists loopback, so only the redirect stands between the two.
        let app = spawn_app(engine).await;
        let (inbox, _) = app.api_inbox("CRM", Some(&format!("http://{receiver}/cb"))).await;
        let (conversation, message) = reply_to_customer(&app, inbox).await;
        let outcome = app.settled_message(conversation, message).await;
        assert_eq!(outcome["status"], "failed", "{outcome}");
        assert!(outcome["error"].as_str().unwrap().contains("302"), "{outcome}");
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(receiver_connections.load(Ordering::SeqCst), 1, "one try: a redirect is not retried");
        assert_eq!(target_connections.load(Ordering::SeqCst), 0, "the redirect was not followed");
        app.stop().await;
    }
}
