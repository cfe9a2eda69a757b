//! Facebook Messenger and Instagram inboxes against a stand-in for Meta
//! (tests/support/fake_messenger): set up with a verify token the hub makes, Meta's handshake,
//! signed webhooks (anything unsigned or tampered is refused and stores nothing), customer
//! messages with media, stories and echoes, re-deliveries kept once, and replies through the
//! Send API with the messaging type the reply window allows, moved on by delivery and read
//! events.

mod common;
#[path = "support/fake_messenger/mod.rs"]
mod fake_messenger;

use std::time::Duration;

use common::*;
use fake_messenger::{FakeMeta, Refusal, PAGE_TOKEN};
use serde_json::{json, Value};
use switchboard_connector_meta::webhook::sign;

const PAGE: &str = "104998392238791";
const IG_ACCOUNT: &str = "17841405822304914";
const APP_SECRET: &str = "9f1c2e7d-app-secret";
const PSID: &str = "6783420984971234";
const IGSID: &str = "5520183376415590";

struct MetaInbox {
    id: i64,
    verify_token: String,
    created: Value,
}

async fn app_with_meta(engine: Engine) -> (TestApp, FakeMeta) {
    let fake = FakeMeta::start().await;
    let url = fake.url.clone();
    let app = spawn_app_with(engine, move |s| {
        s.providers.graph_api_url = url;
        s.providers.max_media_bytes = 16 * 1024;
    })
    .await;
    (app, fake)
}

async fn messenger_inbox(app: &TestApp) -> MetaInbox {
    create_inbox(
        app,
        json!({"name": "Shop page", "kind": "messenger", "provider": "meta",
               "settings": {"page_id": PAGE, "page_access_token": PAGE_TOKEN, "app_secret": APP_SECRET}}),
    )
    .await
}

async fn instagram_inbox(app: &TestApp) -> MetaInbox {
    create_inbox(
        app,
        json!({"name": "Shop on Instagram", "kind": "instagram", "provider": "meta",
               "settings": {"page_id": PAGE, "instagram_account_id": IG_ACCOUNT,
                            "page_access_token": PAGE_TOKEN, "app_secret": APP_SECRET}}),
    )
    .await
}

async fn create_inbox(app: &TestApp, body: Value) -> MetaInbox {
    let created = app
        .post("/api/v1/inboxes", Some(&app.token), body)
        .await
        .expect_status(201)
        .json;
    MetaInbox {
        id: created["id"].as_i64().unwrap(),
        verify_token: created["secret"].as_str().unwrap().to_string(),
        created,
    }
}

/// Meta's POST, signed (or not) as given.
async fn deliver(
    app: &TestApp,
    kind: &str,
    inbox: i64,
    body: &[u8],
    signature: Option<String>,
) -> Reply {
    let mut req = app
        .http
        .post(format!("{}/hooks/{kind}/{inbox}", app.url))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(s) = signature {
        req = req.header("x-hub-signature-256", s);
    }
    Reply::from(req.send().await.unwrap()).await
}

async fn signed(app: &TestApp, kind: &str, inbox: i64, body: &Value) -> Reply {
    let bytes = serde_json::to_vec(body).unwrap();
    let signature = sign(APP_SECRET.as_bytes(), &bytes);
    deliver(app, kind, inbox, &bytes, Some(signature)).await
}

fn page_notification(items: Vec<Value>) -> Value {
    json!({"object": "page", "entry": [{"id": PAGE, "time": 1458692752478_i64, "messaging": items}]})
}

fn customer_text(mid: &str, text: &str) -> Value {
    json!({"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": 1458692752478_i64,
           "message": {"mid": mid, "text": text}})
}

async fn conversations(app: &TestApp, inbox: i64) -> Vec<Value> {
    app.get(
        &format!("/api/v1/conversations?inbox={inbox}"),
        Some(&app.token),
    )
    .await
    .expect_status(200)
    .json["data"]
        .as_array()
        .unwrap()
        .clone()
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

/// The only conversation of the inbox and its messages.
async fn only_thread(app: &TestApp, inbox: i64) -> (i64, Vec<Value>) {
    let listed = conversations(app, inbox).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    let id = listed[0]["id"].as_i64().unwrap();
    (id, thread(app, id).await)
}

/// Moves every customer message of the conversation `hours` into the past.
async fn customer_wrote_hours_ago(app: &TestApp, conversation: i64, hours: i64) {
    use sqlx::Connection;
    let shift = hours * 3600 * 1000;
    let url = &app.db.url;
    let sql = "UPDATE messages SET created_at = created_at - $1 \
               WHERE conversation_id = $2 AND direction = 'incoming'";
    if url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query(sql)
            .bind(shift)
            .bind(conversation)
            .execute(&mut c)
            .await
            .unwrap();
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query(sql)
            .bind(shift)
            .bind(conversation)
            .execute(&mut c)
            .await
            .unwrap();
    }
}

async fn reply(app: &TestApp, conversation: i64, text: &str) -> Reply {
    app.post(
        &format!("/api/v1/conversations/{conversation}/messages"),
        Some(&app.token),
        json!({"text": text}),
    )
    .await
}

async fn message_status(app: &TestApp, conversation: i64, message: i64, want: &str) -> Value {
    for _ in 0..100 {
        let found = thread(app, conversation)
            .await
            .into_iter()
            .find(|m| m["id"] == message)
            .unwrap();
        if found["status"] == want {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("message {message} never became {want}");
}

on_both_engines! {
    async fn a_messenger_inbox_is_set_up_and_answers_metas_handshake(engine) {
        let (app, _) = app_with_meta(engine).await;
        let inbox = messenger_inbox(&app).await;
        assert_eq!(inbox.created["kind"], "messenger");
        assert_eq!(inbox.created["settings"], json!({"provider": "meta", "page_id": PAGE}));
        assert!(inbox.created["webhook_url"].as_str().unwrap()
            .ends_with(&format!("/hooks/messenger/{}", inbox.id)));
        assert!(!inbox.created.to_string().contains(APP_SECRET));
        assert!(inbox.verify_token.len() >= 32);

        let hook = format!("/hooks/messenger/{}", inbox.id);
        let shake = |token: &str| format!(
            "{hook}?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1158201444");
        let answer = app.get(&shake(&inbox.verify_token), None).await.expect_status(200);
        assert_eq!(answer.text, "1158201444");
        app.get(&shake("guessed"), None).await.expect_status(403);
        app.get(&format!("/hooks/messenger/{}?hub.mode=subscribe", inbox.id + 1000), None)
            .await
            .expect_status(404);
        // The Instagram route does not answer for a Messenger inbox.
        app.get(&shake(&inbox.verify_token).replace("messenger", "instagram"), None)
            .await
            .expect_status(404);

        for bad in [
            json!({"name": "P", "kind": "messenger", "settings": {"page_id": PAGE, "app_secret": APP_SECRET}}),
            json!({"name": "P", "kind": "messenger", "settings": {"page_id": "my page",
                   "page_access_token": PAGE_TOKEN, "app_secret": APP_SECRET}}),
            json!({"name": "P", "kind": "messenger", "provider": "twilio", "settings": {"page_id": PAGE,
                   "page_access_token": PAGE_TOKEN, "app_secret": APP_SECRET}}),
        ] {
            app.post("/api/v1/inboxes", Some(&app.token), bad).await.expect_status(422);
        }
        app.stop().await;
    }

    async fn an_instagram_inbox_needs_its_account_and_answers_metas_handshake(engine) {
        let (app, _) = app_with_meta(engine).await;
        app.post(
            "/api/v1/inboxes",
            Some(&app.token),
            json!({"name": "IG", "kind": "instagram", "provider": "meta",
                   "settings": {"page_id": PAGE, "page_access_token": PAGE_TOKEN, "app_secret": APP_SECRET}}),
        )
        .await
        .expect_status(422);
        let inbox = instagram_inbox(&app).await;
        assert_eq!(
            inbox.created["settings"],
            json!({"provider": "meta", "page_id": PAGE, "instagram_account_id": IG_ACCOUNT})
        );
        assert!(inbox.created["webhook_url"].as_str().unwrap()
            .ends_with(&format!("/hooks/instagram/{}", inbox.id)));
        let answer = app
            .get(&format!("/hooks/instagram/{}?hub.mode=subscribe&hub.verify_token={}&hub.challenge=42",
                inbox.id, inbox.verify_token), None)
            .await
            .expect_status(200);
        assert_eq!(answer.text, "42");
        app.stop().await;
    }

    async fn unsigned_wrongly_signed_or_tampered_events_are_refused_and_store_nothing(engine) {
        let (app, _) = app_with_meta(engine).await;
        let inbox = messenger_inbox(&app).await;
        let body = serde_json::to_vec(&page_notification(vec![customer_text("m_1", "Hello")])).unwrap();
        let right = sign(APP_SECRET.as_bytes(), &body);
        let tampered = String::from_utf8(body.clone()).unwrap().replace("Hello", "Hallo");
        for (what, bytes, signature) in [
            ("missing", body.clone(), None),
            ("wrong key", body.clone(), Some(sign(b"another app", &body))),
            ("not hex", body.clone(), Some("sha256=zz".to_string())),
            ("tampered", tampered.into_bytes(), Some(right.clone())),
        ] {
            let answer = deliver(&app, "messenger", inbox.id, &bytes, signature).await;
            assert_eq!(answer.status, 401, "{what}: {}", answer.text);
        }
        assert!(conversations(&app, inbox.id).await.is_empty());
        deliver(&app, "messenger", inbox.id, &body, Some(right)).await.expect_status(200);
        assert_eq!(conversations(&app, inbox.id).await.len(), 1);
        app.stop().await;
    }

    async fn a_text_and_an_image_are_kept_with_the_quick_reply_chosen(engine) {
        let (app, fake) = app_with_meta(engine).await;
        let inbox = messenger_inbox(&app).await;
        let image = json!({"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": 2,
            "message": {"mid": "m_img", "attachments": [
                {"type": "image", "payload": {"url": fake.cdn_url("parcel.jpg")}}]}});
        let chosen = json!({"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": 3,
            "message": {"mid": "m_qr", "text": "Track it", "quick_reply": {"payload": "TRACK_PARCEL"}}});
        signed(&app, "messenger", inbox.id,
            &page_notification(vec![customer_text("m_txt", "My parcel is late"), image, chosen]))
            .await
            .expect_status(200);

        let (_, messages) = only_thread(&app, inbox.id).await;
        let texts: Vec<_> = messages.iter().map(|m| m["text"].as_str().unwrap().to_string()).collect();
        assert_eq!(texts[0], "My parcel is late");
        assert_eq!(texts[2], "Track it");
        assert_eq!(messages[0]["external_id"], "m_txt");
        let attachment = &messages[1]["attachments"][0];
        assert_eq!(attachment["filename"], "parcel.jpg");
        assert_eq!(attachment["content_type"], "image/jpeg");
        assert_eq!(attachment["size"], 64);
        assert_eq!(messages[2]["meta"]["quick_reply"], "TRACK_PARCEL");

        let contact = app
            .get(&format!("/api/v1/contacts/{}",
                conversations(&app, inbox.id).await[0]["contact_id"]), Some(&app.token))
            .await
            .json;
        assert!(contact.to_string().contains(PSID), "{contact}");
        app.stop().await;
    }

    async fn a_file_over_the_cap_keeps_the_message_and_where_the_file_was(engine) {
        let (app, fake) = app_with_meta(engine).await;
        let inbox = messenger_inbox(&app).await;
        let big = json!({"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": 2,
            "message": {"mid": "m_big", "text": "the invoice",
                        "attachments": [{"type": "file", "payload": {"url": fake.cdn_url("scan.bin")}}]}});
        signed(&app, "messenger", inbox.id, &page_notification(vec![big])).await.expect_status(200);
        let (_, messages) = only_thread(&app, inbox.id).await;
        assert_eq!(messages[0]["text"], "the invoice");
        assert!(messages[0]["attachments"].as_array().unwrap().is_empty());
        assert!(messages[0]["meta"]["media_not_kept"][0]["url"].as_str().unwrap().contains("scan.bin"));
        app.stop().await;
    }

    async fn echoes_and_other_pages_events_are_answered_but_not_kept(engine) {
        let (app, _) = app_with_meta(engine).await;
        let inbox = messenger_inbox(&app).await;
        let echo = json!({"sender": {"id": PAGE}, "recipient": {"id": PSID}, "timestamp": 5,
            "message": {"mid": "m_echo", "is_echo": true, "app_id": 263902037430900_i64,
                        "text": "Typed in Meta's inbox"}});
        signed(&app, "messenger", inbox.id, &page_notification(vec![echo])).await.expect_status(200);
        let other_page = json!({"object": "page", "entry": [{"id": "999000111", "time": 1,
            "messaging": [{"sender": {"id": PSID}, "recipient": {"id": "999000111"}, "timestamp": 1,
                           "message": {"mid": "m_other", "text": "not yours"}}]}]});
        signed(&app, "messenger", inbox.id, &other_page).await.expect_status(200);
        let wrong_object = json!({"object": "instagram", "entry": [{"id": PAGE, "time": 1,
            "messaging": [customer_text("m_ig", "wrong product")]}]});
        signed(&app, "messenger", inbox.id, &wrong_object).await.expect_status(200);
        assert!(conversations(&app, inbox.id).await.is_empty());
        app.stop().await;
    }

    async fn an_instagram_story_mention_and_story_reply_keep_the_story_url(engine) {
        let (app, _) = app_with_meta(engine).await;
        let inbox = instagram_inbox(&app).await;
        let story_cdn = "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=17887498072083520";
        let items = vec![
            json!({"sender": {"id": IGSID}, "recipient": {"id": IG_ACCOUNT}, "timestamp": 1,
                "message": {"mid": "aWdfZAG1fbWVzc2FnZA-1",
                            "attachments": [{"type": "story_mention", "payload": {"url": story_cdn}}]}}),
            json!({"sender": {"id": IGSID}, "recipient": {"id": IG_ACCOUNT}, "timestamp": 2,
                "message": {"mid": "aWdfZAG1fbWVzc2FnZA-2", "text": "Love this dress!",
                            "reply_to": {"story": {"url": story_cdn, "id": "17887498072083520"}}}}),
        ];
        let body = json!({"object": "instagram", "entry": [{"id": IG_ACCOUNT, "time": 3, "messaging": items}]});
        signed(&app, "instagram", inbox.id, &body).await.expect_status(200);
        let (_, messages) = only_thread(&app, inbox.id).await;
        assert_eq!(messages[0]["text"], "Mentioned you in their story");
        assert_eq!(messages[0]["meta"]["story"]["type"], "story_mention");
        assert_eq!(messages[0]["meta"]["story"]["url"], story_cdn);
        assert!(messages[0]["attachments"].as_array().unwrap().is_empty(), "a story's media is never stored");
        assert_eq!(messages[1]["text"], "Love this dress!");
        assert_eq!(messages[1]["meta"]["story"]["type"], "story_reply");
        // An Instagram echo (the account's own message) is not the customer's.
        let echo = json!({"object": "instagram", "entry": [{"id": IG_ACCOUNT, "time": 4, "messaging": [
            {"sender": {"id": IG_ACCOUNT}, "recipient": {"id": IGSID}, "timestamp": 4,
             "message": {"mid": "aWdfZAG1fbWVzc2FnZA-3", "text": "Thanks!", "is_echo": true}}]}]});
        signed(&app, "instagram", inbox.id, &echo).await.expect_status(200);
        assert_eq!(only_thread(&app, inbox.id).await.1.len(), 2);
        app.stop().await;
    }

    async fn re_deliveries_of_one_message_keep_it_once_even_fifty_at_a_time(engine) {
        let (app, _) = app_with_meta(engine).await;
        let inbox = messenger_inbox(&app).await;
        let body = page_notification(vec![customer_text("m_dup", "Is this in stock?")]);
        signed(&app, "messenger", inbox.id, &body).await.expect_status(200);
        signed(&app, "messenger", inbox.id, &body).await.expect_status(200);
        assert_eq!(only_thread(&app, inbox.id).await.1.len(), 1);

        let storm = page_notification(vec![customer_text("m_storm", "Hello?")]);
        let calls = (0..50).map(|_| signed(&app, "messenger", inbox.id, &storm));
        for answer in futures::future::join_all(calls).await {
            assert_eq!(answer.status, 200, "{}", answer.text);
        }
        let (_, messages) = only_thread(&app, inbox.id).await;
        assert_eq!(messages.iter().filter(|m| m["external_id"] == "m_storm").count(), 1);
        assert_eq!(messages.len(), 2);
        app.stop().await;
    }

    async fn a_reply_goes_out_as_a_response_then_is_delivered_and_read(engine) {
        let (app, fake) = app_with_meta(engine).await;
        let inbox = messenger_inbox(&app).await;
        signed(&app, "messenger", inbox.id, &page_notification(vec![customer_text("m_q", "Open on Sunday?")]))
            .await
            .expect_status(200);
        let (conversation, _) = only_thread(&app, inbox.id).await;
        let sent = reply(&app, conversation, "Yes, 10 to 4.").await.expect_status(201).json;
        let id = sent["id"].as_i64().unwrap();
        let settled = app.settled_message(conversation, id).await;
        assert_eq!(settled["status"], "sent");
        assert_eq!(settled["external_id"], "m_reply-1");
        let (page, body) = fake.sent()[0].clone();
        assert_eq!(page, PAGE);
        assert_eq!(body["recipient"], json!({"id": PSID}));
        assert_eq!(body["message"], json!({"text": "Yes, 10 to 4."}));
        assert_eq!(body["messaging_type"], "RESPONSE");
        assert!(body.get("tag").is_none());

        let delivered = json!({"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": 7,
            "delivery": {"mids": ["m_reply-1"], "watermark": 7}});
        signed(&app, "messenger", inbox.id, &page_notification(vec![delivered])).await.expect_status(200);
        message_status(&app, conversation, id, "delivered").await;

        // Read by watermark: every reply Meta had by then.
        let watermark = switchboard::domain::now_millis() + 1000;
        let read = json!({"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": watermark,
            "read": {"watermark": watermark}});
        signed(&app, "messenger", inbox.id, &page_notification(vec![read])).await.expect_status(200);
        message_status(&app, conversation, id, "read").await;
        app.stop().await;
    }

    async fn a_read_watermark_before_a_reply_went_out_leaves_it_unread(engine) {
        let (app, _) = app_with_meta(engine).await;
        let inbox = messenger_inbox(&app).await;
        signed(&app, "messenger", inbox.id, &page_notification(vec![customer_text("m_q", "Hi")]))
            .await
            .expect_status(200);
        let (conversation, _) = only_thread(&app, inbox.id).await;
        let id = reply(&app, conversation, "Hello!").await.expect_status(201).json["id"].as_i64().unwrap();
        app.settled_message(conversation, id).await;
        let read = json!({"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": 1,
            "read": {"watermark": 1000}});
        signed(&app, "messenger", inbox.id, &page_notification(vec![read])).await.expect_status(200);
        let after = thread(&app, conversation).await.into_iter().find(|m| m["id"] == id).unwrap();
        assert_eq!(after["status"], "sent");
        app.stop().await;
    }

    async fn after_a_day_a_reply_carries_the_human_agent_tag_and_after_a_week_is_refused(engine) {
        let (app, fake) = app_with_meta(engine).await;
        let inbox = instagram_inbox(&app).await;
        let body = json!({"object": "instagram", "entry": [{"id": IG_ACCOUNT, "time": 1, "messaging": [
            {"sender": {"id": IGSID}, "recipient": {"id": IG_ACCOUNT}, "timestamp": 1,
             "message": {"mid": "aWdf-late", "text": "Any news on my refund?"}}]}]});
        signed(&app, "instagram", inbox.id, &body).await.expect_status(200);
        let (conversation, _) = only_thread(&app, inbox.id).await;

        customer_wrote_hours_ago(&app, conversation, 30).await;
        let id = reply(&app, conversation, "Sorry for the wait: it is on its way.")
            .await
            .expect_status(201)
            .json["id"]
            .as_i64()
            .unwrap();
        assert_eq!(app.settled_message(conversation, id).await["status"], "sent");
        let (page, sent) = fake.sent()[0].clone();
        assert_eq!(page, PAGE);
        assert_eq!(sent["recipient"], json!({"id": IGSID}));
        assert_eq!(sent["messaging_type"], "MESSAGE_TAG");
        assert_eq!(sent["tag"], "HUMAN_AGENT");

        customer_wrote_hours_ago(&app, conversation, 7 * 24).await;
        let refused = reply(&app, conversation, "Hello again").await.expect_status(422);
        assert!(refused.text.contains("7 days"), "{}", refused.text);
        assert_eq!(fake.sent().len(), 1);
        app.stop().await;
    }

    async fn a_throttled_send_is_retried_after_retry_after_and_delivered_once(engine) {
        let (app, fake) = app_with_meta(engine).await;
        let inbox = messenger_inbox(&app).await;
        signed(&app, "messenger", inbox.id, &page_notification(vec![customer_text("m_q", "Hi")]))
            .await
            .expect_status(200);
        let (conversation, _) = only_thread(&app, inbox.id).await;
        fake.refuse_next([Refusal::throttled("1")]);
        let started = std::time::Instant::now();
        let id = reply(&app, conversation, "Hello!").await.expect_status(201).json["id"].as_i64().unwrap();
        let settled = app.settled_message(conversation, id).await;
        assert_eq!(settled["status"], "sent");
        assert!(started.elapsed() >= Duration::from_secs(1), "Retry-After was not honoured");
        assert_eq!(fake.calls(), 2);
        assert_eq!(fake.sent().len(), 1);
        let delivered = json!({"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": 9,
            "delivery": {"mids": [settled["external_id"]], "watermark": 9}});
        signed(&app, "messenger", inbox.id, &page_notification(vec![delivered])).await.expect_status(200);
        message_status(&app, conversation, id, "delivered").await;
        app.stop().await;
    }

    async fn metas_refusal_fails_the_reply_with_metas_words(engine) {
        let (app, fake) = app_with_meta(engine).await;
        let inbox = messenger_inbox(&app).await;
        signed(&app, "messenger", inbox.id, &page_notification(vec![customer_text("m_q", "Hi")]))
            .await
            .expect_status(200);
        let (conversation, _) = only_thread(&app, inbox.id).await;
        fake.refuse_next([Refusal {
            status: 400,
            retry_after: None,
            body: fake_messenger::meta_error(10, Some(2018278),
                "(#10) This message is sent outside of allowed window."),
        }]);
        let id = reply(&app, conversation, "Hello!").await.expect_status(201).json["id"].as_i64().unwrap();
        let settled = app.settled_message(conversation, id).await;
        assert_eq!(settled["status"], "failed");
        assert!(settled["error"].as_str().unwrap().contains("outside of allowed window"), "{settled}");
        assert_eq!(fake.calls(), 1, "a refusal is not retried");
        app.stop().await;
    }
}
