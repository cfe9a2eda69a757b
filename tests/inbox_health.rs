//! An inbox's health and "test connection": a mailbox that refuses the login or cannot be
//! reached, and a channel that refuses to send, show on the inbox (to those who may see it, live)
//! until the next attempt that works; an email inbox's servers are tried before and after it is
//! saved, answered in the servers' own words, through the outgoing-address rules, and a saved
//! password never goes to a server it was not saved for.

mod common;
#[path = "common/mail_lab.rs"]
mod mail_lab;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use common::*;
use futures::StreamExt;
use mail_lab::MailLab;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message as WsMessage;

const SUPPORT: &str = "support@support.test";

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn console(app: &TestApp, token: &str) -> Socket {
    let url = format!(
        "{}/api/v1/ws?token={token}",
        app.url.replace("http://", "ws://")
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("console socket");
    // Events count from "ready" on: what happens before it is not this console's news.
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("ready within 5 s")
            .expect("socket open")
            .expect("frame");
        if let WsMessage::Text(text) = frame {
            let frame: Value = serde_json::from_str(&text).unwrap();
            if frame["type"] == "ready" {
                return socket;
            }
        }
    }
}

/// The `inbox.updated` events heard within `wait`.
async fn inbox_events(socket: &mut Socket, wait: Duration) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + wait;
    let mut heard = Vec::new();
    while let Ok(Some(Ok(frame))) = tokio::time::timeout_at(deadline, socket.next()).await {
        if let WsMessage::Text(text) = frame {
            let frame: Value = serde_json::from_str(&text).unwrap();
            if frame["type"] == "event" && frame["event"]["kind"] == "inbox.updated" {
                heard.push(frame["event"].clone());
            }
        }
    }
    heard
}

/// The inbox as `token`'s holder lists it, if they may see it.
async fn listed(app: &TestApp, token: &str, inbox: i64) -> Option<Value> {
    let all = app
        .get("/api/v1/inboxes", Some(token))
        .await
        .expect_status(200)
        .json;
    all.as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == inbox)
        .cloned()
}

/// Waits until the inbox's problems satisfy `done`, and returns them.
async fn problems_until(app: &TestApp, inbox: i64, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let mut last = Vec::new();
    for _ in 0..300 {
        last = listed(app, &app.token, inbox).await.unwrap()["problems"]
            .as_array()
            .cloned()
            .unwrap();
        if done(&last) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("inbox {inbox}: the problems never settled; last seen {last:?}");
}

/// A customer's system whose callback URL fails (503, with its words) while `failing` holds.
async fn flaky_receiver(failing: Arc<AtomicBool>) -> String {
    let app = axum::Router::new().route(
        "/callback",
        axum::routing::post(move || {
            let failing = failing.clone();
            async move {
                if failing.load(Ordering::SeqCst) {
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        "CRM is down for maintenance",
                    )
                } else {
                    (StatusCode::OK, "{\"id\": \"crm-1\"}")
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/callback", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

on_both_engines! {
    async fn a_failing_callback_shows_on_the_inbox_to_its_members_until_a_delivery_works(engine) {
        let failing = Arc::new(AtomicBool::new(true));
        let url = flaky_receiver(failing.clone()).await;
        let app = spawn_app_with(engine, |s| s.dispatcher.max_attempts = 1000).await;
        let (inbox, _) = app.api_inbox("CRM", Some(&url)).await;
        let (other, _) = app.api_inbox("Other", None).await;
        let (member, member_token) = app.user_with_role("mia@example.com", "Mia Member", "agent").await;
        app.add_member(inbox, member["id"].as_i64().unwrap()).await;
        let (outsider, outsider_token) = app.user_with_role("oz@example.com", "Oz Outsider", "agent").await;
        app.add_member(other, outsider["id"].as_i64().unwrap()).await;
        let mut owner_socket = console(&app, &app.token).await;
        let mut outsider_socket = console(&app, &outsider_token).await;
        assert!(listed(&app, &app.token, inbox).await.unwrap()["problems"].as_array().unwrap().is_empty());

        let incoming = app.customer_writes(inbox, "cust-1", "in-1", "Hello?").await.expect_status(201).json;
        let conversation = incoming["conversation_id"].as_i64().unwrap();
        app.post(&format!("/api/v1/conversations/{conversation}/messages"), Some(&app.token),
            json!({"text": "Hi there."})).await.expect_status(201);

        let problems = problems_until(&app, inbox, |p| !p.is_empty()).await;
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0]["part"], "delivery");
        let words = problems[0]["problem"].as_str().unwrap();
        // The status, not the body: what a customer's system answers is not the hub's to keep.
        assert!(words.contains("callback answered 503"), "what the receiver answered: {words}");
        assert!(problems[0]["since"].as_i64().unwrap() <= problems[0]["last_seen"].as_i64().unwrap());
        let member_view = listed(&app, &member_token, inbox).await.expect("a member sees the inbox");
        assert_eq!(member_view["problems"], json!(problems), "members see what fails");
        let shown = app.get(&format!("/api/v1/inboxes/{inbox}"), Some(&app.token)).await.expect_status(200).json;
        assert_eq!(shown["problems"][0]["part"], "delivery");
        assert!(listed(&app, &outsider_token, inbox).await.is_none());
        app.get(&format!("/api/v1/inboxes/{inbox}"), Some(&outsider_token)).await.expect_status(403);

        let heard = inbox_events(&mut owner_socket, Duration::from_millis(300)).await;
        assert!(heard.iter().any(|e| e["inbox_id"] == inbox && e["payload"]["change"] == "health"
            && e["payload"]["part"] == "delivery"), "the owner's console hears it live: {heard:?}");

        failing.store(false, Ordering::SeqCst);
        problems_until(&app, inbox, |p| p.is_empty()).await;
        let heard = inbox_events(&mut owner_socket, Duration::from_millis(500)).await;
        assert!(heard.iter().any(|e| e["inbox_id"] == inbox && e["payload"]["problem"].is_null()),
            "and hears it clear: {heard:?}");
        let overheard = inbox_events(&mut outsider_socket, Duration::from_millis(200)).await;
        assert!(overheard.iter().all(|e| e["inbox_id"] != inbox),
            "an agent outside the inbox hears nothing of it: {overheard:?}");
        app.stop().await;
    }

    async fn a_new_inbox_is_announced_to_admins_and_members_only(engine) {
        let app = spawn_app(engine).await;
        let (_, agent_token) = app.user_with_role("ann@example.com", "Ann Agent", "agent").await;
        let mut owner_socket = console(&app, &app.token).await;
        let mut agent_socket = console(&app, &agent_token).await;
        let (inbox, _) = app.api_inbox("Fresh", None).await;
        let heard = inbox_events(&mut owner_socket, Duration::from_millis(1000)).await;
        assert!(heard.iter().any(|e| e["inbox_id"] == inbox && e["payload"]["change"] == "created"),
            "{heard:?}");
        let overheard = inbox_events(&mut agent_socket, Duration::from_millis(200)).await;
        assert!(overheard.is_empty(), "an agent who is no member is not told: {overheard:?}");
        app.stop().await;
    }
}

async fn spawn_for_mail(tweak: impl FnOnce(&mut switchboard::Settings)) -> TestApp {
    spawn_app_with(Engine::Sqlite, |s| {
        s.email.supervise_secs = 1;
        s.routing.enabled = false;
        tweak(s);
    })
    .await
}

async fn email_inbox(app: &TestApp, lab: &MailLab, name: &str, password: &str) -> i64 {
    app.post(
        "/api/v1/inboxes",
        Some(&app.token),
        json!({"name": name, "kind": "email", "email": lab.inbox_settings(SUPPORT),
               "imap_password": password}),
    )
    .await
    .expect_status(201)
    .json["id"]
        .as_i64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mailbox_that_refuses_the_login_or_goes_away_shows_on_the_inbox_until_it_is_back() {
    let lab = MailLab::start(None);
    let app = spawn_for_mail(|_| {}).await;
    let refused = email_inbox(&app, &lab, "Wrong password", "not-the-password").await;
    let working = email_inbox(&app, &lab, "Support", "support-pass").await;

    let problems = problems_until(&app, refused, |p| !p.is_empty()).await;
    assert_eq!(problems[0]["part"], "mailbox");
    let words = problems[0]["problem"].as_str().unwrap();
    assert!(
        words.contains("refused the login") && words.contains("AUTHENTICATIONFAILED"),
        "Dovecot's own words: {words}"
    );
    // Retrying with a growing pause does not move when it started failing.
    let since = problems[0]["since"].clone();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let again = problems_until(&app, refused, |p| !p.is_empty()).await;
    assert_eq!(again[0]["since"], since);
    assert!(problems_until(&app, working, |_| true).await.is_empty());

    lab.run("kill-imap", &[]);
    let problems = problems_until(&app, working, |p| !p.is_empty()).await;
    assert_eq!(problems[0]["part"], "mailbox", "{problems:?}");
    lab.run("start-imap", &[]);
    problems_until(&app, working, |p| p.is_empty()).await;
    app.stop().await;
}

/// What `POST path` answers the owner for `body`.
async fn try_connection(app: &TestApp, path: &str, body: Value) -> Value {
    app.post(path, Some(&app.token), body)
        .await
        .expect_status(200)
        .json
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_connection_answers_in_the_servers_words_and_keeps_saved_passwords_at_home() {
    let lab = MailLab::start(None);
    let app = spawn_for_mail(|_| {}).await;
    // The lab's Postfix takes mail from loopback without a login.
    let settings = lab.inbox_settings(SUPPORT);

    let good = try_connection(
        &app,
        "/api/v1/inboxes/test-connection",
        json!({
        "email": settings, "imap_password": "support-pass", "smtp_password": "support-pass"}),
    )
    .await;
    assert_eq!(good["imap"]["ok"], true, "{good}");
    assert!(good["imap"]["mails"].is_u64(), "{good}");
    assert_eq!(good["smtp"]["ok"], true, "{good}");

    let bad = try_connection(
        &app,
        "/api/v1/inboxes/test-connection",
        json!({
        "email": settings, "imap_password": "wrong"}),
    )
    .await;
    assert_eq!(bad["imap"]["ok"], false);
    let words = bad["imap"]["message"].as_str().unwrap();
    assert!(
        words.contains("AUTHENTICATIONFAILED"),
        "Dovecot's words: {words}"
    );

    let mut closed = settings.clone();
    closed["imap"]["port"] = json!(1);
    closed["smtp"]["port"] = json!(1);
    let unreachable = try_connection(
        &app,
        "/api/v1/inboxes/test-connection",
        json!({
        "email": closed, "imap_password": "support-pass"}),
    )
    .await;
    assert_eq!(unreachable["imap"]["ok"], false);
    assert!(
        unreachable["imap"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot reach"),
        "{unreachable}"
    );
    assert_eq!(unreachable["smtp"]["ok"], false, "{unreachable}");

    // A saved inbox: its saved password is used for its own server...
    let inbox = email_inbox(&app, &lab, "Support", "support-pass").await;
    let saved = try_connection(
        &app,
        &format!("/api/v1/inboxes/{inbox}/test-connection"),
        json!({}),
    )
    .await;
    assert_eq!(saved["imap"]["ok"], true, "{saved}");
    // ...and never for another: a changed host (an attacker's, say) gets no password at all.
    let thief = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let thief_port = thief.local_addr().unwrap().port();
    let heard = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut socket, _) = thief.accept().await.unwrap();
        socket.write_all(b"* OK ready\r\n").await.unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 512];
        while let Ok(Ok(n)) =
            tokio::time::timeout(Duration::from_secs(5), socket.read(&mut buf)).await
        {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
            let line = String::from_utf8_lossy(&buf[..n]).to_string();
            let tag = line.split_whitespace().next().unwrap_or("*").to_string();
            let answer = format!("{tag} NO [AUTHENTICATIONFAILED] Authentication failed.\r\n");
            socket.write_all(answer.as_bytes()).await.unwrap();
        }
        String::from_utf8_lossy(&got).to_string()
    });
    let mut elsewhere = lab.inbox_settings(SUPPORT);
    elsewhere["imap"]["port"] = json!(thief_port);
    let answer = try_connection(
        &app,
        &format!("/api/v1/inboxes/{inbox}/test-connection"),
        json!({"email": elsewhere}),
    )
    .await;
    assert_eq!(answer["imap"]["ok"], false);
    let sent = heard.await.unwrap();
    assert!(
        !sent.contains("support-pass"),
        "the saved password went to another server: {sent}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_connection_is_for_admins_and_reaches_no_internal_address_unless_allowed() {
    let lab = MailLab::start(None);
    let app = spawn_for_mail(|s| s.outbound.allow_hosts.clear()).await;
    let settings = lab.inbox_settings(SUPPORT);
    let body = json!({"email": settings, "imap_password": "support-pass"});

    let (_, agent_token) = app
        .user_with_role("ann@example.com", "Ann Agent", "agent")
        .await;
    app.post(
        "/api/v1/inboxes/test-connection",
        Some(&agent_token),
        body.clone(),
    )
    .await
    .expect_status(403);

    let refused = try_connection(&app, "/api/v1/inboxes/test-connection", body.clone()).await;
    assert_eq!(refused["imap"]["ok"], false);
    let why = refused["imap"]["message"].as_str().unwrap();
    assert!(why.contains("allow_hosts"), "says how to allow it: {why}");
    assert_eq!(refused["smtp"]["ok"], false, "{refused}");

    // The workspace's test budget: a check is one try of it, so it is no port scanner.
    let mut limited = false;
    for _ in 0..15 {
        let reply = app
            .post(
                "/api/v1/inboxes/test-connection",
                Some(&app.token),
                body.clone(),
            )
            .await;
        if reply.status == 429 {
            limited = true;
            break;
        }
    }
    assert!(limited, "checks are held to the workspace's test budget");
    app.stop().await;
}

async fn patch(app: &TestApp, inbox: i64, body: Value) -> Reply {
    app.send(
        reqwest::Method::PATCH,
        &format!("/api/v1/inboxes/{inbox}"),
        Some(&app.token),
        body,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_inbox_is_edited_in_place_and_keeps_its_password_only_for_the_same_server() {
    let lab = MailLab::start(None);
    let app = spawn_for_mail(|_| {}).await;
    let inbox = email_inbox(&app, &lab, "Support", "support-pass").await;
    let mut settings = lab.inbox_settings(SUPPORT);

    // A new display name, the password box left empty: the saved password stays.
    settings["display_name"] = json!("Acme Help");
    let edited = patch(
        &app,
        inbox,
        json!({"settings": settings, "secrets": {"imap_password": ""}}),
    )
    .await
    .expect_status(200)
    .json;
    assert_eq!(edited["settings"]["display_name"], "Acme Help");
    assert!(
        edited["settings"]["imap"].get("password").is_none(),
        "{edited}"
    );
    let tried = try_connection(
        &app,
        &format!("/api/v1/inboxes/{inbox}/test-connection"),
        json!({}),
    )
    .await;
    assert_eq!(
        tried["imap"]["ok"], true,
        "the saved password still signs in: {tried}"
    );

    // Another server with no password typed: refused, nothing changes.
    let mut moved = settings.clone();
    moved["imap"]["port"] = json!(lab.imaps_port);
    let refused = patch(&app, inbox, json!({"settings": moved}))
        .await
        .expect_status(422);
    assert!(
        refused.text.contains("imap_password") && refused.text.contains("type its password again"),
        "{}",
        refused.text
    );
    let shown = app
        .get(&format!("/api/v1/inboxes/{inbox}"), Some(&app.token))
        .await
        .expect_status(200)
        .json;
    assert_eq!(
        shown["settings"]["imap"]["port"],
        json!(lab.imap_port),
        "nothing changed"
    );

    // A wrong password typed takes effect at once: the sync signs in with it and fails...
    patch(
        &app,
        inbox,
        json!({"settings": settings, "secrets": {"imap_password": "typo"}}),
    )
    .await
    .expect_status(200);
    let problems = problems_until(&app, inbox, |p| !p.is_empty()).await;
    assert!(
        problems[0]["problem"]
            .as_str()
            .unwrap()
            .contains("AUTHENTICATIONFAILED"),
        "{problems:?}"
    );
    // ...and the right one mends it.
    patch(
        &app,
        inbox,
        json!({"settings": settings, "secrets": {"imap_password": "support-pass"}}),
    )
    .await
    .expect_status(200);
    problems_until(&app, inbox, |p| p.is_empty()).await;

    // Secrets are for channels that keep them.
    let (api, _) = app.api_inbox("CRM", None).await;
    let refused = patch(
        &app,
        api,
        json!({"settings": {}, "secrets": {"token": "x"}}),
    )
    .await
    .expect_status(422);
    assert!(
        refused.text.contains("no secrets to change"),
        "{}",
        refused.text
    );
    app.stop().await;
}
