//! A website visitor sees only what is theirs: the attacks that once let one customer read
//! another's chat (an unsigned email beside a signed identifier, a shared browser, an email typed
//! into the pre-chat form), each tried over the visitor REST endpoints and the visitor socket;
//! and visitor tokens that expire.

mod common;

use std::time::Duration;

use common::*;
use futures::StreamExt;
use serde_json::{json, Value};
use switchboard::widget::identity::{identifier_hash, sign_jwt};
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// A visitor session: (visitor token, contact id, verified).
async fn session(app: &TestApp, body: Value) -> (String, i64, bool) {
    let reply = app
        .post("/widget/v1/sessions", None, body)
        .await
        .expect_status(200)
        .json;
    (
        reply["visitor_token"].as_str().unwrap().to_string(),
        reply["visitor"]["contact_id"].as_i64().unwrap(),
        reply["visitor"]["verified"].as_bool().unwrap(),
    )
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn hmac_identity(chat: &WebChat, identifier: &str) -> Value {
    json!({"identifier": identifier,
        "identifier_hash": identifier_hash(chat.secret.as_bytes(), identifier)})
}

fn jwt_identity(chat: &WebChat, identifier: &str, email: &str, exp: u64) -> Value {
    json!({"identifier": identifier, "jwt": sign_jwt(chat.secret.as_bytes(),
        &json!({"sub": identifier, "email": email, "exp": exp}))})
}

/// The visitor says something and answers the conversation it landed in.
async fn visitor_says(app: &TestApp, token: &str, client_id: &str, text: &str) -> i64 {
    app.post(
        "/widget/v1/messages",
        Some(token),
        json!({"client_id": client_id, "text": text}),
    )
    .await
    .expect_status(201)
    .json["conversation_id"]
        .as_i64()
        .unwrap()
}

async fn agent_replies(app: &TestApp, conversation: i64, text: &str) {
    app.post(
        &format!("/api/v1/conversations/{conversation}/messages"),
        Some(&app.token),
        json!({"text": text}),
    )
    .await
    .expect_status(201);
}

/// What a visitor token can read over REST: its conversations' ids, and every text in them.
async fn readable(app: &TestApp, token: &str) -> (Vec<i64>, Vec<String>) {
    let list = app
        .get("/widget/v1/conversations", Some(token))
        .await
        .expect_status(200)
        .json;
    let ids: Vec<i64> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    let mut texts = Vec::new();
    for id in &ids {
        let page = app
            .get(
                &format!("/widget/v1/conversations/{id}/messages"),
                Some(token),
            )
            .await
            .expect_status(200)
            .json;
        for m in page["data"].as_array().unwrap() {
            texts.push(m["text"].as_str().unwrap().to_string());
        }
    }
    (ids, texts)
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
    let ready = next_frame(&mut socket, Duration::from_secs(5))
        .await
        .expect("ready frame");
    assert_eq!(ready["type"], "ready");
    socket
}

async fn next_frame(socket: &mut Socket, within: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, socket.next()).await {
            Ok(Some(Ok(WsMessage::Text(text)))) => return serde_json::from_str(&text).ok(),
            Ok(Some(Ok(_))) => continue,
            _ => return None,
        }
    }
}

/// Every conversation and message frame the socket hears within `within` (queue updates and
/// the like are left out).
async fn heard(socket: &mut Socket, within: Duration) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + within;
    let mut frames = Vec::new();
    while let Some(frame) = next_frame(socket, deadline - tokio::time::Instant::now()).await {
        if frame["type"] == "message" || frame["type"] == "conversation" {
            frames.push(frame);
        }
    }
    frames
}

on_both_engines! {
    async fn an_unsigned_email_beside_a_signed_identifier_never_reaches_that_emails_contact(engine) {
        let app = spawn_app(engine).await;
        let chat = app.web_chat_inbox().await;
        // The victim signs in on the shop; the shop vouches for her id and email with a JWT.
        let exp = unix_now() + 600;
        let (victim, victim_contact, _) = session(&app, json!({"website_token": chat.website_token,
            "identity": jwt_identity(&chat, "victim-1", "victim@example.org", exp)})).await;
        let victim_chat = visitor_says(&app, &victim, "v1", "My reset code is 481516").await;

        // The attacker's own identifier, correctly hashed, with the victim's address unsigned.
        let mut forged = hmac_identity(&chat, "attacker-77");
        forged["email"] = json!("victim@example.org");
        forged["name"] = json!("Victim");
        let (attacker, attacker_contact, verified) = session(&app,
            json!({"website_token": chat.website_token, "identity": forged})).await;
        assert!(verified, "the identifier itself is genuinely signed");
        assert_ne!(attacker_contact, victim_contact, "an unsigned email joined a contact");

        let mut socket = connect(&app, &attacker).await;
        let (ids, texts) = readable(&app, &attacker).await;
        assert!(ids.is_empty() && texts.is_empty(), "attacker reads {ids:?} {texts:?}");
        app.get(&format!("/widget/v1/conversations/{victim_chat}/messages"), Some(&attacker))
            .await.expect_status(404);
        agent_replies(&app, victim_chat, "Your new password is hunter2").await;
        visitor_says(&app, &victim, "v2", "thanks").await;
        let frames = heard(&mut socket, Duration::from_millis(800)).await;
        assert!(frames.is_empty(), "attacker's socket heard {frames:?}");

        // The victim's contact kept its email to itself.
        let contact = app.get(&format!("/api/v1/contacts/{attacker_contact}"), Some(&app.token))
            .await.expect_status(200).json;
        assert!(contact["identities"].as_array().unwrap().iter()
            .all(|i| i["namespace"] != "email"), "{contact}");

        // A site that signs whatever email its users put in their profile: another user of the
        // site with the victim's address signed is still not the victim.
        let (signed, signed_contact, _) = session(&app, json!({"website_token": chat.website_token,
            "identity": jwt_identity(&chat, "attacker-78", "victim@example.org", exp)})).await;
        assert_ne!(signed_contact, victim_contact, "a signed email joined someone else's contact");
        let (ids, texts) = readable(&app, &signed).await;
        assert!(ids.is_empty() && texts.is_empty(), "attacker reads {ids:?} {texts:?}");
        // The victim, back on another device, is still herself.
        let (_, victim_again, _) = session(&app, json!({"website_token": chat.website_token,
            "identity": jwt_identity(&chat, "victim-1", "victim@example.org", exp)})).await;
        assert_eq!(victim_again, victim_contact);
        app.stop().await;
    }

    async fn a_shared_browser_never_hands_one_verified_visitor_to_another(engine) {
        let app = spawn_app(engine).await;
        let chat = app.web_chat_inbox().await;
        let (alice, alice_contact, _) = session(&app, json!({"website_token": chat.website_token,
            "identity": hmac_identity(&chat, "alice")})).await;
        let alice_chat = visitor_says(&app, &alice, "a1", "Ship to 12 Elm Street").await;

        // Bob signs in on the same browser, which still holds Alice's visitor token.
        let (bob, bob_contact, _) = session(&app, json!({"website_token": chat.website_token,
            "visitor_token": alice, "identity": hmac_identity(&chat, "bob")})).await;
        assert_ne!(bob_contact, alice_contact, "Bob was given Alice's contact");
        let mut socket = connect(&app, &bob).await;
        let (ids, texts) = readable(&app, &bob).await;
        assert!(ids.is_empty() && texts.is_empty(), "Bob reads {ids:?} {texts:?}");
        app.get(&format!("/widget/v1/conversations/{alice_chat}/messages"), Some(&bob))
            .await.expect_status(404);
        agent_replies(&app, alice_chat, "Alice, it left today").await;
        let frames = heard(&mut socket, Duration::from_millis(800)).await;
        assert!(frames.is_empty(), "Bob's socket heard {frames:?}");

        // Nor is Bob's identity linked to Alice for good: on a fresh browser he is still Bob.
        let (_, bob_again, _) = session(&app, json!({"website_token": chat.website_token,
            "identity": hmac_identity(&chat, "bob")})).await;
        assert_eq!(bob_again, bob_contact);
        // And someone anonymous on that browser after Alice signed out is not Alice either.
        let (anonymous, anonymous_contact, verified) = session(&app,
            json!({"website_token": chat.website_token, "visitor_token": alice})).await;
        assert!(!verified);
        assert_ne!(anonymous_contact, alice_contact);
        assert!(readable(&app, &anonymous).await.0.is_empty());
        // Alice herself still has her chat.
        let (alice_back, alice_back_contact, _) = session(&app, json!({"website_token": chat.website_token,
            "visitor_token": alice, "identity": hmac_identity(&chat, "alice")})).await;
        assert_eq!(alice_back_contact, alice_contact);
        assert_eq!(readable(&app, &alice_back).await.0, vec![alice_chat]);
        app.stop().await;
    }

    async fn an_email_typed_into_the_prechat_form_claims_nobody_elses_conversations(engine) {
        let app = spawn_app(engine).await;
        let chat = app.web_chat_inbox().await;
        let (squatter, squatter_contact, _) = session(&app, json!({"website_token": chat.website_token})).await;
        let own = app.post("/widget/v1/messages", Some(&squatter), json!({
            "client_id": "s1", "text": "hello",
            "prechat": {"name": "Fay", "email": "future@example.org"}}))
            .await.expect_status(201).json["conversation_id"].as_i64().unwrap();
        let mut socket = connect(&app, &squatter).await;

        // Later the real owner of the address writes through the shop's API channel.
        let (shop, _) = app.api_inbox("Shop", None).await;
        let owner_msg = app.post(&format!("/api/v1/inboxes/{shop}/messages"), Some(&app.token), json!({
            "contact": {"email": "future@example.org", "name": "Real Future"},
            "external_id": "shop-1", "text": "Order 77 never arrived"}))
            .await.expect_status(201).json;
        let owner_chat = owner_msg["conversation_id"].as_i64().unwrap();
        agent_replies(&app, owner_chat, "Refund issued to card ending 4242").await;

        let owner_contact = app.get(&format!("/api/v1/conversations/{owner_chat}"), Some(&app.token))
            .await.expect_status(200).json["contact_id"].as_i64().unwrap();
        assert_ne!(owner_contact, squatter_contact, "a typed email claimed the owner's contact");
        let frames = heard(&mut socket, Duration::from_millis(800)).await;
        assert!(frames.is_empty(), "the squatter's socket heard {frames:?}");
        let (ids, _) = readable(&app, &squatter).await;
        assert_eq!(ids, vec![own]);
        app.get(&format!("/widget/v1/conversations/{owner_chat}/messages"), Some(&squatter))
            .await.expect_status(404);

        // What the visitor typed is kept on their own contact, marked unverified.
        let contact = app.get(&format!("/api/v1/contacts/{squatter_contact}"), Some(&app.token))
            .await.expect_status(200).json;
        assert_eq!(contact["email"], "future@example.org");
        assert_eq!(contact["email_verified"], false, "{contact}");
        let owner = app.get(&format!("/api/v1/contacts/{owner_contact}"), Some(&app.token))
            .await.expect_status(200).json;
        assert_eq!(owner["email_verified"], true, "{owner}");
        app.stop().await;
    }
}

#[tokio::test]
async fn a_visitor_socket_hears_only_its_own_web_chat_inbox() {
    // One person verified by email (JWT) in two web chat inboxes is one contact; each widget
    // still sees only its own inbox's conversations, live and over REST.
    let app = spawn_app(Engine::Sqlite).await;
    let shop = app.web_chat_inbox().await;
    let blog = app.web_chat_inbox().await;
    let exp = unix_now() + 600;
    let (in_shop, shop_contact, _) = session(
        &app,
        json!({"website_token": shop.website_token,
        "identity": jwt_identity(&shop, "dana", "dana@example.org", exp)}),
    )
    .await;
    let (in_blog, blog_contact, _) = session(
        &app,
        json!({"website_token": blog.website_token,
        "identity": jwt_identity(&blog, "dana", "dana@example.org", exp)}),
    )
    .await;
    assert_eq!(shop_contact, blog_contact, "one person, verified twice");
    let mut shop_socket = connect(&app, &in_shop).await;
    let blog_chat = visitor_says(&app, &in_blog, "b1", "about the blog").await;
    agent_replies(&app, blog_chat, "noted").await;
    let frames = heard(&mut shop_socket, Duration::from_millis(800)).await;
    assert!(frames.is_empty(), "the shop widget heard {frames:?}");
    assert!(readable(&app, &in_shop).await.0.is_empty());
    app.get(
        &format!("/widget/v1/conversations/{blog_chat}/messages"),
        Some(&in_shop),
    )
    .await
    .expect_status(404);
    app.stop().await;
}

#[tokio::test]
async fn visitor_tokens_expire_and_a_jwt_bounds_how_long_a_visitor_stays_verified() {
    let app = spawn_app_with(Engine::Sqlite, |s| {
        s.widget.visitor_token_ttl_secs = 2;
        s.widget.verified_visitor_ttl_secs = 3600;
    })
    .await;
    let chat = app.web_chat_inbox().await;
    let (anonymous, _, _) = session(&app, json!({"website_token": chat.website_token})).await;
    visitor_says(&app, &anonymous, "a1", "hi").await;
    // A JWT that expired 58 s ago is still inside the 60 s leeway: verified for 2 s more.
    let (verified, _, _) = session(
        &app,
        json!({"website_token": chat.website_token,
        "identity": jwt_identity(&chat, "u1", "u1@example.org", unix_now() - 58)}),
    )
    .await;
    let mut socket = connect(&app, &verified).await;
    tokio::time::sleep(Duration::from_millis(2600)).await;

    for token in [&anonymous, &verified] {
        app.get("/widget/v1/conversations", Some(token))
            .await
            .expect_status(401);
        let url = format!(
            "{}/widget/v1/ws?token={token}",
            app.url.replace("http://", "ws://")
        );
        assert!(tokio_tungstenite::connect_async(url).await.is_err());
    }
    // The open socket was told, and closed, when its verification ran out.
    let mut told = false;
    while let Some(frame) = next_frame(&mut socket, Duration::from_secs(2)).await {
        told |= frame["type"] == "expired";
    }
    assert!(told, "the socket was not told its session expired");
    // A session started afresh is fine; the expired token names nobody any more.
    let (fresh, _, _) = session(
        &app,
        json!({"website_token": chat.website_token, "visitor_token": anonymous}),
    )
    .await;
    app.get("/widget/v1/conversations", Some(&fresh))
        .await
        .expect_status(200);
    app.stop().await;
}

#[tokio::test]
async fn an_hmac_verification_lasts_its_configured_lifetime_even_while_the_token_is_renewed() {
    let app = spawn_app_with(Engine::Sqlite, |s| {
        s.widget.verified_visitor_ttl_secs = 2;
    })
    .await;
    let chat = app.web_chat_inbox().await;
    let (verified, _, _) = session(
        &app,
        json!({"website_token": chat.website_token, "identity": hmac_identity(&chat, "u9")}),
    )
    .await;
    app.get("/widget/v1/conversations", Some(&verified))
        .await
        .expect_status(200);
    tokio::time::sleep(Duration::from_millis(2600)).await;
    app.get("/widget/v1/conversations", Some(&verified))
        .await
        .expect_status(401);
    // Renewing the session without the identity does not carry the verification on.
    let (renewed, _, is_verified) = session(
        &app,
        json!({"website_token": chat.website_token, "visitor_token": verified}),
    )
    .await;
    assert!(!is_verified);
    app.get("/widget/v1/conversations", Some(&renewed))
        .await
        .expect_status(200);
    app.stop().await;
}
