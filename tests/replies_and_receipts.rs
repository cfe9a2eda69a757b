//! What the team and the visitor see of each other: an agent's reply stored once however often
//! the console retries it (client ids), the agent's read reaching the visitor's socket as "read"
//! customer messages, and visitors' ratings shown only to those who may see the conversation.

mod common;

use std::time::Duration;

use common::*;
use futures::StreamExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message as WsMessage;

async fn reply(app: &TestApp, token: &str, conversation: i64, body: Value) -> Reply {
    app.post(
        &format!("/api/v1/conversations/{conversation}/messages"),
        Some(token),
        body,
    )
    .await
}

async fn thread(app: &TestApp, conversation: i64) -> Vec<Value> {
    app.get(
        &format!("/api/v1/conversations/{conversation}/messages"),
        Some(&app.token),
    )
    .await
    .expect_status(200)
    .json["data"]
        .as_array()
        .unwrap()
        .clone()
}

fn with_text<'a>(messages: &'a [Value], text: &str) -> Vec<&'a Value> {
    messages.iter().filter(|m| m["text"] == text).collect()
}

async fn api_conversation(app: &TestApp, inbox: i64, who: &str) -> i64 {
    app.customer_writes(inbox, who, &format!("{who}-1"), "Hello?")
        .await
        .expect_status(201)
        .json["conversation_id"]
        .as_i64()
        .unwrap()
}

/// A website visitor who wrote once: (visitor token, conversation id, message id).
async fn visitor_wrote(app: &TestApp, chat: &WebChat, text: &str) -> (String, i64, i64) {
    let token = app
        .post(
            "/widget/v1/sessions",
            None,
            json!({"website_token": chat.website_token}),
        )
        .await
        .expect_status(200)
        .json["visitor_token"]
        .as_str()
        .unwrap()
        .to_string();
    let posted = app
        .post(
            "/widget/v1/messages",
            Some(&token),
            json!({"client_id": uuid_like(), "text": text}),
        )
        .await
        .expect_status(201)
        .json;
    (
        token,
        posted["conversation_id"].as_i64().unwrap(),
        posted["message"]["id"].as_i64().unwrap(),
    )
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_of(socket: &mut Socket, kind: &str) -> Value {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("a frame within 5 s")
            .expect("socket open")
            .expect("frame");
        if let WsMessage::Text(text) = frame {
            let value: Value = serde_json::from_str(&text).unwrap();
            if value["type"] == kind {
                return value;
            }
        }
    }
}

async fn rated_conversation(app: &TestApp, chat: &WebChat) -> (i64, i64) {
    let (token, conversation, _) = visitor_wrote(app, chat, "My parcel is late").await;
    app.send(
        reqwest::Method::PATCH,
        &format!("/api/v1/conversations/{conversation}"),
        Some(&app.token),
        json!({"status": "resolved"}),
    )
    .await
    .expect_status(200);
    app.post(
        &format!("/widget/v1/conversations/{conversation}/rating"),
        Some(&token),
        json!({"score": 4, "comment": "Quick, thanks"}),
    )
    .await
    .expect_status(200);
    let contact = app
        .get(
            &format!("/api/v1/conversations/{conversation}"),
            Some(&app.token),
        )
        .await
        .expect_status(200)
        .json["contact_id"]
        .as_i64()
        .unwrap();
    (conversation, contact)
}

on_both_engines! {
    async fn a_retried_reply_with_the_same_client_id_is_stored_once(engine) {
        let app = spawn_app(engine).await;
        let (inbox, _) = app.api_inbox("Support", None).await;
        let conversation = api_conversation(&app, inbox, "gus").await;
        let body = json!({"text": "On its way", "client_id": "7f1c2a9e-0000-4000-8000-000000000001"});
        let first = reply(&app, &app.token, conversation, body.clone()).await.expect_status(201).json;
        let again = reply(&app, &app.token, conversation, body).await.expect_status(200).json;
        assert_eq!(first["id"], again["id"], "answered with the stored message");
        assert_eq!(with_text(&thread(&app, conversation).await, "On its way").len(), 1);
        let outbox_events = app.get("/api/v1/events?after=0&limit=1000", Some(&app.token)).await.json;
        let created: Vec<_> = outbox_events["events"].as_array().unwrap().iter()
            .filter(|e| e["kind"] == "message.created" && e["payload"]["text"] == "On its way").collect();
        assert_eq!(created.len(), 1, "one message.created, no second delivery");
    }

    async fn two_racing_requests_with_one_client_id_store_one_reply(engine) {
        let app = spawn_app(engine).await;
        let (inbox, _) = app.api_inbox("Support", None).await;
        let conversation = api_conversation(&app, inbox, "ria").await;
        let body = json!({"text": "Racing", "client_id": "race-1"});
        let (a, b) = tokio::join!(
            reply(&app, &app.token, conversation, body.clone()),
            reply(&app, &app.token, conversation, body.clone()),
        );
        let mut statuses = [a.status, b.status];
        statuses.sort();
        assert_eq!(statuses, [200, 201], "one stored, one answered with it");
        assert_eq!(a.json["id"], b.json["id"]);
        assert_eq!(with_text(&thread(&app, conversation).await, "Racing").len(), 1);
    }

    async fn the_same_client_id_with_another_body_is_refused(engine) {
        let app = spawn_app(engine).await;
        let (inbox, _) = app.api_inbox("Support", None).await;
        let conversation = api_conversation(&app, inbox, "ola").await;
        reply(&app, &app.token, conversation, json!({"text": "First", "client_id": "c-1"})).await.expect_status(201);
        let refused = reply(&app, &app.token, conversation, json!({"text": "Second", "client_id": "c-1"})).await.expect_status(409);
        assert_eq!(refused.json["error"]["code"], "conflict");
        // A note is another body too.
        reply(&app, &app.token, conversation, json!({"text": "First", "private": true, "client_id": "c-1"})).await.expect_status(409);
        let messages = thread(&app, conversation).await;
        assert!(with_text(&messages, "Second").is_empty());
        assert_eq!(with_text(&messages, "First").len(), 1);
    }

    async fn client_ids_of_another_author_or_conversation_do_not_collide(engine) {
        let app = spawn_app(engine).await;
        let (inbox, _) = app.api_inbox("Support", None).await;
        let (agent, agent_token) = app.user_with_role("ana@example.com", "Ana", "agent").await;
        app.add_member(inbox, agent["id"].as_i64().unwrap()).await;
        let one = api_conversation(&app, inbox, "una").await;
        let two = api_conversation(&app, inbox, "dos").await;
        let body = json!({"text": "Same words", "client_id": "shared-id"});
        let owner_reply = reply(&app, &app.token, one, body.clone()).await.expect_status(201).json;
        let agent_reply = reply(&app, &agent_token, one, body.clone()).await.expect_status(201).json;
        let elsewhere = reply(&app, &app.token, two, body).await.expect_status(201).json;
        assert_ne!(owner_reply["id"], agent_reply["id"]);
        assert_ne!(owner_reply["id"], elsewhere["id"]);
        assert_eq!(with_text(&thread(&app, one).await, "Same words").len(), 2);
        assert_eq!(with_text(&thread(&app, two).await, "Same words").len(), 1);
    }

    async fn a_client_id_is_bounded_and_plain(engine) {
        let app = spawn_app(engine).await;
        let (inbox, _) = app.api_inbox("Support", None).await;
        let conversation = api_conversation(&app, inbox, "kim").await;
        for bad in [String::new(), "x".repeat(65), "has space".into(), "ünï".into()] {
            reply(&app, &app.token, conversation, json!({"text": "Hi", "client_id": bad})).await.expect_status(422);
        }
        reply(&app, &app.token, conversation, json!({"text": "Hi", "client_id": "x".repeat(64)})).await.expect_status(201);
    }

    async fn an_agents_read_reaches_the_visitors_socket_as_read_messages(engine) {
        let app = spawn_app(engine).await;
        let chat = app.web_chat_inbox().await;
        let (token, conversation, message) = visitor_wrote(&app, &chat, "Is my order shipped?").await;
        let url = format!("{}/widget/v1/ws?token={token}", app.url.replace("http://", "ws://"));
        let (mut socket, _) = tokio_tungstenite::connect_async(url).await.expect("visitor socket");
        next_of(&mut socket, "ready").await;

        app.post(&format!("/api/v1/conversations/{conversation}/read"), Some(&app.token),
            json!({"message_id": message})).await.expect_status(204);
        let frame = next_of(&mut socket, "message").await;
        assert_eq!(frame["message"]["id"], message);
        assert_eq!(frame["message"]["status"], "read");
        // Nothing says which agent read it.
        let text = frame.to_string();
        assert!(!text.contains("user_id") && !text.contains("Olive"), "{text}");

        // After a reload too: the visitor's REST answer says read.
        let page = app.get(&format!("/widget/v1/conversations/{conversation}/messages"), Some(&token)).await.expect_status(200).json;
        assert_eq!(page["data"][0]["status"], "read");
    }

    async fn a_read_marker_past_the_newest_message_reads_nothing_unwritten(engine) {
        let app = spawn_app(engine).await;
        let chat = app.web_chat_inbox().await;
        let (token, conversation, message) = visitor_wrote(&app, &chat, "First").await;
        app.post(&format!("/api/v1/conversations/{conversation}/read"), Some(&app.token),
            json!({"message_id": message + 1000})).await.expect_status(204);
        let later = app.post("/widget/v1/messages", Some(&token),
            json!({"client_id": uuid_like(), "text": "Second"})).await.expect_status(201).json;
        assert_ne!(later["message"]["status"], "read");
        let marker = app.get(&format!("/api/v1/conversations/{conversation}/read"), Some(&app.token)).await.expect_status(200).json;
        assert_eq!(marker["last_read_message_id"], message);
        assert_eq!(marker["unread"], 1);
    }

    async fn an_agent_outside_the_inbox_can_neither_mark_read_nor_see_ratings(engine) {
        let app = spawn_app(engine).await;
        let chat = app.web_chat_inbox().await;
        let (conversation, contact) = rated_conversation(&app, &chat).await;
        let (member, member_token) = app.user_with_role("in@example.com", "Ines", "agent").await;
        app.add_member(chat.inbox, member["id"].as_i64().unwrap()).await;
        let (_, outsider_token) = app.user_with_role("out@example.com", "Otto", "agent").await;

        for token in [&app.token, &member_token] {
            let shown = app.get(&format!("/api/v1/conversations/{conversation}"), Some(token)).await.expect_status(200).json;
            assert_eq!(shown["rating"]["score"], 4);
            assert_eq!(shown["rating"]["comment"], "Quick, thanks");
            let person = app.get(&format!("/api/v1/contacts/{contact}"), Some(token)).await.expect_status(200).json;
            assert_eq!(person["ratings"][0]["conversation_id"], conversation);
            assert_eq!(person["ratings"][0]["score"], 4);
        }
        app.get(&format!("/api/v1/conversations/{conversation}"), Some(&outsider_token)).await.expect_status(403);
        app.get(&format!("/api/v1/contacts/{contact}"), Some(&outsider_token)).await.expect_status(403);
        app.post(&format!("/api/v1/conversations/{conversation}/read"), Some(&outsider_token),
            json!({"message_id": 1})).await.expect_status(403);
    }

    async fn a_contacts_ratings_are_only_those_of_inboxes_the_caller_sees(engine) {
        let app = spawn_app(engine).await;
        let chat = app.web_chat_inbox().await;
        let (conversation, contact) = rated_conversation(&app, &chat).await;
        let (other_inbox, _) = app.api_inbox("Elsewhere", None).await;
        let store = app.store();
        let ratings = store.widget();
        let all = ratings.contact_ratings(app.workspace_id, contact, None).await.unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].conversation_id, conversation);
        assert!(ratings.contact_ratings(app.workspace_id, contact, Some(&[other_inbox])).await.unwrap().is_empty());
        assert!(ratings.contact_ratings(app.workspace_id, contact, Some(&[])).await.unwrap().is_empty());
        assert_eq!(ratings.contact_ratings(app.workspace_id, contact, Some(&[chat.inbox])).await.unwrap().len(), 1);
        // Another workspace never sees it, whatever ids it names.
        assert!(ratings.contact_ratings(app.workspace_id + 1000, contact, None).await.unwrap().is_empty());
    }
}
