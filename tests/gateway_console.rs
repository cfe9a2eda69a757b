//! The live inbox gateway: consoles hear exactly what they may see, in order, once, across
//! reconnects; presence, typing and read markers; and a test client holding 10,000 sockets.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use switchboard::gateway::connection::{self, Context, Incoming, Limits, Outgoing};
use switchboard::gateway::hub::ConsoleHub;
use tokio_tungstenite::tungstenite::Message as WsMessage;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn console(app: &TestApp, token: &str, after: Option<i64>) -> (Socket, Value) {
    let mut url = format!(
        "{}/api/v1/ws?token={token}",
        app.url.replace("http://", "ws://")
    );
    if let Some(after) = after {
        url.push_str(&format!("&after={after}"));
    }
    let (mut socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("console socket");
    let ready = next_frame(&mut socket).await;
    assert_eq!(ready["type"], "ready", "{ready}");
    (socket, ready)
}

async fn next_frame(socket: &mut Socket) -> Value {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("a frame within 5 s")
            .expect("socket open")
            .expect("frame");
        if let WsMessage::Text(text) = frame {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

async fn next_event(socket: &mut Socket, kind: &str) -> Value {
    loop {
        let frame = next_frame(socket).await;
        if frame["type"] == "event" && frame["event"]["kind"] == kind {
            return frame["event"].clone();
        }
    }
}

/// Every frame that arrives within `wait`.
async fn drain(socket: &mut Socket, wait: Duration) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + wait;
    let mut frames = Vec::new();
    while let Ok(Some(Ok(frame))) = tokio::time::timeout_at(deadline, socket.next()).await {
        if let WsMessage::Text(text) = frame {
            frames.push(serde_json::from_str(&text).unwrap());
        }
    }
    frames
}

async fn send(socket: &mut Socket, frame: Value) {
    socket
        .send(WsMessage::Text(frame.to_string().into()))
        .await
        .unwrap();
}

on_both_engines! {
    async fn an_agent_never_hears_of_an_inbox_they_are_not_a_member_of(engine) {
        let app = spawn_app(engine).await;
        let (sales, _) = app.api_inbox("Sales", None).await;
        let (billing, _) = app.api_inbox("Billing", None).await;
        let (agent, token) = app.user_with_role("sam@example.com", "Sam Sales", "agent").await;
        app.add_member(sales, agent["id"].as_i64().unwrap()).await;
        let (mut agent_socket, _) = console(&app, &token, None).await;
        let (mut owner_socket, _) = console(&app, &app.token, None).await;

        app.customer_writes(billing, "bill", "b-1", "invoice question").await.expect_status(201);
        app.customer_writes(sales, "sally", "s-1", "price question").await.expect_status(201);

        let heard = next_event(&mut agent_socket, "message.created").await;
        assert_eq!(heard["payload"]["text"], "price question", "the billing message never reaches Sam");
        for frame in drain(&mut agent_socket, Duration::from_millis(500)).await {
            assert_ne!(frame["event"]["inbox_id"], billing, "{frame}");
        }
        let first = next_event(&mut owner_socket, "message.created").await;
        let second = next_event(&mut owner_socket, "message.created").await;
        assert_eq!((first["payload"]["text"].as_str(), second["payload"]["text"].as_str()),
            (Some("invoice question"), Some("price question")), "the owner hears both, in order");
        app.stop().await;
    }

    async fn a_console_that_reconnects_gets_every_missed_event_in_order_once(engine) {
        let app = spawn_app(engine).await;
        let (inbox, _) = app.api_inbox("Support", None).await;
        let (mut socket, ready) = console(&app, &app.token, None).await;
        app.customer_writes(inbox, "ann", "m-1", "first").await.expect_status(201);
        let seen = next_event(&mut socket, "message.created").await["seq"].as_i64().unwrap();
        assert!(seen > ready["last_seq"].as_i64().unwrap());
        drop(socket);

        // While the console is away: more messages, from several people at once.
        let ids: Vec<String> = (0..12).map(|i| format!("away-{i}")).collect();
        futures::future::join_all(ids.iter().enumerate().map(|(i, id)| {
            app.customer_writes(inbox, if i % 2 == 0 { "ann" } else { "bob" }, id, "while away")
        }))
        .await;
        let newest = app.get("/api/v1/events?limit=1000", Some(&app.token)).await.json["last_seq"].as_i64().unwrap();

        let (mut socket, _) = console(&app, &app.token, Some(seen)).await;
        let mut seqs = Vec::new();
        while seqs.last() != Some(&newest) {
            let frame = next_frame(&mut socket).await;
            if frame["type"] == "event" {
                seqs.push(frame["event"]["seq"].as_i64().unwrap());
            }
        }
        let expected: Vec<i64> = (seen + 1..=newest).collect();
        assert_eq!(seqs, expected, "every missed event, in order, once");
        app.customer_writes(inbox, "ann", "m-after", "live again").await.expect_status(201);
        let live = next_event(&mut socket, "message.created").await;
        assert_eq!(live["payload"]["text"], "live again");
        assert_eq!(live["seq"].as_i64().unwrap(), newest + 1 + (live["seq"].as_i64().unwrap() - newest - 1));
        for frame in drain(&mut socket, Duration::from_millis(300)).await {
            assert!(frame["event"]["seq"].as_i64().unwrap_or(i64::MAX) > live["seq"].as_i64().unwrap() || frame["type"] != "event",
                "no event twice: {frame}");
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn a_console_too_far_behind_is_told_to_resync() {
    let app = spawn_app_with(Engine::Sqlite, |s| s.gateway.replay_limit = 3).await;
    let (inbox, _) = app.api_inbox("Support", None).await;
    for i in 0..3 {
        app.customer_writes(inbox, "ann", &format!("m{i}"), "hello")
            .await
            .expect_status(201);
    }
    let (mut socket, _) = console(&app, &app.token, Some(0)).await;
    let frame = next_frame(&mut socket).await;
    assert_eq!(frame["type"], "resync", "{frame}");
    app.stop().await;
}

#[tokio::test]
async fn the_socket_needs_a_valid_token() {
    let app = spawn_app(Engine::Sqlite).await;
    let url = format!("{}/api/v1/ws", app.url.replace("http://", "ws://"));
    let refused = tokio_tungstenite::connect_async(url.clone())
        .await
        .unwrap_err()
        .to_string();
    assert!(refused.contains("401"), "{refused}");
    let forged = tokio_tungstenite::connect_async(format!("{url}?token=sbs_forged"))
        .await
        .unwrap_err()
        .to_string();
    assert!(forged.contains("401"), "{forged}");
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(url)
            .unwrap();
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {}", app.token).parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("a bearer header works too");
    assert_eq!(next_frame(&mut socket).await["type"], "ready");
    app.stop().await;
}

#[tokio::test]
async fn presence_follows_sockets_and_heartbeats() {
    let app = spawn_app_with(Engine::Sqlite, |s| {
        s.gateway.presence_timeout_secs = 1;
        s.gateway.presence_check_secs = 1;
    })
    .await;
    let (agent, token) = app.user_with_role("pia@example.com", "Pia", "agent").await;
    let agent_id = agent["id"].as_i64().unwrap();
    let (mut watcher, _) = console(&app, &app.token, None).await;
    let (mut pia, _) = console(&app, &token, None).await;

    let online = next_event(&mut watcher, "presence.updated").await;
    let online = if online["payload"]["user_id"] == agent_id {
        online
    } else {
        next_event(&mut watcher, "presence.updated").await
    };
    assert_eq!(
        (
            online["payload"]["user_id"].as_i64(),
            online["payload"]["status"].as_str()
        ),
        (Some(agent_id), Some("online"))
    );

    send(
        &mut pia,
        json!({"v": 1, "type": "presence", "status": "busy"}),
    )
    .await;
    let busy = next_event(&mut watcher, "presence.updated").await;
    assert_eq!(busy["payload"]["status"], "busy");

    // No heartbeat from Pia: after the timeout she is offline, even with the socket open.
    let mut offline = next_event(&mut watcher, "presence.updated").await;
    while offline["payload"]["user_id"] != agent_id {
        offline = next_event(&mut watcher, "presence.updated").await;
    }
    assert_eq!(offline["payload"]["status"], "offline");
    send(&mut pia, json!({"v": 1, "type": "ping"})).await;
    let mut answer = next_frame(&mut pia).await;
    while answer["type"] == "event" {
        answer = next_frame(&mut pia).await;
    }
    assert_eq!(answer["type"], "pong");
    app.stop().await;
}

#[tokio::test]
async fn typing_and_read_markers_reach_the_right_people() {
    let app = spawn_app(Engine::Sqlite).await;
    let (inbox, _) = app.api_inbox("Support", None).await;
    let (ana, ana_token) = app.user_with_role("ana@example.com", "Ana", "agent").await;
    app.add_member(inbox, ana["id"].as_i64().unwrap()).await;
    let message = app
        .customer_writes(inbox, "cus", "m1", "hello")
        .await
        .expect_status(201)
        .json;
    let conversation = message["conversation_id"].as_i64().unwrap();
    let (mut owner, _) = console(&app, &app.token, None).await;
    let (mut ana_socket, _) = console(&app, &ana_token, None).await;

    send(
        &mut ana_socket,
        json!({"v": 1, "type": "typing", "conversation_id": conversation, "on": true}),
    )
    .await;
    let mut typing = next_frame(&mut owner).await;
    while typing["type"] != "typing" {
        typing = next_frame(&mut owner).await;
    }
    assert_eq!(
        (
            typing["name"].as_str(),
            typing["on"].as_bool(),
            typing["contact"].as_bool()
        ),
        (Some("Ana"), Some(true), Some(false))
    );

    // The customer typing in the widget shows in the console too.
    let state = app.app.as_ref().unwrap().state().clone();
    state.signals.typing(switchboard::signals::Typing {
        workspace_id: app.workspace_id,
        inbox_id: inbox,
        conversation_id: conversation,
        typist: switchboard::signals::Typist::Contact,
        on: true,
    });
    let mut contact_typing = next_frame(&mut ana_socket).await;
    while contact_typing["type"] != "typing" {
        contact_typing = next_frame(&mut ana_socket).await;
    }
    assert_eq!(contact_typing["contact"], true);

    let before = app
        .get(
            &format!("/api/v1/conversations/{conversation}/read"),
            Some(&ana_token),
        )
        .await
        .expect_status(200)
        .json;
    assert_eq!(before["unread"], 1);
    send(&mut ana_socket, json!({"v": 1, "type": "read", "conversation_id": conversation, "message_id": message["id"]})).await;
    let read = next_event(&mut ana_socket, "conversation.read").await;
    assert_eq!(read["payload"]["last_read_message_id"], message["id"]);
    let after = app
        .get(
            &format!("/api/v1/conversations/{conversation}/read"),
            Some(&ana_token),
        )
        .await
        .json;
    assert_eq!(after["unread"], 0);
    for frame in drain(&mut owner, Duration::from_millis(400)).await {
        assert_ne!(
            frame["event"]["kind"], "conversation.read",
            "Ana's read marker is hers alone"
        );
    }
    send(
        &mut ana_socket,
        json!({"type": "typing", "conversation_id": 999_999, "on": true}),
    )
    .await;
    assert_eq!(next_frame(&mut ana_socket).await["type"], "error");
    send(&mut ana_socket, json!({"type": "moonwalk"})).await;
    assert_eq!(next_frame(&mut ana_socket).await["code"], "bad_frame");
    app.stop().await;
}

/// The connection logic over plain channels: no network, a real store.
#[tokio::test]
async fn over_channels_a_slow_console_is_told_to_resync_and_replay_skips_what_it_saw() {
    let (store, _db) = open_store(Engine::Sqlite).await;
    let ws = store.create_workspace("Acme").await.unwrap();
    let user = store
        .create_user(switchboard::store::NewUser {
            workspace_id: ws.id,
            email: switchboard::domain::EmailAddress::parse("a@acme.example").unwrap(),
            name: "A".into(),
            role: switchboard::domain::Role::Owner,
            password_hash: "x".into(),
        })
        .await
        .unwrap();
    store
        .create_token(switchboard::store::NewToken {
            user_id: user.id,
            kind: switchboard::store::TokenKind::Session,
            name: "s".into(),
            hash: vec![9; 32],
            expires_at: None,
        })
        .await
        .unwrap();
    let principal = store
        .principal_by_token(&[9; 32], 0)
        .await
        .unwrap()
        .unwrap();
    for i in 0..3 {
        store
            .set_presence(
                ws.id,
                user.id,
                if i % 2 == 0 {
                    switchboard::domain::PresenceStatus::Busy
                } else {
                    switchboard::domain::PresenceStatus::Online
                },
                i,
            )
            .await
            .unwrap();
    }
    let bus: Arc<dyn switchboard::bus::EventBus> =
        Arc::new(switchboard::bus::InProcessBus::new(16));
    let ctx = Context {
        desk: switchboard::desk::Desk::new(store.clone(), bus),
        signals: Arc::new(switchboard::signals::Signals::new(16)),
        limits: Limits {
            replay_limit: 100,
            ping_every: Duration::from_secs(30),
            silence_limit: Duration::from_secs(60),
            presence_touch_every: Duration::from_secs(15),
            refresh_every: Duration::from_secs(30),
        },
    };
    let hub = ConsoleHub::new(3);
    let registration = hub.register(ws.id, connection::audience(&principal));
    let (out_tx, mut out_rx) = futures::channel::mpsc::unbounded::<Outgoing>();
    let (in_tx, in_rx) = futures::channel::mpsc::unbounded::<Incoming>();
    let task = tokio::spawn(connection::run(
        ctx,
        principal,
        vec![9; 32],
        registration,
        Some(1),
        out_tx,
        in_rx,
    ));

    let text = |o: Outgoing| match o {
        Outgoing::Text(t) => serde_json::from_str::<Value>(t.as_str()).unwrap(),
        other => panic!("{other:?}"),
    };
    assert_eq!(text(out_rx.next().await.unwrap())["type"], "ready");
    let mut replayed = Vec::new();
    for _ in 0..2 {
        replayed.push(
            text(out_rx.next().await.unwrap())["event"]["seq"]
                .as_i64()
                .unwrap(),
        );
    }
    assert_eq!(replayed, vec![2, 3], "everything after seq 1, in order");

    // Live events the console already got through the replay are not sent again.
    let events = store.events_after(ws.id, 0, 10).await.unwrap();
    for e in &events {
        hub.route_event(e);
    }
    in_tx
        .unbounded_send(Incoming::Text(r#"{"type":"ping"}"#.into()))
        .unwrap();
    assert_eq!(
        text(out_rx.next().await.unwrap())["type"],
        "pong",
        "no event twice"
    );

    // More than the queue holds while the console is slow: it is dropped and told to resync.
    // Routed in one go, with nothing awaited in between, so the console cannot drain its queue
    // between events whatever the scheduler does.
    let events = store.events_after(ws.id, 0, 10).await.unwrap();
    for round in 1..=5 {
        for e in &events {
            hub.route_event(&switchboard::domain::Event {
                seq: e.seq + 10 * round,
                ..e.clone()
            });
        }
    }
    let mut last = text(out_rx.next().await.unwrap());
    while last["type"] == "event" {
        last = text(out_rx.next().await.unwrap());
    }
    assert_eq!(last["type"], "resync");
    assert_eq!(out_rx.next().await, Some(Outgoing::Close));
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_test_client_holds_ten_thousand_idle_console_sockets() {
    // The server runs as its own process: each side then holds 10,000 descriptors, under the
    // 20,000 a process may open on this machine.
    let db = TestDatabase::new(Engine::Sqlite).await;
    let mut server = tokio::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(db.dir.path())
        .env("SWITCHBOARD_OWNER_EMAIL", "owner@example.com")
        .env("SWITCHBOARD_OWNER_PASSWORD", PASSWORD)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = server.id().unwrap();
    let mut lines =
        tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(server.stdout.take().unwrap()));
    let url = loop {
        let line = lines
            .next_line()
            .await
            .unwrap()
            .expect("server prints its address");
        if let Some(url) = line.strip_prefix("listening on ") {
            break url.to_string();
        }
    };
    let token: Value = reqwest::Client::new()
        .post(format!("{url}/api/v1/auth/login"))
        .json(&json!({"email": "owner@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["token"].as_str().unwrap().to_string();
    let rss = |pid: u32| -> u64 {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap()
            .lines()
            .find(|l| l.starts_with("VmRSS"))
            .unwrap()
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse()
            .unwrap()
    };
    let ws_url = format!(
        "{}/api/v1/ws?token={token}",
        url.replace("http://", "ws://")
    );
    let mut sockets = Vec::with_capacity(10_000);
    for _ in 0..100 {
        sockets.push(
            tokio_tungstenite::connect_async(ws_url.as_str())
                .await
                .unwrap()
                .0,
        );
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss(pid);
    let started = std::time::Instant::now();
    let connects = futures::stream::iter(0..9_900)
        .map(|_| {
            let url = ws_url.clone();
            async move {
                let (mut socket, _) = tokio_tungstenite::connect_async(url)
                    .await
                    .expect("connect");
                let ready = socket.next().await.expect("ready").expect("frame");
                assert!(ready.to_text().unwrap().contains("ready"));
                socket
            }
        })
        .buffer_unordered(64)
        .collect::<Vec<_>>()
        .await;
    sockets.extend(connects);
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "connecting took {:?}",
        started.elapsed()
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = rss(pid);
    assert_eq!(sockets.len(), 10_000);
    let per_socket = (after.saturating_sub(before)) as f64 / 9_900.0;
    println!("10,000 idle console sockets: server RSS {before} -> {after} KiB, {per_socket:.2} KiB per socket, {:.0} connects/s",
        9_900.0 / started.elapsed().as_secs_f64());
    assert!(per_socket < 16.0, "{per_socket:.2} KiB per idle socket");
    // All still alive: a message reaches the last socket.
    let last = sockets.last_mut().unwrap();
    last.send(WsMessage::Text(
        json!({"v": 1, "type": "ping"}).to_string().into(),
    ))
    .await
    .unwrap();
    let pong = tokio::time::timeout(Duration::from_secs(10), last.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(pong.to_text().unwrap().contains("pong"));
}
