//! The SMS channel against stand-ins for Twilio and Vonage that behave as their documentation
//! says: inboxes set up through the API, customers' messages arriving on signed webhooks (once,
//! however often they are re-delivered), forged webhooks refused with nothing stored, agents'
//! replies sent through the providers' APIs (retried when throttled), and status callbacks
//! moving replies forward.

mod common;
#[path = "support/fake_twilio/mod.rs"]
mod fake_twilio;
#[path = "support/fake_vonage/mod.rs"]
mod fake_vonage;

use common::*;
use fake_twilio::{FakeTwilio, Webhook, ACCOUNT_SID, AUTH_TOKEN};
use fake_vonage::{FakeVonage, APPLICATION_ID, PRIVATE_KEY, SIGNATURE_SECRET};
use serde_json::{json, Value};

/// The hub's public address as the providers know it (what Twilio signs); the hub itself
/// listens on a loopback port behind it, as behind a reverse proxy.
const PUBLIC_URL: &str = "https://hub.example.com";
const CUSTOMER: &str = "+14155550100";
const INBOX_NUMBER: &str = "+14155550199";

struct Sms {
    app: TestApp,
    twilio: FakeTwilio,
    vonage: FakeVonage,
}

async fn sms_app(engine: Engine) -> Sms {
    sms_app_with(engine, |_| {}).await
}

async fn sms_app_with(engine: Engine, tweak: impl FnOnce(&mut switchboard::Settings)) -> Sms {
    let twilio = FakeTwilio::start().await;
    let vonage = FakeVonage::start().await;
    let (twilio_url, vonage_url) = (twilio.url.clone(), vonage.url.clone());
    let app = spawn_app_with(engine, |s| {
        s.server.public_url = PUBLIC_URL.into();
        s.providers.twilio_api_url = twilio_url;
        s.providers.vonage_api_url = vonage_url;
        tweak(s);
    })
    .await;
    Sms {
        app,
        twilio,
        vonage,
    }
}

impl Sms {
    async fn create(&self, settings: Value) -> Reply {
        self.app
            .post(
                "/api/v1/inboxes",
                Some(&self.app.token),
                json!({"name": "Texts", "kind": "sms", "settings": settings}),
            )
            .await
    }

    async fn twilio_inbox(&self) -> i64 {
        let created = self
            .create(json!({"provider": "twilio", "account_sid": ACCOUNT_SID,
                           "auth_token": AUTH_TOKEN, "from": INBOX_NUMBER}))
            .await
            .expect_status(201)
            .json;
        created["id"].as_i64().unwrap()
    }

    async fn vonage_inbox(&self) -> i64 {
        let created = self
            .create(
                json!({"provider": "vonage", "application_id": APPLICATION_ID,
                           "private_key": PRIVATE_KEY, "signature_secret": SIGNATURE_SECRET,
                           "from": "447700900000"}),
            )
            .await
            .expect_status(201)
            .json;
        created["id"].as_i64().unwrap()
    }

    /// Where the hub really listens for this inbox's webhooks, and the URL Twilio signs.
    fn hook(&self, inbox: i64) -> (String, String) {
        (
            format!("{}/hooks/sms/{inbox}", self.app.url),
            format!("{PUBLIC_URL}/hooks/sms/{inbox}"),
        )
    }

    async fn twilio_posts(&self, inbox: i64, webhook: &Webhook) -> Reply {
        let (at, signed) = self.hook(inbox);
        Reply::from(webhook.post(&self.app.http, &at, &signed).await).await
    }

    async fn vonage_posts(&self, inbox: i64, body: &Value) -> Reply {
        let body = serde_json::to_vec(body).unwrap();
        let token = fake_vonage::webhook_token(SIGNATURE_SECRET, &body);
        let (at, _) = self.hook(inbox);
        Reply::from(
            fake_vonage::post_webhook(&self.app.http, &at, &body, Some(format!("Bearer {token}")))
                .await,
        )
        .await
    }

    async fn conversations(&self, inbox: i64) -> Vec<Value> {
        let listed = self
            .app
            .get(
                &format!("/api/v1/conversations?inbox={inbox}"),
                Some(&self.app.token),
            )
            .await
            .expect_status(200)
            .json;
        listed["data"].as_array().unwrap().clone()
    }

    async fn messages(&self, conversation: i64) -> Vec<Value> {
        let thread = self
            .app
            .get(
                &format!("/api/v1/conversations/{conversation}/messages"),
                Some(&self.app.token),
            )
            .await
            .expect_status(200)
            .json;
        thread["data"].as_array().unwrap().clone()
    }

    async fn only_conversation(&self, inbox: i64) -> i64 {
        let conversations = self.conversations(inbox).await;
        assert_eq!(conversations.len(), 1, "{conversations:?}");
        conversations[0]["id"].as_i64().unwrap()
    }

    async fn reply(&self, conversation: i64, text: &str) -> i64 {
        let reply = self
            .app
            .post(
                &format!("/api/v1/conversations/{conversation}/messages"),
                Some(&self.app.token),
                json!({ "text": text }),
            )
            .await
            .expect_status(201)
            .json;
        reply["id"].as_i64().unwrap()
    }

    /// Waits until the message's status is `want` (callbacks are applied as they come).
    async fn status_becomes(&self, conversation: i64, message: i64, want: &str) -> Value {
        let mut seen = Value::Null;
        for _ in 0..100 {
            seen = self.app.settled_message(conversation, message).await;
            if seen["status"] == want {
                return seen;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("message {message} never became {want}: {seen}");
    }
}

on_both_engines! {
    async fn a_twilio_inbox_is_set_up_with_its_webhook_url_and_its_token_sealed(engine) {
        let sms = sms_app(engine).await;
        let created = sms
            .create(json!({"provider": "twilio", "account_sid": ACCOUNT_SID,
                           "auth_token": AUTH_TOKEN, "from": INBOX_NUMBER}))
            .await
            .expect_status(201)
            .json;
        let inbox = created["id"].as_i64().unwrap();
        assert_eq!(created["webhook_url"], format!("{PUBLIC_URL}/hooks/sms/{inbox}"));
        assert_eq!(
            created["settings"],
            json!({"provider": "twilio", "account_sid": ACCOUNT_SID, "from": INBOX_NUMBER})
        );
        assert!(!created.to_string().contains(AUTH_TOKEN), "the auth token is never shown");
        let service = sms
            .create(json!({"provider": "twilio", "account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN,
                           "from": "MG0123456789abcdef0123456789abcdef"}))
            .await;
        service.expect_status(201);
        sms.app.stop().await;
    }

    async fn only_the_sender_of_an_sms_inbox_can_change(engine) {
        let sms = sms_app(engine).await;
        let inbox = sms.twilio_inbox().await;
        let path = format!("/api/v1/inboxes/{inbox}");
        let patch = |settings: Value| {
            sms.app.send(reqwest::Method::PATCH, &path, Some(&sms.app.token), json!({ "settings": settings }))
        };
        let changed = patch(json!({"from": "+14155550123"})).await.expect_status(200).json;
        assert_eq!(
            changed["settings"],
            json!({"provider": "twilio", "account_sid": ACCOUNT_SID, "from": "+14155550123"})
        );
        for (settings, words) in [
            (json!({"from": "call me"}), "`from` must be"),
            (json!({"provider": "vonage"}), "`provider` cannot change"),
            (json!({"account_sid": "AC00000000000000000000000000000000"}), "`account_sid` cannot change"),
            (json!({"auth_token": AUTH_TOKEN}), "cannot change `auth_token`"),
        ] {
            let refused = patch(settings).await.expect_status(422);
            assert!(refused.text.contains(words), "{words:?} not in {}", refused.text);
        }
        sms.twilio_posts(inbox, &Webhook::inbound_sms("SMdddddddddddddddddddddddddddddddd", CUSTOMER, "hi")).await.expect_status(200);
        let conversation = sms.only_conversation(inbox).await;
        let reply = sms.reply(conversation, "From the new number").await;
        sms.status_becomes(conversation, reply, "sent").await;
        assert_eq!(sms.twilio.sent()[0]["From"], "+14155550123");
        sms.app.stop().await;
    }

    async fn a_wrong_sms_setup_says_what_is_wrong_and_leaves_nothing(engine) {
        let sms = sms_app(engine).await;
        let good = json!({"provider": "twilio", "account_sid": ACCOUNT_SID,
                          "auth_token": AUTH_TOKEN, "from": INBOX_NUMBER});
        let with = |key: &str, value: Value| {
            let mut settings = good.clone();
            settings[key] = value;
            settings
        };
        let without = |key: &str| {
            let mut settings = good.clone();
            settings.as_object_mut().unwrap().remove(key);
            settings
        };
        for (settings, words) in [
            (without("provider"), "need `provider`"),
            (with("provider", json!("carrier-pigeon")), "`provider` must be"),
            (without("auth_token"), "need `auth_token`"),
            (with("account_sid", json!("AC123")), "`account_sid` must be"),
            (with("auth_token", json!("hunter2")), "`auth_token` must be"),
            (with("from", json!("415-555-0199")), "`from` must be"),
            (with("signature_secret", json!("0123456789abcdef0123")), "is a vonage setting"),
            (json!({"provider": "vonage", "application_id": APPLICATION_ID,
                    "private_key": "not a key", "signature_secret": SIGNATURE_SECRET,
                    "from": "447700900000"}), "`private_key`"),
            (json!({"provider": "vonage", "application_id": "app-1", "private_key": PRIVATE_KEY,
                    "signature_secret": SIGNATURE_SECRET, "from": "447700900000"}), "`application_id`"),
        ] {
            let refused = sms.create(settings).await.expect_status(422);
            assert!(refused.text.contains(words), "{words:?} not in {}", refused.text);
        }
        let inboxes = sms.app.get("/api/v1/inboxes", Some(&sms.app.token)).await.json;
        assert_eq!(inboxes.as_array().unwrap().len(), 0);
        sms.app.stop().await;
    }

    async fn an_inbound_sms_is_stored_from_its_phone_and_answered_with_empty_twiml(engine) {
        let sms = sms_app(engine).await;
        let inbox = sms.twilio_inbox().await;
        let sid = "SM11111111111111111111111111111111";
        let answer = sms.twilio_posts(inbox, &Webhook::inbound_sms(sid, CUSTOMER, "Where is my order?")).await;
        let answer = answer.expect_status(200);
        assert_eq!(answer.headers["content-type"], "text/xml");
        assert!(answer.text.ends_with("<Response/>"), "{}", answer.text);

        let conversation = sms.only_conversation(inbox).await;
        let messages = sms.messages(conversation).await;
        assert_eq!(messages.len(), 1);
        assert_eq!(
            (messages[0]["text"].clone(), messages[0]["external_id"].clone(), messages[0]["direction"].clone()),
            (json!("Where is my order?"), json!(sid), json!("incoming"))
        );
        let contact = sms.app
            .get(&format!("/api/v1/conversations/{conversation}"), Some(&sms.app.token))
            .await
            .json["contact_id"]
            .as_i64()
            .unwrap();
        let contact = sms.app.get(&format!("/api/v1/contacts/{contact}"), Some(&sms.app.token)).await.json;
        let identities = contact["identities"].as_array().unwrap();
        assert!(
            identities.iter().any(|i| i["namespace"] == "phone" && i["identifier"] == CUSTOMER),
            "{identities:?}"
        );
        sms.app.stop().await;
    }

    async fn twilios_re_deliveries_make_one_message_even_fifty_at_once(engine) {
        let sms = sms_app(engine).await;
        let inbox = sms.twilio_inbox().await;
        let webhook = Webhook::inbound_sms("SM22222222222222222222222222222222", CUSTOMER, "Hello?");
        sms.twilio_posts(inbox, &webhook).await.expect_status(200);
        sms.twilio_posts(inbox, &webhook).await.expect_status(200);
        let again = Webhook::inbound_sms("SM33333333333333333333333333333333", CUSTOMER, "Anyone?");
        let (at, signed) = sms.hook(inbox);
        let posts = (0..50).map(|_| again.post(&sms.app.http, &at, &signed));
        for answer in futures::future::join_all(posts).await {
            assert_eq!(answer.status(), 200);
        }
        let conversation = sms.only_conversation(inbox).await;
        let texts: Vec<_> = sms.messages(conversation).await.iter().map(|m| m["text"].clone()).collect();
        assert_eq!(texts, [json!("Hello?"), json!("Anyone?")]);
        sms.app.stop().await;
    }

    async fn an_mms_brings_its_media_fetched_with_the_accounts_credentials(engine) {
        let sms = sms_app(engine).await;
        let inbox = sms.twilio_inbox().await;
        let sid = "MM44444444444444444444444444444444";
        let photo = b"\xFF\xD8\xFF\xE0 a small jpeg";
        let url = sms.twilio.hold_media(sid, "ME44444444444444444444444444444444", "image/jpeg", photo);
        let webhook = Webhook::inbound_sms(sid, CUSTOMER, "The box arrived like this")
            .with("MediaUrl0", &url)
            .with("MediaContentType0", "image/jpeg");
        let webhook = Webhook {
            params: webhook
                .params
                .into_iter()
                .map(|(k, v)| if k == "NumMedia" { (k, "1".into()) } else { (k, v) })
                .collect(),
        };
        sms.twilio_posts(inbox, &webhook).await.expect_status(200);
        assert_eq!(sms.twilio.state.lock().unwrap().media_fetches, 1);

        let conversation = sms.only_conversation(inbox).await;
        let message = sms.messages(conversation).await[0].clone();
        let attachment = &message["attachments"][0];
        assert_eq!((attachment["content_type"].clone(), attachment["size"].clone()),
                   (json!("image/jpeg"), json!(photo.len())));
        let id = attachment["id"].as_i64().unwrap();
        let file = sms.app.http
            .get(format!("{}/api/v1/attachments/{id}", sms.app.url))
            .bearer_auth(&sms.app.token)
            .send()
            .await
            .unwrap();
        assert_eq!(file.bytes().await.unwrap().as_ref(), photo);
        sms.app.stop().await;
    }

    async fn a_media_file_too_large_to_keep_does_not_cost_the_customer_the_message(engine) {
        let sms = sms_app_with(engine, |s| s.providers.max_media_bytes = 1024).await;
        let inbox = sms.twilio_inbox().await;
        let sid = "MMcccccccccccccccccccccccccccccccc";
        let url = sms.twilio.hold_media(sid, "MEcccccccccccccccccccccccccccccccc", "video/mp4", &[7; 4096]);
        let mut webhook = Webhook::inbound_sms(sid, CUSTOMER, "");
        for (k, v) in webhook.params.iter_mut() {
            if k == "NumMedia" {
                *v = "1".into();
            }
        }
        let webhook = webhook.with("MediaUrl0", &url).with("MediaContentType0", "video/mp4");
        sms.twilio_posts(inbox, &webhook).await.expect_status(200);
        let conversation = sms.only_conversation(inbox).await;
        let message = sms.messages(conversation).await[0].clone();
        assert_eq!(message["attachments"], json!([]));
        assert_eq!(message["text"], "(1 media file(s) could not be kept)");
        let skipped = &message["meta"]["media_not_kept"][0];
        assert_eq!(skipped["url"], url);
        assert!(skipped["reason"].as_str().unwrap().contains("1024 bytes"), "{skipped}");
        sms.app.stop().await;
    }

    async fn a_forged_twilio_webhook_is_refused_and_stores_nothing(engine) {
        let sms = sms_app(engine).await;
        let inbox = sms.twilio_inbox().await;
        let (at, signed) = sms.hook(inbox);
        let webhook = Webhook::inbound_sms("SM55555555555555555555555555555555", CUSTOMER, "Refund me");
        let good = webhook.signature(&signed, AUTH_TOKEN);
        let http = &sms.app.http;
        let tampered = webhook.body().replace("Refund+me", "Refund+me+twice");
        assert_ne!(tampered, webhook.body());
        let wrong_key = webhook.signature(&signed, "ffffffffffffffffffffffffffffffff");
        let other_url = webhook.signature(&format!("{PUBLIC_URL}/hooks/sms/{}", inbox + 1), AUTH_TOKEN);
        for (signature, body) in [
            (Some(good.as_str()), tampered),
            (Some(wrong_key.as_str()), webhook.body()),
            (Some(other_url.as_str()), webhook.body()),
            (None, webhook.body()),
        ] {
            let answer = webhook.post_with(http, &at, signature, body).await;
            assert_eq!(answer.status(), 401);
        }
        assert!(sms.conversations(inbox).await.is_empty(), "nothing was stored");
        sms.app.stop().await;
    }

    async fn a_reply_reaches_twilio_and_its_status_callbacks_move_it_forward(engine) {
        let sms = sms_app(engine).await;
        let inbox = sms.twilio_inbox().await;
        let sid = "SM66666666666666666666666666666666";
        sms.twilio_posts(inbox, &Webhook::inbound_sms(sid, CUSTOMER, "Is it shipped?")).await.expect_status(200);
        let conversation = sms.only_conversation(inbox).await;
        let reply = sms.reply(conversation, "Yes, it left today.").await;
        let settled = sms.status_becomes(conversation, reply, "sent").await;

        let sent = sms.twilio.sent();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0]["To"], CUSTOMER);
        assert_eq!(sent[0]["From"], INBOX_NUMBER);
        assert_eq!(sent[0]["Body"], "Yes, it left today.");
        assert_eq!(sent[0]["StatusCallback"], format!("{PUBLIC_URL}/hooks/sms/{inbox}"));
        let twilio_sid = settled["external_id"].as_str().unwrap().to_string();
        assert!(twilio_sid.starts_with("SM"), "{settled}");

        sms.twilio_posts(inbox, &Webhook::status(&twilio_sid, "delivered")).await.expect_status(200);
        sms.status_becomes(conversation, reply, "delivered").await;
        sms.twilio_posts(inbox, &Webhook::status(&twilio_sid, "read")).await.expect_status(200);
        sms.status_becomes(conversation, reply, "read").await;
        // A late `sent` moves nothing back.
        sms.twilio_posts(inbox, &Webhook::status(&twilio_sid, "sent")).await.expect_status(200);
        assert_eq!(sms.app.settled_message(conversation, reply).await["status"], "read");
        // A forged callback is refused.
        let forged = Webhook::status(&twilio_sid, "failed");
        let (at, _) = sms.hook(inbox);
        let answer = forged.post_with(&sms.app.http, &at, Some("bm90IGEgc2lnbmF0dXJl"), forged.body()).await;
        assert_eq!(answer.status(), 401);
        sms.app.stop().await;
    }

    async fn a_failed_status_says_twilios_error_code(engine) {
        let sms = sms_app(engine).await;
        let inbox = sms.twilio_inbox().await;
        sms.twilio_posts(inbox, &Webhook::inbound_sms("SM77777777777777777777777777777777", CUSTOMER, "hi")).await.expect_status(200);
        let conversation = sms.only_conversation(inbox).await;
        let reply = sms.reply(conversation, "Hello!").await;
        let settled = sms.status_becomes(conversation, reply, "sent").await;
        let twilio_sid = settled["external_id"].as_str().unwrap();
        let failed = Webhook::status(twilio_sid, "undelivered").with("ErrorCode", "30003");
        sms.twilio_posts(inbox, &failed).await.expect_status(200);
        let failed = sms.status_becomes(conversation, reply, "failed").await;
        assert!(failed["error"].as_str().unwrap().contains("30003"), "{failed}");
        sms.app.stop().await;
    }

    async fn a_number_twilio_refuses_fails_the_reply_at_once_with_twilios_words(engine) {
        let sms = sms_app(engine).await;
        let inbox = sms.twilio_inbox().await;
        // A short code writes in; Twilio will not text it back.
        sms.twilio_posts(inbox, &Webhook::inbound_sms("SMeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", "+1234", "STOP")).await.expect_status(200);
        let conversation = sms.only_conversation(inbox).await;
        let reply = sms.reply(conversation, "Sorry to see you go").await;
        let failed = sms.status_becomes(conversation, reply, "failed").await;
        assert!(failed["error"].as_str().unwrap().contains("21211"), "{failed}");
        assert_eq!(sms.twilio.state.lock().unwrap().attempts, 1, "a refusal is not retried");
        sms.app.stop().await;
    }

    async fn a_throttled_send_waits_for_retry_after_and_is_delivered_once(engine) {
        let sms = sms_app(engine).await;
        let inbox = sms.twilio_inbox().await;
        sms.twilio_posts(inbox, &Webhook::inbound_sms("SM88888888888888888888888888888888", CUSTOMER, "hi")).await.expect_status(200);
        let conversation = sms.only_conversation(inbox).await;
        sms.twilio.refuse_next(fake_twilio::Refusal::TooManyRequests { retry_after_secs: 1 });
        sms.twilio.refuse_next(fake_twilio::Refusal::ServerError);
        let started = std::time::Instant::now();
        let reply = sms.reply(conversation, "One moment.").await;
        sms.status_becomes(conversation, reply, "sent").await;
        assert!(started.elapsed() >= std::time::Duration::from_secs(1), "Retry-After was honoured");
        assert_eq!(sms.twilio.state.lock().unwrap().attempts, 3);
        assert_eq!(sms.twilio.sent().len(), 1, "delivered once");
        sms.app.stop().await;
    }

    async fn vonage_messages_come_in_signed_and_replies_go_out_with_the_applications_jwt(engine) {
        let sms = sms_app(engine).await;
        let inbox = sms.vonage_inbox().await;
        let uuid = "aaaaaaaa-bbbb-4ccc-8ddd-000000000001";
        let inbound = fake_vonage::inbound_sms(uuid, "447700900001", "Hello From Vonage!");
        sms.vonage_posts(inbox, &inbound).await.expect_status(200);
        sms.vonage_posts(inbox, &inbound).await.expect_status(200);
        let conversation = sms.only_conversation(inbox).await;
        let messages = sms.messages(conversation).await;
        assert_eq!(messages.len(), 1, "a re-delivery is the same message");
        assert_eq!(messages[0]["external_id"], uuid);

        let reply = sms.reply(conversation, "Hello from the desk").await;
        let settled = sms.status_becomes(conversation, reply, "sent").await;
        let sent = sms.vonage.sent();
        assert_eq!(sent.len(), 1);
        assert_eq!(
            (sent[0]["to"].clone(), sent[0]["from"].clone(), sent[0]["text"].clone()),
            (json!("447700900001"), json!("447700900000"), json!("Hello from the desk"))
        );
        let message_uuid = settled["external_id"].as_str().unwrap().to_string();
        sms.vonage_posts(inbox, &fake_vonage::status(&message_uuid, "delivered")).await.expect_status(200);
        sms.status_becomes(conversation, reply, "delivered").await;
        sms.vonage_posts(inbox, &fake_vonage::status(&message_uuid, "read")).await.expect_status(200);
        sms.status_becomes(conversation, reply, "read").await;
        sms.vonage_posts(inbox, &fake_vonage::status(&message_uuid, "submitted")).await.expect_status(200);
        assert_eq!(sms.app.settled_message(conversation, reply).await["status"], "read");
        sms.app.stop().await;
    }

    async fn a_vonage_webhook_without_a_good_jwt_or_with_another_body_is_refused(engine) {
        let sms = sms_app(engine).await;
        let inbox = sms.vonage_inbox().await;
        let (at, _) = sms.hook(inbox);
        let body = serde_json::to_vec(&fake_vonage::inbound_sms("u-1", "447700900001", "hi")).unwrap();
        let signed = fake_vonage::webhook_token(SIGNATURE_SECRET, &body);
        let wrong_secret = fake_vonage::webhook_token("another-secret-entirely-0123456789", &body);
        let tampered = serde_json::to_vec(&fake_vonage::inbound_sms("u-1", "447700900001", "hi!")).unwrap();
        for (body, authorization) in [
            (tampered, Some(format!("Bearer {signed}"))),
            (body.clone(), Some(format!("Bearer {wrong_secret}"))),
            (body.clone(), Some(signed.clone())),
            (body.clone(), None),
        ] {
            let answer = fake_vonage::post_webhook(&sms.app.http, &at, &body, authorization).await;
            assert_eq!(answer.status(), 401);
        }
        assert!(sms.conversations(inbox).await.is_empty(), "nothing was stored");
        sms.app.stop().await;
    }

    async fn a_throttled_vonage_send_is_retried_and_sent_once(engine) {
        let sms = sms_app(engine).await;
        let inbox = sms.vonage_inbox().await;
        let inbound = fake_vonage::inbound_sms("aaaaaaaa-bbbb-4ccc-8ddd-000000000002", "447700900001", "hi");
        sms.vonage_posts(inbox, &inbound).await.expect_status(200);
        let conversation = sms.only_conversation(inbox).await;
        sms.vonage.refuse_next(fake_vonage::Refusal::TooManyRequests { retry_after_secs: 1 });
        sms.vonage.refuse_next(fake_vonage::Refusal::ServerError);
        let reply = sms.reply(conversation, "Hold on").await;
        sms.status_becomes(conversation, reply, "sent").await;
        assert_eq!(sms.vonage.state.lock().unwrap().attempts, 3);
        assert_eq!(sms.vonage.sent().len(), 1);
        sms.app.stop().await;
    }

    async fn one_phone_number_is_one_contact_across_twilio_and_vonage(engine) {
        let sms = sms_app(engine).await;
        let twilio = sms.twilio_inbox().await;
        let vonage = sms.vonage_inbox().await;
        sms.twilio_posts(twilio, &Webhook::inbound_sms("SM99999999999999999999999999999999", "+447700900001", "via Twilio")).await.expect_status(200);
        sms.vonage_posts(vonage, &fake_vonage::inbound_sms("aaaaaaaa-bbbb-4ccc-8ddd-000000000003", "447700900001", "via Vonage")).await.expect_status(200);
        let contact = |c: Value| c["contact_id"].clone();
        let first = contact(sms.conversations(twilio).await[0].clone());
        let second = contact(sms.conversations(vonage).await[0].clone());
        assert_eq!(first, second);
        sms.app.stop().await;
    }
}

/// The WhatsApp channel's Twilio senders: the SMS channel's Twilio code, with the `whatsapp:`
/// address prefix and the `whatsapp` kind, behind the real WhatsApp channel.
mod whatsapp {
    use super::*;

    on_both_engines! {
        async fn twilio_whatsapp_senders_use_the_same_code_with_their_prefix(engine) {
            switchboard::telemetry::install_crypto_provider();
            let twilio = FakeTwilio::start().await;
            let db = TestDatabase::new(engine).await;
            let mut settings = test_settings(&db);
            settings.server.public_url = PUBLIC_URL.into();
            settings.providers.twilio_api_url = twilio.url.clone();
            let channels = switchboard::channels::ChannelRegistry::standard();
            let hub = switchboard::Application::build_with(settings, channels).await.unwrap();
            let workspace_id = hub.state().store.list_workspaces().await.unwrap()[0].id;
            let mut app = TestApp {
                url: format!("http://{}", hub.addr()),
                http: reqwest::Client::new(),
                app: Some(hub),
                workspace_id,
                token: String::new(),
                db,
            };
            app.token = app.user_with_role("owner@example.com", "Olive Owner", "owner").await.1;

            let created = app
                .post("/api/v1/inboxes", Some(&app.token), json!({"name": "WhatsApp", "kind": "whatsapp",
                    "settings": {"provider": "twilio", "account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN,
                                 "from": format!("whatsapp:{INBOX_NUMBER}")}}))
                .await
                .expect_status(201)
                .json;
            let inbox = created["id"].as_i64().unwrap();
            let inbound = Webhook::new(&[
                ("MessageSid", "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
                ("SmsStatus", "received"),
                ("From", "whatsapp:+14155550100"),
                ("To", &format!("whatsapp:{INBOX_NUMBER}")),
                ("Body", "Hola"),
                ("NumMedia", "0"),
                ("ProfileName", "Mina"),
                ("AccountSid", ACCOUNT_SID),
            ]);
            let at = format!("{}/hooks/whatsapp/{inbox}", app.url);
            let signed = format!("{PUBLIC_URL}/hooks/whatsapp/{inbox}");
            assert_eq!(created["webhook_url"], signed);
            // Twilio signs its webhooks; Meta's handshake means nothing to a Twilio inbox.
            let forged = Webhook::inbound_sms("SMcccccccccccccccccccccccccccccccc", CUSTOMER, "hi");
            assert_eq!(forged.post(&app.http, &at, &format!("{PUBLIC_URL}/elsewhere")).await.status(), 401);
            let handshake = app.http.get(format!("{at}?hub.mode=subscribe&hub.verify_token=x&hub.challenge=1")).send().await.unwrap();
            assert_eq!(handshake.status(), 403);
            assert_eq!(inbound.post(&app.http, &at, &signed).await.status(), 200);
            // An SMS-style address is not a WhatsApp one.
            let sms_style = Webhook::inbound_sms("SMbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", CUSTOMER, "hi");
            assert_eq!(sms_style.post(&app.http, &at, &signed).await.status(), 422);

            let listed = app.get(&format!("/api/v1/conversations?inbox={inbox}"), Some(&app.token)).await.json;
            let conversation = listed["data"][0]["id"].as_i64().unwrap();
            let reply = app
                .post(&format!("/api/v1/conversations/{conversation}/messages"), Some(&app.token), json!({"text": "¡Hola, Mina!"}))
                .await
                .expect_status(201)
                .json["id"]
                .as_i64()
                .unwrap();
            assert_eq!(app.settled_message(conversation, reply).await["status"], "sent");
            let sent = twilio.sent();
            assert_eq!(sent.len(), 1);
            assert_eq!((sent[0]["To"].as_str(), sent[0]["From"].as_str()),
                       ("whatsapp:+14155550100", "whatsapp:+14155550199"));
            assert_eq!(sent[0]["StatusCallback"], signed);
            app.stop().await;
        }
    }
}

/// Twilio keeps re-delivering a webhook until it hears 200, and sometimes delivers one twice
/// anyway. The real binary is SIGKILLed while it does and started again on the same database:
/// afterwards every message is stored exactly once.
async fn twilio_re_deliveries_through_a_kill_minus_nine_store_each_message_once(engine: Engine) {
    const MESSAGES: usize = 100;
    let db = TestDatabase::new(engine).await;
    let http = reqwest::Client::new();
    let env = [("SWITCHBOARD__SERVER__PUBLIC_URL", PUBLIC_URL)];
    let (mut server, url) = start_server(db.dir.path(), &db.url, &env).await;
    let token = login(&http, &url).await;
    let inbox = http
        .post(format!("{url}/api/v1/inboxes"))
        .bearer_auth(&token)
        .json(
            &json!({"name": "Texts", "kind": "sms", "settings": {"provider": "twilio",
            "account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "from": INBOX_NUMBER}}),
        )
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let signed = format!("{PUBLIC_URL}/hooks/sms/{inbox}");
    let (hub_tx, hub_rx) = tokio::sync::watch::channel(url.clone());
    let (acked_tx, mut acked_rx) = tokio::sync::mpsc::unbounded_channel();
    let mut deliveries = Vec::new();
    for i in 0..MESSAGES {
        let (http, signed, mut hub, acked) = (
            http.clone(),
            signed.clone(),
            hub_rx.clone(),
            acked_tx.clone(),
        );
        deliveries.push(tokio::spawn(async move {
            let sid = format!("SM{i:032x}");
            let from = format!("+1415555{:04}", i % 5);
            let webhook = Webhook::inbound_sms(&sid, &from, &format!("message {i}"));
            let signature = webhook.signature(&signed, AUTH_TOKEN);
            let mut heard_ok = 0;
            // Once accepted, Twilio may still deliver it once more (a lost answer).
            while heard_ok < 2 {
                let at = format!("{}/hooks/sms/{inbox}", hub.borrow_and_update().clone());
                let answer = webhook.try_post_with(&http, &at, Some(&signature), webhook.body());
                match tokio::time::timeout(std::time::Duration::from_secs(5), answer).await {
                    Ok(Ok(answer)) if answer.status() == 200 => {
                        heard_ok += 1;
                        let _ = acked.send(sid.clone());
                    }
                    _ => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
                }
            }
        }));
    }
    drop(acked_tx);
    let mut acked = 0;
    while acked_rx.recv().await.is_some() {
        acked += 1;
        if acked == MESSAGES / 3 {
            server.start_kill().unwrap(); // SIGKILL, with deliveries in flight
            break;
        }
    }
    server.wait().await.unwrap();
    let (_server, url) = start_server(db.dir.path(), &db.url, &env).await;
    hub_tx.send(url.clone()).unwrap();
    for delivery in deliveries {
        tokio::time::timeout(std::time::Duration::from_secs(60), delivery)
            .await
            .expect("every webhook is accepted in the end")
            .unwrap();
    }

    let token = login(&http, &url).await;
    let conversations = get_json(
        &http,
        &format!("{url}/api/v1/conversations?inbox={inbox}&limit=200"),
        &token,
    )
    .await;
    let mut stored = Vec::new();
    for conversation in conversations["data"].as_array().unwrap() {
        let page = get_json(
            &http,
            &format!(
                "{url}/api/v1/conversations/{}/messages?limit=200",
                conversation["id"]
            ),
            &token,
        )
        .await;
        assert!(page["next_cursor"].is_null(), "one page holds them");
        stored.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["external_id"].as_str().unwrap().to_string()),
        );
    }
    stored.sort();
    let expected: Vec<_> = (0..MESSAGES).map(|i| format!("SM{i:032x}")).collect();
    assert_eq!(
        stored, expected,
        "every message once, none lost, none doubled"
    );
}

mod durability {
    use super::*;

    on_both_engines! {
        async fn twilio_re_deliveries_through_kill_9_store_each_message_once(engine) {
            twilio_re_deliveries_through_a_kill_minus_nine_store_each_message_once(engine).await;
        }
    }
}
