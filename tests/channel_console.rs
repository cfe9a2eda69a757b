//! What the console's inbox settings lean on: the "send test" button (a short message through
//! an inbox's channel, straight to the provider, nothing stored) and the API channel's status
//! endpoint (the receiving system says a reply was delivered or read, and the thread moves).

mod common;
#[path = "support/echo_channel/mod.rs"]
mod echo_channel;

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use common::*;
use echo_channel::{EchoChannel, Sent};
use serde_json::{json, Value};
use switchboard::channels::ChannelRegistry;
use switchboard::store::NewUser;

async fn app_with_echo(engine: Engine) -> (TestApp, Sent) {
    let (echo, sent) = EchoChannel::new();
    let app = spawn_app_with_channels(engine, ChannelRegistry::standard().with(echo)).await;
    (app, sent)
}

async fn echo_inbox(app: &TestApp) -> i64 {
    app.post(
        "/api/v1/inboxes",
        Some(&app.token),
        json!({"name": "Echo room", "kind": "echo", "settings": {"room": "lobby"}}),
    )
    .await
    .expect_status(201)
    .json["id"]
        .as_i64()
        .unwrap()
}

/// What the callback receiver was handed: (signature header, raw body).
type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// An integration's callback receiver, as an API inbox's owner runs it: it answers every
/// callback with `status` and `answer`.
async fn callback_receiver(status: StatusCode, answer: Value) -> (String, Received) {
    let received: Received = Arc::default();
    let log = received.clone();
    let app = axum::Router::new().route(
        "/callback",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let log = log.clone();
            let answer = answer.clone();
            async move {
                let signature = headers
                    .get("x-switchboard-signature")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                log.lock().unwrap().push((signature, body.to_vec()));
                (status, axum::Json(answer))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/callback", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

/// An admin of another workspace, signed in.
async fn other_workspace_admin(app: &TestApp) -> String {
    let store = app.store();
    let other = store.create_workspace("Elsewhere Ltd").await.unwrap();
    store
        .create_user(NewUser {
            workspace_id: other.id,
            email: switchboard::domain::EmailAddress::parse("admin@elsewhere.example").unwrap(),
            name: "Elsa Elsewhere".into(),
            role: switchboard::domain::Role::Admin,
            password_hash: switchboard::auth::hash_password(PASSWORD).unwrap(),
        })
        .await
        .unwrap();
    app.post(
        "/api/v1/auth/login",
        None,
        json!({"email": "admin@elsewhere.example", "password": PASSWORD}),
    )
    .await
    .expect_status(200)
    .json["token"]
        .as_str()
        .unwrap()
        .to_string()
}

fn test_path(inbox: i64) -> String {
    format!("/api/v1/inboxes/{inbox}/test")
}

fn statuses_path(inbox: i64) -> String {
    format!("/api/v1/inboxes/{inbox}/statuses")
}

/// A customer writes to the API inbox, an agent replies, the callback receiver takes it: the
/// conversation and the reply's id once it is sent.
async fn sent_reply(app: &TestApp, inbox: i64) -> (i64, i64) {
    let incoming = app
        .customer_writes(inbox, "cust-7", "in-1", "Where is my parcel?")
        .await
        .expect_status(201)
        .json;
    let conversation = incoming["conversation_id"].as_i64().unwrap();
    let reply = app
        .post(
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(&app.token),
            json!({"text": "It ships today."}),
        )
        .await
        .expect_status(201)
        .json;
    let reply = reply["id"].as_i64().unwrap();
    let settled = app.settled_message(conversation, reply).await;
    assert_eq!(settled["status"], "sent", "{settled}");
    (conversation, reply)
}

on_both_engines! {
    async fn a_test_send_goes_out_through_the_channel_at_once_and_stores_nothing(engine) {
        let (app, sent) = app_with_echo(engine).await;
        let inbox = echo_inbox(&app).await;
        let answer = app
            .post(&test_path(inbox), Some(&app.token), json!({"to": "mina", "text": "Ping?"}))
            .await
            .expect_status(200)
            .json;
        assert_eq!(answer, json!({"ok": true, "provider_message_id": "echo-out-1"}));
        let sent = sent.lock().unwrap().clone();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].text, "Ping?");
        assert!(sent[0].delivery_id.starts_with("sb-test-"), "{}", sent[0].delivery_id);
        assert_eq!(sent[0].sender_name.as_deref(), Some("Olive Owner"));
        assert!(sent[0].recipient.iter().any(|i| i.namespace == "echo" && i.identifier == "mina"));

        // Without text, a short default; each test is a new delivery.
        app.post(&test_path(inbox), Some(&app.token), json!({"to": "mina"})).await.expect_status(200);
        let conversations = app.get("/api/v1/conversations?status=open", Some(&app.token)).await.json;
        assert_eq!(conversations["data"].as_array().unwrap().len(), 0, "no conversation was made");
        let contacts = app.get("/api/v1/contacts", Some(&app.token)).await.json;
        assert_eq!(contacts["data"].as_array().unwrap().len(), 0, "no contact was made");
        app.stop().await;
    }

    async fn only_admins_of_the_workspace_send_tests(engine) {
        let (app, sent) = app_with_echo(engine).await;
        let inbox = echo_inbox(&app).await;
        let (agent, agent_token) = app.user_with_role("agent@example.com", "Avi Agent", "agent").await;
        app.add_member(inbox, agent["id"].as_i64().unwrap()).await;
        let body = json!({"to": "mina"});
        app.post(&test_path(inbox), Some(&agent_token), body.clone()).await.expect_status(403);
        app.post(&test_path(inbox), None, body.clone()).await.expect_status(401);
        app.post(&test_path(inbox + 100), Some(&app.token), body.clone()).await.expect_status(404);
        let elsewhere = other_workspace_admin(&app).await;
        app.post(&test_path(inbox), Some(&elsewhere), body.clone()).await.expect_status(404);
        assert!(sent.lock().unwrap().is_empty(), "nobody but the owner got anything sent");
        app.stop().await;
    }

    async fn a_channel_without_test_sends_and_a_bad_recipient_are_refused_with_422(engine) {
        let (app, sent) = app_with_echo(engine).await;
        let chat = app.web_chat_inbox().await;
        let refused = app
            .post(&test_path(chat.inbox), Some(&app.token), json!({"to": "someone"}))
            .await
            .expect_status(422);
        assert_eq!(refused.json["error"]["message"], "Website chat inboxes cannot send a test message");
        let (no_callback, _) = app.api_inbox("No callback", None).await;
        let refused = app
            .post(&test_path(no_callback), Some(&app.token), json!({"to": "cust-7"}))
            .await
            .expect_status(422);
        assert!(refused.text.contains("no callback URL"), "{}", refused.text);

        let echo = echo_inbox(&app).await;
        let too_long = "x".repeat(321);
        for bad in [
            json!({"to": "  "}),
            json!({"to": "x".repeat(256)}),
            json!({"to": "mina", "text": too_long}),
            json!({"to": "mina", "colour": "red"}),
            json!({}),
        ] {
            app.post(&test_path(echo), Some(&app.token), bad).await.expect_status(422);
        }
        assert!(sent.lock().unwrap().is_empty());
        app.stop().await;
    }

    async fn the_api_channel_sends_a_signed_test_to_its_callback_naming_the_recipient(engine) {
        let app = spawn_app(engine).await;
        let (url, received) = callback_receiver(StatusCode::OK, json!({"id": "crm-77"})).await;
        let (inbox, secret) = app.api_inbox("CRM", Some(&url)).await;
        let answer = app
            .post(&test_path(inbox), Some(&app.token), json!({"to": "cust-7", "text": "Test"}))
            .await
            .expect_status(200)
            .json;
        assert_eq!(answer["provider_message_id"], "crm-77");
        let received = received.lock().unwrap().clone();
        assert_eq!(received.len(), 1);
        let (signature, raw) = &received[0];
        let body: Value = serde_json::from_slice(raw).unwrap();
        assert_eq!(body["text"], "Test");
        assert_eq!(body["recipient"], json!([{"namespace": format!("api:{inbox}"), "identifier": "cust-7"}]));
        assert!(body["delivery_id"].as_str().unwrap().starts_with("sb-test-"));
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        switchboard_connector_api::verify(secret.as_bytes(), signature, raw, now, std::time::Duration::from_secs(300))
            .expect("the test callback is signed with the inbox's secret");
        app.stop().await;
    }

    async fn a_provider_refusal_is_answered_with_502_and_its_words(engine) {
        let app = spawn_app(engine).await;
        let (refusing, _) = callback_receiver(StatusCode::BAD_REQUEST, json!({"error": "unknown person"})).await;
        let (inbox, _) = app.api_inbox("Refusing CRM", Some(&refusing)).await;
        let refused = app
            .post(&test_path(inbox), Some(&app.token), json!({"to": "nobody"}))
            .await
            .expect_status(502)
            .json;
        assert_eq!(refused["ok"], false);
        assert_eq!(refused["error"]["code"], "provider_refused");
        assert_eq!(refused["error"]["retryable"], false);
        assert_eq!(refused["error"]["message"], "callback answered 400");

        let (down, _) = callback_receiver(StatusCode::SERVICE_UNAVAILABLE, json!({})).await;
        let (inbox, _) = app.api_inbox("Down CRM", Some(&down)).await;
        let refused = app
            .post(&test_path(inbox), Some(&app.token), json!({"to": "cust-7"}))
            .await
            .expect_status(502)
            .json;
        assert_eq!(refused["error"]["code"], "provider_unavailable");
        assert_eq!(refused["error"]["retryable"], true);
        app.stop().await;
    }

    async fn test_sends_are_held_to_a_small_rate_per_workspace(engine) {
        let (app, sent) = app_with_echo(engine).await;
        let inbox = echo_inbox(&app).await;
        for n in 0..10 {
            app.post(&test_path(inbox), Some(&app.token), json!({"to": format!("p{n}")}))
                .await
                .expect_status(200);
        }
        let refused = app
            .post(&test_path(inbox), Some(&app.token), json!({"to": "p10"}))
            .await
            .expect_status(429);
        let wait: u64 = refused.headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=6).contains(&wait), "retry after {wait} s");
        assert_eq!(sent.lock().unwrap().len(), 10);
        app.stop().await;
    }

    async fn an_api_inbox_reports_delivered_then_read_and_nothing_moves_back(engine) {
        let app = spawn_app(engine).await;
        let (url, _) = callback_receiver(StatusCode::OK, json!({"id": "crm-1"})).await;
        let (inbox, _) = app.api_inbox("CRM", Some(&url)).await;
        let (conversation, reply) = sent_reply(&app, inbox).await;
        let report = |status: &str| json!({"external_id": "crm-1", "status": status});

        let taken = app.post(&statuses_path(inbox), Some(&app.token), report("delivered")).await.expect_status(202);
        assert_eq!(taken.json, json!({"accepted": true}));
        assert_eq!(app.settled_message(conversation, reply).await["status"], "delivered");
        app.post(&statuses_path(inbox), Some(&app.token), report("read")).await.expect_status(202);
        assert_eq!(app.settled_message(conversation, reply).await["status"], "read");
        // Late and repeated reports move nothing back.
        app.post(&statuses_path(inbox), Some(&app.token), report("delivered")).await.expect_status(202);
        app.post(
            &statuses_path(inbox),
            Some(&app.token),
            json!({"external_id": "crm-1", "status": "failed", "error": "phone off"}),
        )
        .await
        .expect_status(202);
        let message = app.settled_message(conversation, reply).await;
        assert_eq!((message["status"].clone(), message["error"].clone()), (json!("read"), json!(null)));
        app.stop().await;
    }

    async fn a_failed_report_carries_its_reason_to_the_thread(engine) {
        let app = spawn_app(engine).await;
        let (url, _) = callback_receiver(StatusCode::OK, json!({"id": "crm-9"})).await;
        let (inbox, _) = app.api_inbox("CRM", Some(&url)).await;
        let (conversation, reply) = sent_reply(&app, inbox).await;
        app.post(
            &statuses_path(inbox),
            Some(&app.token),
            json!({"external_id": "crm-9", "status": "failed", "error": "number unreachable"}),
        )
        .await
        .expect_status(202);
        let message = app.settled_message(conversation, reply).await;
        assert_eq!((message["status"].clone(), message["error"].clone()), (json!("failed"), json!("number unreachable")));
        app.stop().await;
    }

    async fn statuses_are_for_api_inboxes_of_the_callers_workspace_and_admins_only(engine) {
        let (app, _) = app_with_echo(engine).await;
        let (url, _) = callback_receiver(StatusCode::OK, json!({"id": "crm-1"})).await;
        let (inbox, _) = app.api_inbox("CRM", Some(&url)).await;
        let (conversation, reply) = sent_reply(&app, inbox).await;
        let delivered = json!({"external_id": "crm-1", "status": "delivered"});

        let elsewhere = other_workspace_admin(&app).await;
        app.post(&statuses_path(inbox), Some(&elsewhere), delivered.clone()).await.expect_status(404);
        let (agent, agent_token) = app.user_with_role("agent@example.com", "Avi Agent", "agent").await;
        app.add_member(inbox, agent["id"].as_i64().unwrap()).await;
        app.post(&statuses_path(inbox), Some(&agent_token), delivered.clone()).await.expect_status(403);
        app.post(&statuses_path(inbox), None, delivered.clone()).await.expect_status(401);
        let echo = echo_inbox(&app).await;
        let refused = app.post(&statuses_path(echo), Some(&app.token), delivered.clone()).await.expect_status(422);
        assert!(refused.text.contains("API inboxes"), "{}", refused.text);
        for bad in [
            json!({"external_id": "crm-1", "status": "sent"}),
            json!({"external_id": "crm-1", "status": "lost"}),
            json!({"external_id": "", "status": "read"}),
            json!({"external_id": "x".repeat(513), "status": "read"}),
            json!({"external_id": "crm-1", "status": "delivered", "error": "why?"}),
            json!({"external_id": "crm-1", "status": "failed", "error": "e".repeat(1001)}),
        ] {
            app.post(&statuses_path(inbox), Some(&app.token), bad).await.expect_status(422);
        }
        assert_eq!(app.settled_message(conversation, reply).await["status"], "sent", "nothing moved it");
        app.stop().await;
    }
}
