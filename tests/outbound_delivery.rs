//! Replies go out through the outbox: signed callbacks, retried with backoff while the receiver
//! fails, delivered once it recovers, and every status change recorded as an event.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use common::*;
use serde_json::{json, Value};

/// A stand-in for the customer's system: answers the first `failures` calls with `fail_with`,
/// then 200 with its own id; records every call.
/// Each callback the receiver got: its headers and raw body.
type Calls = Arc<Mutex<Vec<(HeaderMap, Vec<u8>)>>>;

#[derive(Clone, Default)]
struct Receiver {
    calls: Calls,
}

async fn start_receiver(failures: usize, fail_with: StatusCode) -> (String, Receiver) {
    let receiver = Receiver::default();
    let calls = receiver.calls.clone();
    let app = axum::Router::new().route(
        "/callback",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let calls = calls.clone();
            async move {
                let n = {
                    let mut calls = calls.lock().unwrap();
                    calls.push((headers, body.to_vec()));
                    calls.len()
                };
                if n <= failures {
                    (fail_with, axum::Json(json!({"error": "not now"})))
                } else {
                    (StatusCode::OK, axum::Json(json!({"id": "crm-789"})))
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/callback", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, receiver)
}

async fn status_events(app: &TestApp, message: i64) -> Vec<String> {
    let events = app
        .get("/api/v1/events?limit=1000", Some(&app.token))
        .await
        .json;
    events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["payload"]["id"] == message && e["kind"].as_str().unwrap().starts_with("message.")
        })
        .map(|e| {
            format!(
                "{}:{}",
                e["kind"].as_str().unwrap(),
                e["payload"]["status"].as_str().unwrap()
            )
        })
        .collect()
}

async fn reply_to_customer(app: &TestApp, inbox: i64) -> (i64, i64) {
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
    assert_eq!(reply["status"], "queued");
    (conversation, reply["id"].as_i64().unwrap())
}

on_both_engines! {
    async fn a_failing_callback_is_retried_and_delivered_once_it_recovers(engine) {
        let (url, receiver) = start_receiver(3, StatusCode::SERVICE_UNAVAILABLE).await;
        let app = spawn_app(engine).await;
        let (inbox, secret) = app.api_inbox("CRM", Some(&url)).await;
        let (conversation, message) = reply_to_customer(&app, inbox).await;

        let settled = app.settled_message(conversation, message).await;
        assert_eq!(settled["status"], "sent");
        assert_eq!(settled["external_id"], "crm-789", "the receiver's id is kept");

        tokio::time::sleep(Duration::from_millis(300)).await;
        let calls = receiver.calls.lock().unwrap().clone();
        assert_eq!(calls.len(), 4, "three failures, then one delivery, then nothing more");
        let delivery_ids: std::collections::HashSet<_> = calls
            .iter()
            .map(|(h, _)| h["x-switchboard-delivery"].to_str().unwrap().to_string())
            .collect();
        assert_eq!(delivery_ids.len(), 1, "every retry carries the same delivery id");
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        for (headers, body) in &calls {
            let signature = headers["x-switchboard-signature"].to_str().unwrap();
            switchboard_connector_api::verify(secret.as_bytes(), signature, body, now, Duration::from_secs(300))
                .expect("each callback is signed with the inbox secret");
            let payload: Value = serde_json::from_slice(body).unwrap();
            assert_eq!(payload["text"], "It ships today.");
            assert_eq!(payload["conversation_id"], conversation);
        }
        assert_eq!(
            status_events(&app, message).await,
            vec!["message.created:queued", "message.updated:sent"]
        );
        app.stop().await;
    }

    async fn a_callback_that_keeps_failing_fails_the_message_after_the_retry_budget(engine) {
        let (url, receiver) = start_receiver(usize::MAX, StatusCode::BAD_GATEWAY).await;
        let app = spawn_app_with(engine, |s| s.dispatcher.max_attempts = 3).await;
        let (inbox, _) = app.api_inbox("CRM", Some(&url)).await;
        let (conversation, message) = reply_to_customer(&app, inbox).await;

        let settled = app.settled_message(conversation, message).await;
        assert_eq!(settled["status"], "failed");
        assert!(settled["error"].as_str().unwrap().contains("502"), "{settled}");
        assert_eq!(receiver.calls.lock().unwrap().len(), 3);
        assert_eq!(
            status_events(&app, message).await,
            vec!["message.created:queued", "message.updated:failed"]
        );
        app.stop().await;
    }

    async fn a_refusal_fails_the_message_without_retrying(engine) {
        let (url, receiver) = start_receiver(usize::MAX, StatusCode::UNPROCESSABLE_ENTITY).await;
        let app = spawn_app(engine).await;
        let (inbox, _) = app.api_inbox("CRM", Some(&url)).await;
        let (conversation, message) = reply_to_customer(&app, inbox).await;
        let settled = app.settled_message(conversation, message).await;
        assert_eq!(settled["status"], "failed");
        assert_eq!(receiver.calls.lock().unwrap().len(), 1);
        app.stop().await;
    }
}

#[tokio::test]
async fn private_notes_are_never_delivered() {
    let (url, receiver) = start_receiver(0, StatusCode::OK).await;
    let app = spawn_app(Engine::Sqlite).await;
    let (inbox, _) = app.api_inbox("CRM", Some(&url)).await;
    let incoming = app.customer_writes(inbox, "c", "in-1", "hello").await.json;
    let conversation = incoming["conversation_id"].as_i64().unwrap();
    let note = app
        .post(
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(&app.token),
            json!({"text": "VIP, be nice", "private": true}),
        )
        .await
        .expect_status(201)
        .json;
    assert_eq!(note["direction"], "note");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(receiver.calls.lock().unwrap().is_empty());
    app.stop().await;
}
