//! The Telegram channel against a local Bot API that behaves as Telegram documents it
//! (tests/support/fake_telegram): setup, the webhook and its secret token, long polling with
//! offsets across the Bot API's and the hub's restarts, photos, edits, and replies with
//! `sendMessage` (flood control included), on both engines.

mod common;
#[path = "support/fake_telegram/mod.rs"]
mod fake_telegram;

use std::time::{Duration, Instant};

use common::*;
use fake_telegram::{FakeTelegram, TOKEN};
use serde_json::{json, Value};

/// Where Telegram is told to send webhooks (it takes only HTTPS); the tests deliver them to the
/// hub's own address instead.
const PUBLIC_URL: &str = "https://hub.example";

async fn hub_for(engine: Engine, fake: &FakeTelegram) -> TestApp {
    let url = fake.url();
    spawn_app_with(engine, move |s| {
        s.providers.telegram_api_url = url;
        s.server.public_url = PUBLIC_URL.into();
    })
    .await
}

async fn create_inbox(app: &TestApp, settings: Value) -> Reply {
    app.post(
        "/api/v1/inboxes",
        Some(&app.token),
        json!({"name": "Telegram", "kind": "telegram", "provider": "telegram", "settings": settings}),
    )
    .await
}

/// A webhook inbox, once the hub has registered its webhook: (inbox id, the secret token
/// Telegram was given).
async fn webhook_inbox(app: &TestApp, fake: &FakeTelegram) -> (i64, String) {
    let created = create_inbox(app, json!({"bot_token": TOKEN, "mode": "webhook"}))
        .await
        .expect_status(201)
        .json;
    let inbox = created["id"].as_i64().unwrap();
    let path = format!("/hooks/telegram/{inbox}");
    fake.until("the inbox's webhook", |f| {
        f.webhook().is_some_and(|w| w.url.ends_with(&path))
    })
    .await;
    (inbox, fake.webhook().unwrap().secret_token)
}

async fn polling_inbox(app: &TestApp) -> i64 {
    create_inbox(app, json!({"bot_token": TOKEN, "mode": "polling"}))
        .await
        .expect_status(201)
        .json["id"]
        .as_i64()
        .unwrap()
}

/// Telegram delivering an update to the inbox's webhook, with this secret-token header.
async fn deliver(app: &TestApp, inbox: i64, secret: Option<&str>, update: &Value) -> Reply {
    let mut request = app
        .http
        .post(format!("{}/hooks/telegram/{inbox}", app.url))
        .json(update);
    if let Some(secret) = secret {
        request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
    }
    Reply::from(request.send().await.unwrap()).await
}

/// Every message of the inbox's conversations, oldest first.
async fn messages_of(app: &TestApp, inbox: i64) -> Vec<Value> {
    let listed = app
        .get(
            &format!("/api/v1/conversations?inbox={inbox}"),
            Some(&app.token),
        )
        .await
        .expect_status(200)
        .json;
    let mut all = Vec::new();
    for conversation in listed["data"].as_array().unwrap() {
        let id = conversation["id"].as_i64().unwrap();
        let thread = app
            .get(
                &format!("/api/v1/conversations/{id}/messages"),
                Some(&app.token),
            )
            .await
            .json;
        all.extend(thread["data"].as_array().unwrap().iter().cloned());
    }
    all.sort_by_key(|m| m["id"].as_i64());
    all
}

/// The texts of the inbox's incoming messages once there are `n` (15 s at most).
async fn until_incoming(app: &TestApp, inbox: i64, n: usize) -> Vec<String> {
    for _ in 0..300 {
        let texts: Vec<String> = messages_of(app, inbox)
            .await
            .iter()
            .filter(|m| m["direction"] == "incoming")
            .map(|m| m["text"].as_str().unwrap().to_string())
            .collect();
        if texts.len() >= n {
            return texts;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the inbox never had {n} incoming messages");
}

async fn conversation_of(app: &TestApp, inbox: i64) -> i64 {
    let listed = app
        .get(
            &format!("/api/v1/conversations?inbox={inbox}"),
            Some(&app.token),
        )
        .await
        .json;
    listed["data"][0]["id"].as_i64().unwrap()
}

on_both_engines! {
    async fn a_telegram_inbox_keeps_its_token_sealed_and_registers_its_webhook(engine) {
        let fake = FakeTelegram::start().await;
        let app = hub_for(engine, &fake).await;
        let created = create_inbox(&app, json!({"bot_token": TOKEN}))
            .await
            .expect_status(201)
            .json;
        let inbox = created["id"].as_i64().unwrap();
        assert_eq!(
            created["settings"],
            json!({"provider": "telegram", "mode": "webhook", "bot_id": "123456"})
        );
        let path = format!("/hooks/telegram/{inbox}");
        assert_eq!(created["webhook_url"], format!("{PUBLIC_URL}{path}"));
        assert!(!created.to_string().contains("ABC-DEF"), "the token is never shown");

        fake.until("setWebhook", |f| f.webhook().is_some()).await;
        let webhook = fake.webhook().unwrap();
        assert_eq!(webhook.url, format!("{PUBLIC_URL}{path}"));
        assert!(webhook.secret_token.len() >= 32, "a generated secret token");
        assert!(webhook.secret_token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
        assert_eq!(webhook.allowed_updates, json!(["message", "edited_message"]));
        assert_eq!(fake.wrong_tokens(), 0);
        app.stop().await;
    }

    async fn a_bad_telegram_setup_is_refused_and_leaves_nothing(engine) {
        let fake = FakeTelegram::start().await;
        let app = hub_for(engine, &fake).await;
        for (settings, says) in [
            (json!({"bot_token": "not-a-token"}), "`bot_token` must look like"),
            (json!({"bot_token": "123456:short"}), "`bot_token` must look like"),
            (json!({"bot_token": TOKEN, "mode": "push"}), "`mode` is `webhook` or `polling`"),
            (json!({"mode": "polling"}), "telegram inboxes need `bot_token`"),
        ] {
            let refused = create_inbox(&app, settings).await.expect_status(422);
            assert!(refused.text.contains(says), "{}", refused.text);
        }
        let refused = app
            .post("/api/v1/inboxes", Some(&app.token),
                  json!({"name": "T", "kind": "telegram", "provider": "twilio",
                         "settings": {"bot_token": TOKEN}}))
            .await
            .expect_status(422);
        assert!(refused.text.contains("carried by `telegram`"), "{}", refused.text);
        let inboxes = app.get("/api/v1/inboxes", Some(&app.token)).await.json;
        assert_eq!(inboxes.as_array().unwrap().len(), 0);
        app.stop().await;
    }

    async fn a_webhook_inbox_needs_a_public_https_address_but_a_polling_one_does_not(engine) {
        let fake = FakeTelegram::start().await;
        let url = fake.url();
        let app = spawn_app_with(engine, move |s| s.providers.telegram_api_url = url).await;
        let refused = create_inbox(&app, json!({"bot_token": TOKEN, "mode": "webhook"}))
            .await
            .expect_status(422);
        assert!(refused.text.contains("server.public_url"), "{}", refused.text);
        let polling = create_inbox(&app, json!({"bot_token": TOKEN, "mode": "polling"}))
            .await
            .expect_status(201)
            .json;
        assert!(polling["webhook_url"].is_null(), "{polling}");
        app.stop().await;
    }

    async fn the_webhook_stores_an_update_only_with_the_right_secret_token(engine) {
        let fake = FakeTelegram::start().await;
        let app = hub_for(engine, &fake).await;
        let (inbox, secret) = webhook_inbox(&app, &fake).await;
        let update = fake.customer_says(1111111, "Ana", "Where is my order?");

        deliver(&app, inbox, None, &update).await.expect_status(401);
        deliver(&app, inbox, Some("guessed-secret"), &update).await.expect_status(401);
        let mut tampered = secret.clone();
        tampered.pop();
        deliver(&app, inbox, Some(&tampered), &update).await.expect_status(401);
        deliver(&app, inbox, Some(&secret), &json!({"not": "an update"})).await.expect_status(422);
        deliver(&app, 999_999, Some(&secret), &update).await.expect_status(404);
        assert!(messages_of(&app, inbox).await.is_empty(), "nothing stored");

        deliver(&app, inbox, Some(&secret), &update).await.expect_status(200);
        let stored = messages_of(&app, inbox).await;
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0]["text"], "Where is my order?");
        let message_id = update["message"]["message_id"].as_i64().unwrap();
        assert_eq!(stored[0]["external_id"], format!("1111111:{message_id}"));
        let contacts = app.get("/api/v1/contacts", Some(&app.token)).await.json;
        assert_eq!(contacts["data"][0]["name"], "Ana", "{contacts}");
        app.stop().await;
    }

    async fn the_same_update_delivered_twice_is_one_message(engine) {
        let fake = FakeTelegram::start().await;
        let app = hub_for(engine, &fake).await;
        let (inbox, secret) = webhook_inbox(&app, &fake).await;
        let update = fake.customer_says(42, "Ben", "hello");
        deliver(&app, inbox, Some(&secret), &update).await.expect_status(200);
        deliver(&app, inbox, Some(&secret), &update).await.expect_status(200);
        assert_eq!(messages_of(&app, inbox).await.len(), 1);
        app.stop().await;
    }

    async fn fifty_concurrent_redeliveries_make_one_message(engine) {
        let fake = FakeTelegram::start().await;
        let app = hub_for(engine, &fake).await;
        let (inbox, secret) = webhook_inbox(&app, &fake).await;
        let update = fake.customer_says(42, "Ben", "are you there?");
        let deliveries = (0..50).map(|_| deliver(&app, inbox, Some(&secret), &update));
        for reply in futures::future::join_all(deliveries).await {
            assert_eq!(reply.status, 200, "{}", reply.text);
        }
        assert_eq!(messages_of(&app, inbox).await.len(), 1);
        app.stop().await;
    }

    async fn an_agents_reply_reaches_the_chat_through_send_message(engine) {
        let fake = FakeTelegram::start().await;
        let app = hub_for(engine, &fake).await;
        let (inbox, secret) = webhook_inbox(&app, &fake).await;
        let update = fake.customer_says(1111111, "Ana", "Hi!");
        deliver(&app, inbox, Some(&secret), &update).await.expect_status(200);
        let conversation = conversation_of(&app, inbox).await;

        let reply = app
            .post(&format!("/api/v1/conversations/{conversation}/messages"), Some(&app.token),
                  json!({"text": "Hello Ana, how can I help?"}))
            .await
            .expect_status(201)
            .json;
        let settled = app.settled_message(conversation, reply["id"].as_i64().unwrap()).await;
        assert_eq!(settled["status"], "sent", "{settled}");
        let sent = fake.sent();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].chat_id, "1111111");
        assert_eq!(sent[0].text, "Hello Ana, how can I help?");
        assert_eq!(settled["external_id"], format!("1111111:{}", sent[0].message_id));
        app.stop().await;
    }

    async fn a_reply_with_a_photo_goes_out_by_send_photo_with_its_text_as_caption(engine) {
        use base64::Engine as _;
        let fake = FakeTelegram::start().await;
        let app = hub_for(engine, &fake).await;
        let (inbox, secret) = webhook_inbox(&app, &fake).await;
        deliver(&app, inbox, Some(&secret), &fake.customer_says(3, "Ida", "which one?")).await.expect_status(200);
        let conversation = conversation_of(&app, inbox).await;
        let png: Vec<u8> = b"\x89PNG\r\n\x1a\n".iter().copied().chain(0..64u8).collect();
        let reply = app
            .post(&format!("/api/v1/conversations/{conversation}/messages"), Some(&app.token),
                  json!({"text": "This one", "attachments": [{"filename": "model.png",
                         "content_type": "image/png",
                         "data": base64::engine::general_purpose::STANDARD.encode(&png)}]}))
            .await
            .expect_status(201)
            .json;
        let settled = app.settled_message(conversation, reply["id"].as_i64().unwrap()).await;
        assert_eq!(settled["status"], "sent", "{settled}");
        let sent = fake.sent();
        assert_eq!(sent.len(), 1, "one call: the file with its caption");
        assert_eq!((sent[0].chat_id.as_str(), sent[0].text.as_str()), ("3", "This one"));
        let file = sent[0].file.as_ref().expect("a file was sent");
        assert_eq!(file.method, "sendPhoto");
        assert_eq!((file.filename.as_str(), file.content_type.as_str()), ("model.png", "image/png"));
        assert_eq!(file.data, png);
        app.stop().await;
    }

    async fn a_reply_held_by_flood_control_goes_out_after_retry_after(engine) {
        let fake = FakeTelegram::start().await;
        let app = hub_for(engine, &fake).await;
        let (inbox, secret) = webhook_inbox(&app, &fake).await;
        deliver(&app, inbox, Some(&secret), &fake.customer_says(7, "Cy", "hey")).await.expect_status(200);
        let conversation = conversation_of(&app, inbox).await;
        fake.throttle_sends(1, 2);

        let started = Instant::now();
        let reply = app
            .post(&format!("/api/v1/conversations/{conversation}/messages"), Some(&app.token),
                  json!({"text": "One moment"}))
            .await
            .expect_status(201)
            .json;
        let settled = app.settled_message(conversation, reply["id"].as_i64().unwrap()).await;
        assert_eq!(settled["status"], "sent", "{settled}");
        assert!(started.elapsed() >= Duration::from_secs(2), "retried no sooner than retry_after");
        assert_eq!(fake.send_attempts(), 2);
        assert_eq!(fake.sent().len(), 1, "sent once");
        app.stop().await;
    }

    async fn a_photo_is_stored_with_its_caption(engine) {
        let fake = FakeTelegram::start().await;
        let app = hub_for(engine, &fake).await;
        let (inbox, secret) = webhook_inbox(&app, &fake).await;
        let jpeg: Vec<u8> = [0xFF, 0xD8, 0xFF, 0xE0].into_iter().chain(0..=200u8).collect();
        let update = fake.customer_sends_photo(55, "It arrived broken", &jpeg);
        deliver(&app, inbox, Some(&secret), &update).await.expect_status(200);
        let stored = messages_of(&app, inbox).await;
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0]["text"], "It arrived broken");
        let attachments = stored[0]["attachments"].as_array().unwrap();
        assert_eq!(attachments.len(), 1, "only the largest size");
        assert_eq!(attachments[0]["content_type"], "image/jpeg");
        assert_eq!(attachments[0]["size"], jpeg.len(), "the largest size's bytes");
        app.stop().await;
    }

    async fn a_photo_telegram_cannot_hand_over_yet_is_refused_with_500_and_stored_on_redelivery(engine) {
        let fake = FakeTelegram::start().await;
        let app = hub_for(engine, &fake).await;
        let (inbox, secret) = webhook_inbox(&app, &fake).await;
        let update = fake.customer_sends_photo(56, "receipt", b"\xFF\xD8jpeg");
        fake.fail_downloads(1);
        deliver(&app, inbox, Some(&secret), &update).await.expect_status(500);
        assert!(messages_of(&app, inbox).await.is_empty(), "not stored without its photo");
        deliver(&app, inbox, Some(&secret), &update).await.expect_status(200);
        let stored = messages_of(&app, inbox).await;
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0]["attachments"].as_array().unwrap().len(), 1);
        app.stop().await;
    }

    async fn a_polled_update_whose_photo_fails_is_not_confirmed_until_it_is_stored(engine) {
        let fake = FakeTelegram::start().await;
        let app = hub_for(engine, &fake).await;
        let inbox = polling_inbox(&app).await;
        fake.fail_downloads(2);
        fake.customer_sends_photo(57, "the label", b"\xFF\xD8jpeg");
        fake.customer_says(57, "Ana", "did you get it?");
        let texts = until_incoming(&app, inbox, 2).await;
        assert_eq!(texts, ["the label", "did you get it?"], "kept, in order");
        let stored = messages_of(&app, inbox).await;
        assert_eq!(stored[0]["attachments"].as_array().unwrap().len(), 1);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(messages_of(&app, inbox).await.len(), 2, "none doubled");
        app.stop().await;
    }

    async fn a_document_is_stored_unless_its_type_is_refused_when_it_is_named_instead(engine) {
        let fake = FakeTelegram::start().await;
        let app = hub_for(engine, &fake).await;
        let (inbox, secret) = webhook_inbox(&app, &fake).await;
        let pdf = fake.customer_sends_document(60, "../invoice.pdf", "application/pdf", b"%PDF-1.4");
        deliver(&app, inbox, Some(&secret), &pdf).await.expect_status(200);
        let exe = fake.customer_sends_document(60, "setup.exe", "application/x-msdownload", b"MZ");
        deliver(&app, inbox, Some(&secret), &exe).await.expect_status(200);
        let stored = messages_of(&app, inbox).await;
        assert_eq!(stored.len(), 2);
        let kept = &stored[0]["attachments"][0];
        assert_eq!(kept["content_type"], "application/pdf");
        assert!(!kept["filename"].as_str().unwrap().contains('/'), "{kept}");
        assert!(stored[1]["attachments"].as_array().unwrap().is_empty());
        assert!(stored[1]["text"].as_str().unwrap().contains("setup.exe"), "{}", stored[1]);
        app.stop().await;
    }

    async fn an_edit_is_stored_as_a_message_of_its_own_marked_edited(engine) {
        let fake = FakeTelegram::start().await;
        let app = hub_for(engine, &fake).await;
        let (inbox, secret) = webhook_inbox(&app, &fake).await;
        let update = fake.customer_says(9, "Di", "my ordr is late");
        deliver(&app, inbox, Some(&secret), &update).await.expect_status(200);
        let mut message = update["message"].clone();
        message["text"] = json!("my order is late");
        message["edit_date"] = json!(1_700_000_100);
        let edit = json!({"update_id": 1, "edited_message": message});
        deliver(&app, inbox, Some(&secret), &edit).await.expect_status(200);
        deliver(&app, inbox, Some(&secret), &edit).await.expect_status(200);
        let stored = messages_of(&app, inbox).await;
        assert_eq!(stored.len(), 2, "the original and one edit");
        assert_eq!(stored[1]["text"], "my order is late");
        assert_eq!(stored[1]["meta"]["edited"], true);
        assert_eq!(stored[1]["meta"]["edit_of"], stored[0]["external_id"]);
        app.stop().await;
    }

    async fn a_polling_inbox_ingests_updates_and_survives_the_bot_api_going_away(engine) {
        let mut fake = FakeTelegram::start().await;
        // getUpdates is refused while a webhook is set: the channel must take it down first.
        fake.set_webhook_elsewhere("https://old.example/hook");
        let app = hub_for(engine, &fake).await;
        let inbox = polling_inbox(&app).await;
        fake.customer_says(77, "Eve", "first");
        assert_eq!(until_incoming(&app, inbox, 1).await, ["first"]);
        assert!(fake.webhook().is_none() && fake.webhook_deletes() >= 1);

        fake.stop().await;
        fake.customer_says(77, "Eve", "written while Telegram was away");
        tokio::time::sleep(Duration::from_millis(700)).await;
        fake.restart().await;
        fake.customer_says(77, "Eve", "after it came back");
        let texts = until_incoming(&app, inbox, 3).await;
        assert_eq!(texts, ["first", "written while Telegram was away", "after it came back"]);

        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(messages_of(&app, inbox).await.len(), 3, "none doubled");
        fake.until("every update confirmed", |f| f.unconfirmed() == 0).await;
        assert_eq!(fake.most_polls_open(), 1, "one poll at a time");
        app.stop().await;
    }

    async fn an_inbox_moved_from_polling_to_webhook_stops_polling_and_sets_its_webhook(engine) {
        let fake = FakeTelegram::start().await;
        let app = hub_for(engine, &fake).await;
        let inbox = polling_inbox(&app).await;
        fake.customer_says(90, "Gil", "polled");
        until_incoming(&app, inbox, 1).await;

        app.send(reqwest::Method::PATCH, &format!("/api/v1/inboxes/{inbox}"), Some(&app.token),
                 json!({"settings": {"mode": "webhook"}}))
            .await
            .expect_status(200);
        let path = format!("/hooks/telegram/{inbox}");
        fake.until("the webhook", |f| f.webhook().is_some_and(|w| w.url.ends_with(&path))).await;
        let secret = fake.webhook().unwrap().secret_token;
        let update = fake.customer_says(90, "Gil", "by webhook");
        deliver(&app, inbox, Some(&secret), &update).await.expect_status(200);
        assert_eq!(until_incoming(&app, inbox, 2).await, ["polled", "by webhook"]);
        app.stop().await;
    }

    async fn a_polling_inbox_resumes_after_the_hub_restarts_without_doubles(engine) {
        let fake = FakeTelegram::start().await;
        let app = hub_for(engine, &fake).await;
        let inbox = polling_inbox(&app).await;
        fake.customer_says(88, "Fay", "one");
        fake.customer_says(88, "Fay", "two");
        until_incoming(&app, inbox, 2).await;

        let url = fake.url();
        let app = app
            .restart(move |s| {
                s.providers.telegram_api_url = url;
                s.server.public_url = PUBLIC_URL.into();
            })
            .await;
        fake.customer_says(88, "Fay", "three");
        let texts = until_incoming(&app, inbox, 3).await;
        assert_eq!(texts, ["one", "two", "three"]);
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(messages_of(&app, inbox).await.len(), 3, "none doubled");
        app.stop().await;
    }
}
