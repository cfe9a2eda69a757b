//! The website chat channel from the visitor's side: sessions, messages both ways over REST and
//! the visitor socket, identity verification, and a visitor never reaching another's data.

mod common;

use std::time::Duration;

use common::*;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use switchboard::http::routes::{routes, Access};
use switchboard::widget::identity::{identifier_hash, sign_jwt};
use tokio_tungstenite::tungstenite::Message as WsMessage;

async fn session(app: &TestApp, body: Value) -> Reply {
    app.post("/widget/v1/sessions", None, body).await
}

async fn visitor(app: &TestApp, chat: &WebChat) -> String {
    session(app, json!({"website_token": chat.website_token}))
        .await
        .expect_status(200)
        .json["visitor_token"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn visitor_says(app: &TestApp, token: &str, client_id: &str, text: &str) -> Value {
    app.post(
        "/widget/v1/messages",
        Some(token),
        json!({"client_id": client_id, "text": text}),
    )
    .await
    .expect_status(201)
    .json
}

async fn configure(app: &TestApp, chat: &WebChat, settings: Value) {
    app.send(
        reqwest::Method::PATCH,
        &format!("/api/v1/inboxes/{}", chat.inbox),
        Some(&app.token),
        json!({"settings": settings}),
    )
    .await
    .expect_status(200);
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(app: &TestApp, token: &str) -> Socket {
    let url = format!(
        "{}/widget/v1/ws?token={token}",
        app.url.replace("http://", "ws://")
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("visitor socket");
    let ready = next_frame(&mut socket).await;
    assert_eq!(ready["type"], "ready");
    socket
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

/// The next frame of one type, skipping queue updates and the like.
async fn next_of(socket: &mut Socket, kind: &str) -> Value {
    loop {
        let frame = next_frame(socket).await;
        if frame["type"] == kind {
            return frame;
        }
    }
}

async fn no_frame_of(socket: &mut Socket, kind: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_millis(600);
    while let Ok(Some(Ok(frame))) = tokio::time::timeout_at(deadline, socket.next()).await {
        if let WsMessage::Text(text) = frame {
            let value: Value = serde_json::from_str(&text).unwrap();
            assert_ne!(value["type"], kind, "unexpected {value}");
        }
    }
}

on_both_engines! {
    async fn a_visitor_and_an_agent_talk_live_and_the_visitor_sees_its_history_on_return(engine) {
        let app = spawn_app(engine).await;
        let chat = app.web_chat_inbox().await;
        assert!(
            chat.embed_snippet.contains("/widget.js") && chat.embed_snippet.contains(&chat.website_token),
            "{}", chat.embed_snippet
        );
        let token = visitor(&app, &chat).await;
        let mut socket = connect(&app, &token).await;

        let posted = app
            .post("/widget/v1/messages", Some(&token), json!({
                "client_id": "c-1", "text": "Do you ship to Crete?",
                "prechat": {"name": "Eleni", "email": "eleni@example.gr", "fields": {"order": "A-17"}}
            }))
            .await
            .expect_status(201)
            .json;
        let conversation = posted["conversation_id"].as_i64().unwrap();
        let echoed = next_of(&mut socket, "message").await;
        assert_eq!(echoed["message"]["text"], "Do you ship to Crete?");
        assert_eq!(echoed["message"]["direction"], "incoming");

        // The agent sees a contact with the pre-chat answers and replies; a note stays private.
        let seen = app.get(&format!("/api/v1/conversations/{conversation}"), Some(&app.token)).await.json;
        let contact = app.get(&format!("/api/v1/contacts/{}", seen["contact_id"]), Some(&app.token)).await.json;
        assert_eq!(contact["name"], "Eleni");
        assert_eq!(contact["email"], "eleni@example.gr");
        assert_eq!(contact["attributes"]["order"], "A-17");
        app.post(&format!("/api/v1/conversations/{conversation}/messages"), Some(&app.token),
            json!({"text": "internal: check stock", "private": true})).await.expect_status(201);
        app.post(&format!("/api/v1/conversations/{conversation}/messages"), Some(&app.token),
            json!({"text": "Yes, in two days."})).await.expect_status(201);
        let reply = next_of(&mut socket, "message").await;
        assert_eq!(reply["message"]["text"], "Yes, in two days.", "the note never reaches the visitor");
        assert_eq!(reply["message"]["direction"], "outgoing");
        assert_eq!(reply["message"]["sender_name"], "Olive Owner");

        // Same client id again: the same message, not a second one.
        let retry = app.post("/widget/v1/messages", Some(&token), json!({"client_id": "c-1", "text": "Do you ship to Crete?"}))
            .await.expect_status(200).json;
        assert_eq!(retry["message"]["id"], posted["message"]["id"]);

        // Coming back with the stored token: same contact, whole history, no notes.
        let again = session(&app, json!({"website_token": chat.website_token, "visitor_token": token}))
            .await.expect_status(200).json;
        assert_eq!(again["visitor"]["contact_id"], seen["contact_id"]);
        let token = again["visitor_token"].as_str().unwrap();
        let history = app.get(&format!("/widget/v1/conversations/{conversation}/messages"), Some(token)).await.expect_status(200).json;
        let texts: Vec<_> = history["data"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
        assert_eq!(texts, vec!["Do you ship to Crete?", "Yes, in two days."]);
        let list = app.get("/widget/v1/conversations", Some(token)).await.expect_status(200).json;
        assert_eq!(list["data"][0]["unread"], 1);
        app.stop().await;
    }
}

#[tokio::test]
async fn the_visitor_rates_a_resolved_conversation_once() {
    let app = spawn_app(Engine::Sqlite).await;
    let chat = app.web_chat_inbox().await;
    let token = visitor(&app, &chat).await;
    let conversation = visitor_says(&app, &token, "c1", "hello").await["conversation_id"]
        .as_i64()
        .unwrap();
    let mut socket = connect(&app, &token).await;
    let path = format!("/widget/v1/conversations/{conversation}/rating");
    app.post(&path, Some(&token), json!({"score": 5}))
        .await
        .expect_status(422);
    app.send(
        reqwest::Method::PATCH,
        &format!("/api/v1/conversations/{conversation}"),
        Some(&app.token),
        json!({"status": "resolved"}),
    )
    .await
    .expect_status(200);
    let resolved = next_of(&mut socket, "conversation").await;
    assert_eq!(resolved["conversation"]["status"], "resolved");
    app.post(&path, Some(&token), json!({"score": 9}))
        .await
        .expect_status(422);
    let rated = app
        .post(
            &path,
            Some(&token),
            json!({"score": 4, "comment": "quick!"}),
        )
        .await
        .expect_status(200)
        .json;
    assert_eq!(rated["score"], 4);
    app.post(&path, Some(&token), json!({"score": 1}))
        .await
        .expect_status(409);
    let events = app
        .get("/api/v1/events?limit=1000", Some(&app.token))
        .await
        .json;
    assert!(events["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "conversation.rated" && e["payload"]["score"] == 4));
    app.stop().await;
}

#[tokio::test]
async fn a_visitor_never_reaches_another_visitors_conversation() {
    let app = spawn_app(Engine::Sqlite).await;
    let chat = app.web_chat_inbox().await;
    let ana = visitor(&app, &chat).await;
    let bob = visitor(&app, &chat).await;
    let anas = visitor_says(&app, &ana, "a1", "Ana's secret").await;
    let anas_conversation = anas["conversation_id"].as_i64().unwrap();
    let anas_attachment = app
        .post("/widget/v1/messages", Some(&ana), json!({"client_id": "a2", "text": "file",
            "attachments": [{"filename": "id.txt", "content_type": "text/plain", "data": "c2VjcmV0"}]}))
        .await
        .expect_status(201)
        .json["message"]["attachments"][0]["id"]
        .as_i64()
        .unwrap();
    let mut bobs_socket = connect(&app, &bob).await;

    for route in routes()
        .into_iter()
        .filter(|r| r.access == Access::Visitor && r.path.contains('{'))
    {
        let path = route.path;
        let reply =
            call_visitor_route(&app, &route, anas_conversation, anas_attachment, &bob).await;
        assert_eq!(
            reply.status, 404,
            "{} {path} as another visitor: {}",
            route.method, reply.text
        );
        assert!(!reply.text.contains("Ana's secret"));
    }
    // Writing into Ana's conversation by naming it is refused too…
    app.post(
        "/widget/v1/messages",
        Some(&bob),
        json!({"client_id": "b1", "text": "hi", "conversation_id": anas_conversation}),
    )
    .await
    .expect_status(404);
    // …and the same client id as Ana's message makes Bob's own message, never returns hers.
    let bobs = visitor_says(&app, &bob, "a1", "Bob here").await;
    assert_ne!(bobs["message"]["id"], anas["message"]["id"]);
    assert_ne!(bobs["conversation_id"], anas["conversation_id"]);
    let bobs_list = app.get("/widget/v1/conversations", Some(&bob)).await.json;
    assert_eq!(bobs_list["data"].as_array().unwrap().len(), 1);

    // Bob's socket hears his own message but nothing of Ana's conversation.
    assert_eq!(
        next_of(&mut bobs_socket, "message").await["message"]["text"],
        "Bob here"
    );
    app.post(
        &format!("/api/v1/conversations/{anas_conversation}/messages"),
        Some(&app.token),
        json!({"text": "for Ana only"}),
    )
    .await
    .expect_status(201);
    no_frame_of(&mut bobs_socket, "message").await;
    app.stop().await;
}

#[tokio::test]
async fn forged_and_foreign_tokens_are_refused_at_every_visitor_entry_point() {
    let app = spawn_app(Engine::Sqlite).await;
    let chat = app.web_chat_inbox().await;
    let token = visitor(&app, &chat).await;
    let conversation = visitor_says(&app, &token, "c1", "hi").await["conversation_id"]
        .as_i64()
        .unwrap();
    // A token whose body was edited (another contact) keeps the old signature: forged.
    let (body, signature) = token.rsplit_once('.').unwrap();
    let forged = format!("{}x.{signature}", body);
    let console = app.token.clone();
    let routes = routes();
    let visitor_routes: Vec<_> = routes
        .iter()
        .filter(|r| r.access == Access::Visitor)
        .collect();
    assert!(visitor_routes.len() >= 7);
    for bad in [forged.as_str(), console.as_str(), "wv1.garbage"] {
        for route in &visitor_routes {
            let path = route.path;
            let reply = call_visitor_route(&app, route, conversation, 1, bad).await;
            assert_eq!(
                reply.status, 401,
                "{} {path} with {bad:.12}…: {}",
                route.method, reply.text
            );
        }
    }
    // A visitor token opens no console route.
    app.get("/api/v1/conversations", Some(&token))
        .await
        .expect_status(401);
    // A stored token that was tampered with cannot start a session either.
    session(
        &app,
        json!({"website_token": chat.website_token, "visitor_token": forged}),
    )
    .await
    .expect_status(401);
    app.stop().await;
}

#[tokio::test]
async fn identities_signed_by_the_site_join_one_contact_across_devices() {
    let app = spawn_app(Engine::Sqlite).await;
    let chat = app.web_chat_inbox().await;
    let secret = chat.secret.as_bytes();
    let laptop = session(&app, json!({"website_token": chat.website_token,
        "identity": {"identifier": "user-7", "identifier_hash": identifier_hash(secret, "user-7"), "name": "Yara"}}))
        .await.expect_status(200).json;
    assert_eq!(laptop["visitor"]["verified"], true);
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 600;
    let phone = session(&app, json!({"website_token": chat.website_token,
        "identity": {"identifier": "user-7", "jwt": sign_jwt(secret, &json!({"sub": "user-7", "exp": exp}))}}))
        .await.expect_status(200).json;
    assert_eq!(
        phone["visitor"]["contact_id"], laptop["visitor"]["contact_id"],
        "one person on two devices"
    );

    let refused = [
        json!({"identifier": "user-7", "identifier_hash": identifier_hash(b"not the secret", "user-7")}),
        json!({"identifier": "user-8", "identifier_hash": identifier_hash(secret, "user-7")}),
        json!({"identifier": "user-7", "jwt": sign_jwt(secret, &json!({"sub": "user-7", "exp": 1_000}))}),
        json!({"identifier": "user-7", "jwt": sign_jwt(b"wrong", &json!({"sub": "user-7", "exp": exp}))}),
        json!({"identifier": "admin", "jwt": sign_jwt(secret, &json!({"sub": "user-7", "exp": exp}))}),
        json!({"identifier": "user-7"}),
    ];
    for identity in refused {
        let reply = session(
            &app,
            json!({"website_token": chat.website_token, "identity": identity}),
        )
        .await;
        assert_eq!(reply.status, 401, "{identity}: {}", reply.text);
    }
    app.stop().await;
}

#[tokio::test]
async fn an_inbox_that_requires_verification_refuses_anonymous_visitors_everywhere() {
    let app = spawn_app(Engine::Sqlite).await;
    let chat = app.web_chat_inbox().await;
    let anonymous = visitor(&app, &chat).await;
    let conversation = visitor_says(&app, &anonymous, "c1", "hi").await["conversation_id"]
        .as_i64()
        .unwrap();
    configure(&app, &chat, json!({"require_identity_verification": true})).await;

    session(&app, json!({"website_token": chat.website_token}))
        .await
        .expect_status(403);
    for route in routes().iter().filter(|r| r.access == Access::Visitor) {
        let path = route.path;
        let reply = call_visitor_route(&app, route, conversation, 1, &anonymous).await;
        assert_eq!(reply.status, 403, "{} {path}: {}", route.method, reply.text);
    }
    let verified = session(&app, json!({"website_token": chat.website_token,
        "identity": {"identifier": "u1", "identifier_hash": identifier_hash(chat.secret.as_bytes(), "u1")}}))
        .await.expect_status(200).json;
    visitor_says(
        &app,
        verified["visitor_token"].as_str().unwrap(),
        "v1",
        "verified hello",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn only_listed_sites_may_embed_the_widget() {
    let app = spawn_app(Engine::Sqlite).await;
    let chat = app.web_chat_inbox().await;
    let token = visitor(&app, &chat).await;
    configure(
        &app,
        &chat,
        json!({"allowed_origins": ["https://shop.example"]}),
    )
    .await;
    let from = |origin: &'static str, path: &str, body: Value| {
        app.http
            .post(format!("{}{path}", app.url))
            .header("origin", origin)
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let evil = from(
        "https://evil.example",
        "/widget/v1/sessions",
        json!({"website_token": chat.website_token}),
    )
    .await
    .unwrap();
    assert_eq!(evil.status(), 403);
    let evil = from(
        "https://evil.example",
        "/widget/v1/messages",
        json!({"client_id": "e", "text": "x"}),
    )
    .await
    .unwrap();
    assert_eq!(evil.status(), 403);
    let shop = from(
        "https://shop.example",
        "/widget/v1/sessions",
        json!({"website_token": chat.website_token}),
    )
    .await
    .unwrap();
    assert_eq!(shop.status(), 200);
    assert_eq!(
        shop.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    // Bad settings are refused with a reason.
    let bad = app
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/inboxes/{}", chat.inbox),
            Some(&app.token),
            json!({"settings": {"business_hours": {"timezone": "Mars/Olympus", "days": {}}}}),
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    app.stop().await;
}

#[tokio::test]
async fn public_widget_endpoints_are_rate_limited() {
    let app = spawn_app_with(Engine::Sqlite, |s| s.widget.requests_per_minute = 3).await;
    let chat = app.web_chat_inbox().await;
    for _ in 0..3 {
        session(&app, json!({"website_token": chat.website_token}))
            .await
            .expect_status(200);
    }
    let limited = session(&app, json!({"website_token": chat.website_token})).await;
    assert_eq!(limited.status, 429, "{}", limited.text);
    assert!(limited.headers.contains_key("retry-after"));
    app.stop().await;
}

#[tokio::test]
async fn waiting_visitors_see_their_place_in_the_queue() {
    let app = spawn_app(Engine::Sqlite).await;
    let chat = app.web_chat_inbox().await;
    let first = visitor(&app, &chat).await;
    let second = visitor(&app, &chat).await;
    let c1 = visitor_says(&app, &first, "1", "first!").await["conversation_id"]
        .as_i64()
        .unwrap();
    let c2 = visitor_says(&app, &second, "2", "second").await["conversation_id"]
        .as_i64()
        .unwrap();
    let position = |token: &str, c: i64| {
        let path = format!("/widget/v1/conversations/{c}/queue");
        let token = token.to_string();
        let app = &app;
        async move {
            app.get(&path, Some(&token)).await.expect_status(200).json["position"]
                .as_i64()
                .unwrap()
        }
    };
    assert_eq!(position(&first, c1).await, 1);
    assert_eq!(position(&second, c2).await, 2);
    let mut socket = connect(&app, &second).await;
    let owner = app.get("/api/v1/me", Some(&app.token)).await.json["user"]["id"]
        .as_i64()
        .unwrap();
    app.post(
        &format!("/api/v1/conversations/{c1}/assignment"),
        Some(&app.token),
        json!({"assignee_id": owner}),
    )
    .await
    .expect_status(200);
    assert_eq!(position(&first, c1).await, 0, "an agent has it");
    assert_eq!(position(&second, c2).await, 1);
    let mut latest = next_of(&mut socket, "queue").await;
    while latest["position"] != 1 {
        latest = next_of(&mut socket, "queue").await;
    }
    assert_eq!(latest["conversation_id"], c2);
    app.stop().await;
}

#[tokio::test]
async fn typing_goes_both_ways_and_the_visitor_reads_receipts_back() {
    let app = spawn_app(Engine::Sqlite).await;
    let chat = app.web_chat_inbox().await;
    let token = visitor(&app, &chat).await;
    let conversation = visitor_says(&app, &token, "c1", "hi").await["conversation_id"]
        .as_i64()
        .unwrap();
    let mut socket = connect(&app, &token).await;
    let state = app.app.as_ref().unwrap().state().clone();
    let mut typing = state.signals.subscribe_typing();

    socket
        .send(WsMessage::Text(
            json!({"v": 1, "type": "typing", "conversation_id": conversation, "on": true})
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    let heard = tokio::time::timeout(Duration::from_secs(5), typing.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(heard.conversation_id, conversation);
    assert!(heard.on && matches!(heard.typist, switchboard::signals::Typist::Contact));

    state.signals.typing(switchboard::signals::Typing {
        workspace_id: app.workspace_id,
        inbox_id: chat.inbox,
        conversation_id: conversation,
        typist: switchboard::signals::Typist::Agent {
            user_id: 1,
            name: "Olive".into(),
        },
        on: true,
    });
    let shown = next_of(&mut socket, "typing").await;
    assert_eq!(shown["agent_name"], "Olive");
    assert_eq!(shown["on"], true);

    let reply = app
        .post(
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(&app.token),
            json!({"text": "hello there"}),
        )
        .await
        .expect_status(201)
        .json;
    next_of(&mut socket, "message").await;
    socket.send(WsMessage::Text(json!({"v": 1, "type": "read", "conversation_id": conversation, "message_id": reply["id"]}).to_string().into()))
        .await.unwrap();
    let mut read = next_of(&mut socket, "message").await;
    while read["message"]["status"] != "read" {
        read = next_of(&mut socket, "message").await;
    }
    assert_eq!(read["message"]["id"], reply["id"]);
    let thread = app
        .get(
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(&app.token),
        )
        .await
        .json;
    let agent_message = thread["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == reply["id"])
        .unwrap()
        .clone();
    assert_eq!(agent_message["status"], "read");

    socket
        .send(WsMessage::Text("{\"type\": \"dance\"}".into()))
        .await
        .unwrap();
    assert_eq!(next_of(&mut socket, "error").await["code"], "bad_frame");
    app.stop().await;
}

#[tokio::test]
async fn outside_business_hours_the_widget_is_told_the_team_is_away() {
    let app = spawn_app(Engine::Sqlite).await;
    let chat = app.web_chat_inbox().await;
    let open = session(&app, json!({"website_token": chat.website_token}))
        .await
        .json;
    assert_eq!(open["inbox"]["online"], true, "no hours set: always open");
    configure(
        &app,
        &chat,
        json!({"away_message": "Back at 9", "business_hours": {"timezone": "UTC", "days": {}}}),
    )
    .await;
    let closed = session(&app, json!({"website_token": chat.website_token}))
        .await
        .json;
    assert_eq!(closed["inbox"]["online"], false);
    assert_eq!(closed["inbox"]["away_message"], "Back at 9");
    app.stop().await;
}

/// Calls one visitor route as `token`, with a body that fits the route.
async fn call_visitor_route(
    app: &TestApp,
    route: &switchboard::http::routes::Route,
    conversation: i64,
    attachment: i64,
    token: &str,
) -> Reply {
    let path = route
        .path
        .replace("{conversation_id}", &conversation.to_string())
        .replace("{attachment_id}", &attachment.to_string());
    match route.method.as_str() {
        "GET" if path.ends_with("/ws") => app.get(&format!("{path}?token={token}"), None).await,
        "GET" => app.get(&path, Some(token)).await,
        _ if path.ends_with("/read") => {
            app.post(&path, Some(token), json!({"message_id": 1})).await
        }
        _ if path.ends_with("/rating") => app.post(&path, Some(token), json!({"score": 5})).await,
        _ => {
            app.post(&path, Some(token), json!({"client_id": "x", "text": "x"}))
                .await
        }
    }
}

#[tokio::test]
async fn a_returning_widget_catches_up_over_its_socket_without_private_notes() {
    let app = spawn_app(Engine::Sqlite).await;
    let chat = app.web_chat_inbox().await;
    let token = visitor(&app, &chat).await;
    let first = visitor_says(&app, &token, "c-1", "Is my order on its way?").await;
    let conversation = first["conversation_id"].as_i64().unwrap();
    let last_seen = first["message"]["id"].as_i64().unwrap();

    // While the widget is away: a note, two replies and another message from another tab.
    let path = format!("/api/v1/conversations/{conversation}/messages");
    let reply = |text: &str, private: bool| {
        app.post(
            &path,
            Some(&app.token),
            json!({"text": text, "private": private}),
        )
    };
    reply("internal: courier is late", true)
        .await
        .expect_status(201);
    reply("It left the depot this morning.", false)
        .await
        .expect_status(201);
    visitor_says(&app, &token, "c-2", "Thanks!").await;
    reply("You're welcome.", false).await.expect_status(201);

    let url = format!(
        "{}/widget/v1/ws?token={token}&after={last_seen}",
        app.url.replace("http://", "ws://")
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    assert_eq!(next_frame(&mut socket).await["type"], "ready");
    let mut texts = Vec::new();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let message = next_of(&mut socket, "message").await["message"].clone();
        texts.push(message["text"].clone());
        ids.push(message["id"].clone());
    }
    assert_eq!(
        texts,
        [
            "It left the depot this morning.",
            "Thanks!",
            "You're welcome."
        ],
        "what came after its last message, in order, without the note"
    );
    // Later frames may update those (delivery status), never bring another message.
    let deadline = tokio::time::Instant::now() + Duration::from_millis(600);
    while let Ok(Some(Ok(WsMessage::Text(text)))) =
        tokio::time::timeout_at(deadline, socket.next()).await
    {
        let frame: Value = serde_json::from_str(&text).unwrap();
        if frame["type"] == "message" {
            assert!(ids.contains(&frame["message"]["id"]), "{frame}");
        }
    }

    // And it stays live afterwards.
    reply("Anything else?", false).await.expect_status(201);
    assert_eq!(
        next_of(&mut socket, "message").await["message"]["text"],
        "Anything else?"
    );
    app.stop().await;
}
