//! One person, many channels: the same number texting two phone channels is one contact; on
//! contact-scoped inboxes it is one conversation, each message labelled with the channel it came
//! through, and the reply goes out where the customer last wrote or where the agent picks.
//! Two test phone lines (tests/support/phone_line) stand in for SMS and WhatsApp.

mod common;
#[path = "support/phone_line/mod.rs"]
mod phone_line;

use common::*;
use phone_line::{PhoneLine, Sent};
use serde_json::{json, Value};
use switchboard::channels::ChannelRegistry;
use switchboard::widget::identity::sign_jwt;

struct Lines {
    app: TestApp,
    /// What the "text_line" (SMS-like) and "chat_app" (WhatsApp-like) senders were handed.
    texts: Sent,
    chats: Sent,
}

async fn app_with_lines(engine: Engine) -> Lines {
    let (text_line, texts) = PhoneLine::new("text_line", "/hooks/text_line/{inbox_id}");
    let (chat_app, chats) = PhoneLine::new("chat_app", "/hooks/chat_app/{inbox_id}");
    let channels = ChannelRegistry::standard().with(text_line).with(chat_app);
    let app = spawn_app_with_channels(engine, channels).await;
    Lines { app, texts, chats }
}

async fn inbox(app: &TestApp, kind: &str, scope: Option<&str>) -> i64 {
    let mut body = json!({"name": format!("{kind} inbox"), "kind": kind});
    if let Some(scope) = scope {
        body["conversation_scope"] = json!(scope);
    }
    let created = app
        .post("/api/v1/inboxes", Some(&app.token), body)
        .await
        .expect_status(201)
        .json;
    assert_eq!(created["conversation_scope"], scope.unwrap_or("inbox"));
    created["id"].as_i64().unwrap()
}

/// The customer texts `kind`'s inbox from `from`: (message, conversation, contact) ids.
async fn texts(
    app: &TestApp,
    kind: &str,
    inbox: i64,
    id: &str,
    from: &str,
    text: &str,
) -> (i64, i64, i64) {
    let stored = Reply::from(
        app.http
            .post(format!("{}/hooks/{kind}/{inbox}", app.url))
            .json(&json!({"id": id, "from": from, "text": text}))
            .send()
            .await
            .unwrap(),
    )
    .await
    .expect_status(201)
    .json;
    let id = |k: &str| stored[k].as_i64().unwrap();
    (id("message_id"), id("conversation_id"), id("contact_id"))
}

async fn thread(app: &TestApp, conversation: i64, token: &str) -> Vec<Value> {
    app.get(
        &format!("/api/v1/conversations/{conversation}/messages"),
        Some(token),
    )
    .await
    .expect_status(200)
    .json["data"]
        .as_array()
        .unwrap()
        .clone()
}

async fn reply(app: &TestApp, conversation: i64, body: Value) -> Reply {
    app.post(
        &format!("/api/v1/conversations/{conversation}/messages"),
        Some(&app.token),
        body,
    )
    .await
}

async fn delivered(sent: &Sent, count: usize) -> Vec<switchboard_connector_core::OutboundDelivery> {
    for _ in 0..200 {
        let now = sent.lock().unwrap().clone();
        if now.len() >= count {
            return now;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("{count} deliveries never went out");
}

/// Two contact-scoped lines and one conversation in them: the customer texted `sms` first,
/// then `whatsapp`.
async fn one_conversation_on_two_lines(lines: &Lines) -> (i64, i64, i64) {
    let app = &lines.app;
    let sms = inbox(app, "text_line", Some("contact")).await;
    let whatsapp = inbox(app, "chat_app", Some("contact")).await;
    let (_, first, _) = texts(
        app,
        "text_line",
        sms,
        "sm-1",
        "+49 151 1234-5678",
        "My parcel?",
    )
    .await;
    let (_, second, _) = texts(
        app,
        "chat_app",
        whatsapp,
        "wa-1",
        "whatsapp:+4915112345678",
        "Here is a photo",
    )
    .await;
    assert_eq!(
        first, second,
        "the WhatsApp message joined the SMS conversation"
    );
    (sms, whatsapp, first)
}

on_both_engines! {
    async fn one_number_writing_by_two_channels_is_one_contact(engine) {
        let lines = app_with_lines(engine).await;
        let app = &lines.app;
        let sms = inbox(app, "text_line", None).await;
        let whatsapp = inbox(app, "chat_app", None).await;

        let (_, by_sms, sms_contact) = texts(app, "text_line", sms, "sm-1", "+49 151 1234-5678", "Hi").await;
        let (_, by_whatsapp, wa_contact) =
            texts(app, "chat_app", whatsapp, "wa-1", "whatsapp:+4915112345678", "Hi again").await;

        assert_eq!(sms_contact, wa_contact);
        let contact = app.get(&format!("/api/v1/contacts/{sms_contact}"), Some(&app.token)).await.json;
        assert_eq!(contact["identities"], json!([{"namespace": "phone", "identifier": "+4915112345678"}]));
        assert_ne!(by_sms, by_whatsapp, "inboxes keep their own conversations by default");
        lines.app.stop().await;
    }

    async fn a_contact_scoped_inbox_joins_the_contacts_conversation_in_another_one(engine) {
        let lines = app_with_lines(engine).await;
        let app = &lines.app;
        let (sms, whatsapp, conversation) = one_conversation_on_two_lines(&lines).await;
        let listed = app.get("/api/v1/conversations", Some(&app.token)).await.json;
        assert_eq!(listed["data"].as_array().unwrap().len(), 1);
        assert_eq!(listed["data"][0]["inbox_id"], sms, "it stays in the inbox it started in");

        // An inbox that keeps to itself still starts its own, for the same contact.
        let other = inbox(app, "text_line", None).await;
        let (_, own, _) = texts(app, "text_line", other, "sm-2", "+4915112345678", "Other matter").await;
        assert_ne!(own, conversation);
        // And a contact-scoped line does not join that one.
        let (_, again, _) = texts(app, "chat_app", whatsapp, "wa-2", "+4915112345678", "Still me").await;
        assert_eq!(again, conversation);
        lines.app.stop().await;
    }

    async fn each_message_is_labelled_with_the_channel_it_came_through(engine) {
        let lines = app_with_lines(engine).await;
        let app = &lines.app;
        let mut events = app.desk().subscribe();
        let (sms, whatsapp, conversation) = one_conversation_on_two_lines(&lines).await;

        let labels: Vec<(Value, Value)> = thread(app, conversation, &app.token)
            .await
            .iter()
            .map(|m| (m["inbox_id"].clone(), m["channel"].clone()))
            .collect();
        assert_eq!(labels, [(json!(sms), json!("text_line")), (json!(whatsapp), json!("chat_app"))]);

        let mut told = Vec::new();
        while let Ok(event) = events.try_recv() {
            if event.kind.as_str() == "message.created" {
                told.push((event.inbox_id, event.payload["channel"].clone()));
            }
        }
        assert_eq!(
            told,
            [(Some(sms), json!("text_line")), (Some(sms), json!("chat_app"))],
            "events carry the channel and are seen where the conversation is"
        );
        lines.app.stop().await;
    }

    async fn the_reply_goes_out_where_the_customer_last_wrote(engine) {
        let lines = app_with_lines(engine).await;
        let app = &lines.app;
        let (_, whatsapp, conversation) = one_conversation_on_two_lines(&lines).await;

        let sent = reply(app, conversation, json!({"text": "Got the photo, thanks"})).await.expect_status(201).json;
        assert_eq!((sent["inbox_id"].clone(), sent["channel"].clone()), (json!(whatsapp), json!("chat_app")));

        let out = delivered(&lines.chats, 1).await;
        assert_eq!(out[0].inbox_id, whatsapp);
        assert_eq!(out[0].recipient[0].identifier, "+4915112345678");
        assert!(lines.texts.lock().unwrap().is_empty(), "nothing went out by SMS");
        lines.app.stop().await;
    }

    async fn an_agent_picks_the_channel_a_reply_goes_out_through(engine) {
        let lines = app_with_lines(engine).await;
        let app = &lines.app;
        let (sms, _, conversation) = one_conversation_on_two_lines(&lines).await;

        let sent = reply(app, conversation, json!({"text": "Sending the label by SMS", "via_inbox_id": sms}))
            .await
            .expect_status(201)
            .json;
        assert_eq!(sent["channel"], "text_line");
        let out = delivered(&lines.texts, 1).await;
        assert_eq!((out[0].inbox_id, out[0].conversation_id), (sms, conversation));
        assert!(lines.chats.lock().unwrap().is_empty());
        assert_eq!(app.settled_message(conversation, sent["id"].as_i64().unwrap()).await["status"], "sent");
        lines.app.stop().await;
    }

    async fn a_picked_inbox_that_cannot_carry_the_reply_is_refused(engine) {
        let lines = app_with_lines(engine).await;
        let app = &lines.app;
        let (_, whatsapp, conversation) = one_conversation_on_two_lines(&lines).await;
        let keeps_to_itself = inbox(app, "text_line", None).await;
        texts(app, "text_line", keeps_to_itself, "sm-9", "+4915112345678", "elsewhere").await;
        // An API inbox shares conversations, but the contact never wrote there and has no id of it.
        let (api, _) = app.api_inbox("Shop", None).await;
        app.send(reqwest::Method::PATCH, &format!("/api/v1/inboxes/{api}"), Some(&app.token),
                 json!({"conversation_scope": "contact"})).await.expect_status(200);

        for (via, why) in [
            (json!(keeps_to_itself), "keeps its conversations to itself"),
            (json!(api), "no identity"),
            (json!(999_999), "not an inbox of this workspace"),
        ] {
            let refused = reply(app, conversation, json!({"text": "hello", "via_inbox_id": via})).await.expect_status(422);
            assert!(refused.text.contains(why), "{}", refused.text);
        }
        reply(app, conversation, json!({"text": "a note", "private": true, "via_inbox_id": whatsapp}))
            .await
            .expect_status(422);

        // An agent who sees the conversation but not the line they pick.
        let (agent, token) = app.user_with_role("avi@example.com", "Avi Agent", "agent").await;
        let home = app.get(&format!("/api/v1/conversations/{conversation}"), Some(&app.token)).await.json["inbox_id"].as_i64().unwrap();
        app.add_member(home, agent["id"].as_i64().unwrap()).await;
        let refused = app
            .post(&format!("/api/v1/conversations/{conversation}/messages"), Some(&token),
                  json!({"text": "hello", "via_inbox_id": whatsapp}))
            .await
            .expect_status(422);
        assert!(refused.text.contains("not a member"), "{}", refused.text);

        assert_eq!(thread(app, conversation, &app.token).await.len(), 2, "nothing was stored");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert!(lines.texts.lock().unwrap().is_empty() && lines.chats.lock().unwrap().is_empty());
        lines.app.stop().await;
    }

    async fn visibility_follows_the_conversations_own_inbox(engine) {
        let lines = app_with_lines(engine).await;
        let app = &lines.app;
        let (sms, whatsapp, conversation) = one_conversation_on_two_lines(&lines).await;
        let (sms_agent, sms_token) = app.user_with_role("sam@example.com", "Sam Sms", "agent").await;
        let (wa_agent, wa_token) = app.user_with_role("wyn@example.com", "Wyn Wa", "agent").await;
        app.add_member(sms, sms_agent["id"].as_i64().unwrap()).await;
        app.add_member(whatsapp, wa_agent["id"].as_i64().unwrap()).await;

        // The SMS inbox's agent works the whole conversation, WhatsApp messages included.
        assert_eq!(thread(app, conversation, &sms_token).await.len(), 2);
        // The WhatsApp inbox's agent sees none of it: not the conversation, not in lists.
        app.get(&format!("/api/v1/conversations/{conversation}"), Some(&wa_token)).await.expect_status(403);
        app.get(&format!("/api/v1/conversations/{conversation}/messages"), Some(&wa_token)).await.expect_status(403);
        let listed = app.get(&format!("/api/v1/conversations?inbox={whatsapp}"), Some(&wa_token)).await.json;
        assert_eq!(listed["data"], json!([]));
        lines.app.stop().await;
    }

    async fn web_chat_keeps_its_conversations_to_itself(engine) {
        let lines = app_with_lines(engine).await;
        let app = &lines.app;
        let refused = app
            .post("/api/v1/inboxes", Some(&app.token),
                  json!({"name": "Site", "kind": "web_chat", "conversation_scope": "contact"}))
            .await
            .expect_status(422);
        assert!(refused.text.contains("web chat"), "{}", refused.text);
        let chat = app.web_chat_inbox().await;
        app.send(reqwest::Method::PATCH, &format!("/api/v1/inboxes/{}", chat.inbox), Some(&app.token),
                 json!({"conversation_scope": "contact"})).await.expect_status(422);
        let shown = app.get(&format!("/api/v1/inboxes/{}", chat.inbox), Some(&app.token)).await.json;
        assert_eq!(shown["conversation_scope"], "inbox");
        lines.app.stop().await;
    }

    async fn a_web_chat_visitor_never_sees_what_the_same_person_sent_by_other_channels(engine) {
        let lines = app_with_lines(engine).await;
        let app = &lines.app;
        let sms = inbox(app, "text_line", Some("contact")).await;
        let whatsapp = inbox(app, "chat_app", Some("contact")).await;
        // One person: known by phone and by the email the site signs for its logged-in user.
        app.post("/api/v1/contacts", Some(&app.token),
                 json!({"name": "Ana", "phone": "+4915112345678", "email": "ana@example.com"}))
            .await
            .expect_status(201);
        let chat = app.web_chat_inbox().await;
        let exp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 600;
        let jwt = sign_jwt(chat.secret.as_bytes(), &json!({"sub": "user-7", "email": "ana@example.com", "exp": exp}));
        let session = app
            .post("/widget/v1/sessions", None,
                  json!({"website_token": chat.website_token, "identity": {"identifier": "user-7", "jwt": jwt}}))
            .await
            .expect_status(200)
            .json;
        let visitor = session["visitor_token"].as_str().unwrap().to_string();
        let said = app
            .post("/widget/v1/messages", Some(&visitor), json!({"client_id": "c-1", "text": "Hi from the site"}))
            .await
            .expect_status(201)
            .json;
        let chat_conversation = said["conversation_id"].as_i64().unwrap();

        let (_, by_sms, contact) = texts(app, "text_line", sms, "sm-1", "+49 151 12345678", "my IBAN is …").await;
        assert_eq!(Some(contact), session["visitor"]["contact_id"].as_i64(), "one contact");
        let (_, by_whatsapp, _) = texts(app, "chat_app", whatsapp, "wa-1", "+4915112345678", "and my address").await;
        assert_eq!(by_sms, by_whatsapp);
        assert_ne!(by_sms, chat_conversation, "the web chat conversation was not joined");

        let listed = app.get("/widget/v1/conversations", Some(&visitor)).await.expect_status(200).json;
        let ids: Vec<i64> = listed["data"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
        assert_eq!(ids, [chat_conversation]);
        let history = app
            .get(&format!("/widget/v1/conversations/{chat_conversation}/messages"), Some(&visitor))
            .await
            .expect_status(200)
            .json;
        let seen: Vec<&str> = history["data"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
        assert_eq!(seen, ["Hi from the site"]);
        app.get(&format!("/widget/v1/conversations/{by_sms}/messages"), Some(&visitor))
            .await
            .expect_status(404);
        lines.app.stop().await;
    }

    async fn the_scope_is_changed_with_patch_and_shown_on_the_inbox(engine) {
        let lines = app_with_lines(engine).await;
        let app = &lines.app;
        let sms = inbox(app, "text_line", None).await;
        let changed = app
            .send(reqwest::Method::PATCH, &format!("/api/v1/inboxes/{sms}"), Some(&app.token),
                  json!({"conversation_scope": "contact"}))
            .await
            .expect_status(200)
            .json;
        assert_eq!(changed["conversation_scope"], "contact");
        let listed = app.get("/api/v1/inboxes", Some(&app.token)).await.json;
        assert_eq!(listed[0]["conversation_scope"], "contact");
        app.send(reqwest::Method::PATCH, &format!("/api/v1/inboxes/{sms}"), Some(&app.token),
                 json!({"conversation_scope": "everyone"})).await.expect_status(422);
        lines.app.stop().await;
    }
}
