//! A message acknowledged with 2xx survives kill -9 of the server right after the response: the
//! real binary runs as a child process and is killed while a burst of messages is in flight.

mod common;

use common::*;
use serde_json::json;

async fn acknowledged_messages_survive_kill_minus_nine(engine: Engine) {
    let db = TestDatabase::new(engine).await;
    let http = reqwest::Client::new();
    let (mut server, url) = start_server(db.dir.path(), &db.url, &[]).await;
    let token = login(&http, &url).await;
    let inbox: serde_json::Value = http
        .post(format!("{url}/api/v1/inboxes"))
        .bearer_auth(&token)
        .json(&json!({"name": "CRM", "kind": "api"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let inbox = inbox["id"].as_i64().unwrap();

    // A burst of concurrent posts; the server is killed as soon as the 100th answer arrives,
    // with the rest still in flight.
    let (acked_tx, mut acked_rx) = tokio::sync::mpsc::unbounded_channel();
    for i in 0..300 {
        let (http, url, token, acked) =
            (http.clone(), url.clone(), token.clone(), acked_tx.clone());
        tokio::spawn(async move {
            let response = http
                .post(format!("{url}/api/v1/inboxes/{inbox}/messages"))
                .bearer_auth(&token)
                .json(&json!({"contact": {"identifier": format!("c{}", i % 7)}, "external_id": format!("m{i}"), "text": format!("message {i}")}))
                .send()
                .await;
            if let Ok(r) = response {
                if r.status().is_success() {
                    let _ = acked.send(format!("m{i}"));
                }
            }
        });
    }
    drop(acked_tx);
    let mut acked = Vec::new();
    while let Some(id) = acked_rx.recv().await {
        acked.push(id);
        if acked.len() == 100 {
            server.start_kill().unwrap(); // SIGKILL
            break;
        }
    }
    server.wait().await.unwrap();
    while let Ok(id) = acked_rx.try_recv() {
        acked.push(id);
    }
    assert!(acked.len() >= 100);

    let (_server, url) = start_server(db.dir.path(), &db.url, &[]).await;
    let token = login(&http, &url).await;
    let mut stored = std::collections::HashSet::new();
    let conversations: serde_json::Value = get_json(
        &http,
        &format!("{url}/api/v1/conversations?limit=200"),
        &token,
    )
    .await;
    for conversation in conversations["data"].as_array().unwrap() {
        let mut cursor = String::new();
        loop {
            let page: serde_json::Value = get_json(
                &http,
                &format!(
                    "{url}/api/v1/conversations/{}/messages?limit=200{cursor}",
                    conversation["id"]
                ),
                &token,
            )
            .await;
            for m in page["data"].as_array().unwrap() {
                assert!(
                    stored.insert(m["external_id"].as_str().unwrap().to_string()),
                    "duplicate {m}"
                );
            }
            match page["next_cursor"].as_str() {
                Some(next) => cursor = format!("&cursor={next}"),
                None => break,
            }
        }
    }
    let lost: Vec<_> = acked.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged messages lost: {lost:?}",
        lost.len()
    );
}

on_both_engines! {
    async fn acknowledged_messages_survive_kill_9(engine) {
        acknowledged_messages_survive_kill_minus_nine(engine).await;
    }
}
