//! Many consoles coming back at once (after a restart or a network blip) replay what they missed
//! from the hub's memory: every console gets every missed event in order once, and the event log
//! is read for the gap once, not once per console. Its own test binary, because it reads the
//! process-wide Prometheus counters.

mod common;

use std::time::Duration;

use common::*;
use futures::StreamExt;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message as WsMessage;

const CONSOLES: usize = 25;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn console(app: &TestApp, after: Option<i64>) -> Socket {
    let mut url = format!(
        "{}/api/v1/ws?token={}",
        app.url.replace("http://", "ws://"),
        app.token
    );
    if let Some(after) = after {
        url.push_str(&format!("&after={after}"));
    }
    tokio_tungstenite::connect_async(url)
        .await
        .expect("console socket")
        .0
}

/// The sequence numbers of the events a console receives until it has seen `newest`.
async fn events_until(mut socket: Socket, newest: i64) -> Vec<i64> {
    let mut seqs = Vec::new();
    while seqs.last() != Some(&newest) {
        let frame = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a frame within 10 s")
            .expect("socket open")
            .expect("frame");
        if let WsMessage::Text(text) = frame {
            let frame: Value = serde_json::from_str(&text).unwrap();
            if frame["type"] == "event" {
                seqs.push(frame["event"]["seq"].as_i64().unwrap());
            }
        }
    }
    seqs
}

/// The value of one Prometheus sample line, 0 when absent.
fn sample(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find(|line| line.starts_with(name) && line[name.len()..].starts_with(' '))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn consoles_coming_back_together_replay_from_memory_and_the_log_is_read_once() {
    let app = spawn_app(Engine::Sqlite).await;
    let (inbox, _) = app.api_inbox("Support", None).await;
    app.customer_writes(inbox, "ann", "m-0", "before")
        .await
        .expect_status(201);
    let seen = app
        .get("/api/v1/events?limit=1000", Some(&app.token))
        .await
        .json["last_seq"]
        .as_i64()
        .unwrap();

    // Everyone is away (nobody connected) while customers keep writing.
    for i in 0..30 {
        let who = if i % 2 == 0 { "ann" } else { "bob" };
        app.customer_writes(inbox, who, &format!("away-{i}"), "while away")
            .await
            .expect_status(201);
    }
    let newest = app
        .get("/api/v1/events?limit=1000", Some(&app.token))
        .await
        .json["last_seq"]
        .as_i64()
        .unwrap();
    assert!(newest > seen + 30);

    let sockets = futures::future::join_all((0..CONSOLES).map(|_| console(&app, Some(seen)))).await;
    let received = futures::future::join_all(
        sockets
            .into_iter()
            .map(|socket| events_until(socket, newest)),
    )
    .await;

    let expected: Vec<i64> = (seen + 1..=newest).collect();
    for seqs in &received {
        assert_eq!(seqs, &expected, "every missed event, in order, once");
    }
    let metrics = app.get("/metrics", None).await.text;
    assert_eq!(
        sample(
            &metrics,
            "switchboard_console_replays_total{source=\"memory\"}"
        ),
        CONSOLES as f64,
        "{metrics}"
    );
    assert_eq!(
        sample(
            &metrics,
            "switchboard_console_replays_total{source=\"log\"}"
        ),
        0.0
    );
    assert_eq!(
        sample(&metrics, "switchboard_console_backfills_total"),
        1.0,
        "the gap is read from the log once for all {CONSOLES} consoles"
    );
    app.stop().await;
}
