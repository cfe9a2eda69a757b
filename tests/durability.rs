//! A message acknowledged with 2xx survives kill -9 of the server right after the response: the
//! real binary runs as a child process and is killed while a burst of messages is in flight.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::*;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Starts `switchboard serve` on a free port and waits for its "listening on" line.
async fn start_server(data_dir: &std::path::Path, database_url: &str) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env("DATABASE_URL", database_url)
        .env("SWITCHBOARD_OWNER_EMAIL", "owner@example.com")
        .env("SWITCHBOARD_OWNER_PASSWORD", PASSWORD)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("the switchboard binary starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(url) = line.strip_prefix("listening on ") {
                return url.to_string();
            }
        }
        panic!("the server exited before listening");
    })
    .await
    .expect("the server listens within 30 s");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, url)
}

async fn get_json(http: &reqwest::Client, url: &str, token: &str) -> serde_json::Value {
    http.get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn login(http: &reqwest::Client, url: &str) -> String {
    let body: serde_json::Value = http
        .post(format!("{url}/api/v1/auth/login"))
        .json(&json!({"email": "owner@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["token"].as_str().unwrap().to_string()
}

async fn acknowledged_messages_survive_kill_minus_nine(engine: Engine) {
    let db = TestDatabase::new(engine).await;
    let http = reqwest::Client::new();
    let (mut server, url) = start_server(db.dir.path(), &db.url).await;
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

    let (_server, url) = start_server(db.dir.path(), &db.url).await;
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
