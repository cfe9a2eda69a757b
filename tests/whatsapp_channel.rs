//! The WhatsApp channel on the Cloud API, end to end against a local Graph API that behaves as
//! Meta documents it (tests/support/fake_whatsapp): an inbox is set up and verified by Meta's
//! handshake, signed notifications become messages (text, media fetched with the token, a
//! location, a reaction, an interactive reply) exactly once, statuses move replies forward, and
//! replies respect the 24-hour customer-service window, with templates outside it.

mod common;
#[path = "support/fake_whatsapp/mod.rs"]
mod fake_whatsapp;

use std::time::{SystemTime, UNIX_EPOCH};

use common::*;
use fake_whatsapp::{FakeWhatsapp, Refusal, PHONE_NUMBER_ID, TOKEN, WABA_ID};
use serde_json::{json, Value};
use switchboard_connector_meta::webhook::sign;

const APP_SECRET: &str = "3f1c0bd0a7f54e6f9e2b8c6d4a1e7f20";
const CUSTOMER: &str = "16505551234";

struct Whatsapp {
    app: TestApp,
    fake: FakeWhatsapp,
    inbox: i64,
    verify_token: String,
}

async fn whatsapp_with(engine: Engine, tweak: impl FnOnce(&mut switchboard::Settings)) -> Whatsapp {
    let fake = FakeWhatsapp::start().await;
    let graph = fake.url.clone();
    let app = spawn_app_with(engine, |s| {
        s.providers.graph_api_url = graph;
        tweak(s);
    })
    .await;
    let created = app
        .post(
            "/api/v1/inboxes",
            Some(&app.token),
            json!({"name": "Support on WhatsApp", "kind": "whatsapp", "provider": "meta",
                   "settings": {"phone_number_id": PHONE_NUMBER_ID, "business_account_id": WABA_ID,
                                "access_token": TOKEN, "app_secret": APP_SECRET}}),
        )
        .await
        .expect_status(201)
        .json;
    let inbox = created["id"].as_i64().unwrap();
    assert!(created["webhook_url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/hooks/whatsapp/{inbox}")));
    Whatsapp {
        app,
        fake,
        inbox,
        verify_token: created["secret"].as_str().unwrap().to_string(),
    }
}

async fn whatsapp(engine: Engine) -> Whatsapp {
    whatsapp_with(engine, |_| {}).await
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A `messages` notification for the inbox's number, as Meta sends it.
fn notification(messages: Vec<Value>) -> Value {
    value_for(
        PHONE_NUMBER_ID,
        json!({
            "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": CUSTOMER}],
            "messages": messages,
        }),
    )
}

fn statuses(statuses: Vec<Value>) -> Value {
    value_for(PHONE_NUMBER_ID, json!({"statuses": statuses}))
}

fn value_for(phone_number_id: &str, mut value: Value) -> Value {
    value["messaging_product"] = json!("whatsapp");
    value["metadata"] =
        json!({"display_phone_number": "15550783881", "phone_number_id": phone_number_id});
    json!({"object": "whatsapp_business_account",
           "entry": [{"id": WABA_ID, "changes": [{"field": "messages", "value": value}]}]})
}

fn text(wamid: &str, body: &str, sent_at: i64) -> Value {
    json!({"from": CUSTOMER, "id": wamid, "timestamp": sent_at.to_string(), "type": "text",
           "text": {"body": body}})
}

fn status(wamid: &str, status: &str) -> Value {
    json!({"id": wamid, "status": status, "timestamp": now_secs().to_string(), "recipient_id": CUSTOMER})
}

impl Whatsapp {
    /// Posts raw bytes to the webhook with this signature header (or none).
    async fn post_raw(&self, body: Vec<u8>, signature: Option<String>) -> Reply {
        let mut request = self
            .app
            .http
            .post(format!("{}/hooks/whatsapp/{}", self.app.url, self.inbox))
            .header("content-type", "application/json")
            .body(body);
        if let Some(signature) = signature {
            request = request.header("x-hub-signature-256", signature);
        }
        Reply::from(request.send().await.unwrap()).await
    }

    /// Meta delivering a notification, signed with the app secret.
    async fn deliver(&self, payload: &Value) -> Reply {
        let body = serde_json::to_vec(payload).unwrap();
        let signature = sign(APP_SECRET.as_bytes(), &body);
        self.post_raw(body, Some(signature)).await
    }

    async fn conversations(&self) -> Vec<Value> {
        self.app
            .get(
                &format!("/api/v1/conversations?inbox={}", self.inbox),
                Some(&self.app.token),
            )
            .await
            .expect_status(200)
            .json["data"]
            .as_array()
            .unwrap()
            .clone()
    }

    async fn thread(&self, conversation: i64) -> Vec<Value> {
        self.app
            .get(
                &format!("/api/v1/conversations/{conversation}/messages"),
                Some(&self.app.token),
            )
            .await
            .expect_status(200)
            .json["data"]
            .as_array()
            .unwrap()
            .clone()
    }

    /// The only conversation's messages.
    async fn only_thread(&self) -> (i64, Vec<Value>) {
        let conversations = self.conversations().await;
        assert_eq!(conversations.len(), 1, "{conversations:?}");
        let id = conversations[0]["id"].as_i64().unwrap();
        (id, self.thread(id).await)
    }

    async fn reply(&self, conversation: i64, body: Value) -> Reply {
        self.app
            .post(
                &format!("/api/v1/conversations/{conversation}/messages"),
                Some(&self.app.token),
                body,
            )
            .await
    }

    /// Waits until the message has this status (a callback is applied asynchronously to us).
    async fn message_reaches(&self, conversation: i64, message: i64, wanted: &str) -> Value {
        for _ in 0..200 {
            let found = self
                .thread(conversation)
                .await
                .into_iter()
                .find(|m| m["id"] == message)
                .unwrap();
            if found["status"] == wanted {
                return found;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("message {message} never reached {wanted}");
    }
}

on_both_engines! {
    async fn an_inbox_is_set_up_on_meta_and_passes_metas_handshake(engine) {
        let wa = whatsapp(engine).await;
        let inbox = wa.app.get(&format!("/api/v1/inboxes/{}", wa.inbox), Some(&wa.app.token)).await.json;
        assert_eq!(inbox["settings"], json!({"provider": "meta", "phone_number_id": PHONE_NUMBER_ID,
                                             "business_account_id": WABA_ID}));
        assert!(!inbox.to_string().contains(TOKEN) && !inbox.to_string().contains(APP_SECRET));

        let handshake = |token: &str| {
            format!("/hooks/whatsapp/{}?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1158201444", wa.inbox)
        };
        let answered = wa.app.get(&handshake(&wa.verify_token), None).await.expect_status(200);
        assert_eq!(answered.text, "1158201444");
        assert!(answered.headers["content-type"].to_str().unwrap().starts_with("text/plain"));
        wa.app.get(&handshake("not-the-token"), None).await.expect_status(403);
        wa.app.get(&format!("/hooks/whatsapp/{}", wa.inbox), None).await.expect_status(403);

        let twilio = wa.app.post("/api/v1/inboxes", Some(&wa.app.token),
            json!({"name": "WA via Twilio", "kind": "whatsapp", "provider": "twilio"})).await.expect_status(422);
        // Twilio carries WhatsApp too (tests/sms_channel.rs), with its own fields.
        assert!(twilio.json["error"]["message"].as_str().unwrap().contains("account_sid"), "{}", twilio.text);
        let missing = wa.app.post("/api/v1/inboxes", Some(&wa.app.token),
            json!({"name": "WA", "kind": "whatsapp", "provider": "meta",
                   "settings": {"phone_number_id": PHONE_NUMBER_ID, "business_account_id": WABA_ID, "app_secret": "x"}}))
            .await.expect_status(422);
        assert!(missing.json["error"]["message"].as_str().unwrap().contains("access_token"), "{}", missing.text);

        let forms = wa.app.get("/api/v1/channels", Some(&wa.app.token)).await.json;
        let form = forms.as_array().unwrap().iter().find(|f| f["kind"] == "whatsapp").unwrap().clone();
        assert_eq!(form["fields"][0]["options"], json!(["meta", "twilio"]));
        wa.app.stop().await;
    }

    async fn only_a_notification_signed_with_the_app_secret_is_stored(engine) {
        let wa = whatsapp(engine).await;
        let payload = notification(vec![text("wamid.sig-1", "Hello?", now_secs())]);
        let body = serde_json::to_vec(&payload).unwrap();

        wa.post_raw(body.clone(), None).await.expect_status(401);
        wa.post_raw(body.clone(), Some(sign(b"another app's secret", &body))).await.expect_status(401);
        wa.post_raw(body.clone(), Some("sha256=not-hex".into())).await.expect_status(401);
        let tampered = String::from_utf8(body.clone()).unwrap().replace("Hello?", "Send me your password").into_bytes();
        wa.post_raw(tampered, Some(sign(APP_SECRET.as_bytes(), &body))).await.expect_status(401);
        assert!(wa.conversations().await.is_empty(), "a refused call stores nothing");

        let other_number = value_for("999999999999999", json!({"messages": [text("wamid.sig-2", "Not yours", now_secs())]}));
        wa.deliver(&other_number).await.expect_status(200);
        assert!(wa.conversations().await.is_empty(), "another number's message is not this inbox's");

        wa.deliver(&payload).await.expect_status(200);
        let (_, thread) = wa.only_thread().await;
        assert_eq!(thread[0]["text"], "Hello?");
        wa.app.stop().await;
    }

    async fn a_text_message_opens_a_conversation_with_the_customers_phone(engine) {
        let wa = whatsapp(engine).await;
        wa.deliver(&notification(vec![text("wamid.t-1", "Does it come in another color?", now_secs())]))
            .await.expect_status(200);
        let (conversation, thread) = wa.only_thread().await;
        assert_eq!(thread[0]["external_id"], "wamid.t-1");
        assert_eq!(thread[0]["direction"], "incoming");
        let contact = wa.app.get(&format!("/api/v1/conversations/{conversation}"), Some(&wa.app.token)).await.json["contact_id"].clone();
        let contact = wa.app.get(&format!("/api/v1/contacts/{contact}"), Some(&wa.app.token)).await.json;
        assert_eq!(contact["name"], "Sheena Nelson");
        let identities = contact["identities"].as_array().unwrap();
        assert!(identities.iter().any(|i| i["namespace"] == "phone" && i["identifier"] == format!("+{CUSTOMER}")),
                "{identities:?}");
        wa.app.stop().await;
    }

    async fn a_location_a_reaction_and_an_interactive_reply_are_kept_as_text_with_details(engine) {
        let wa = whatsapp(engine).await;
        let ts = now_secs().to_string();
        wa.deliver(&notification(vec![
            json!({"from": CUSTOMER, "id": "wamid.loc", "timestamp": ts, "type": "location",
                   "location": {"latitude": 37.483307, "longitude": 122.148981, "name": "Philz Coffee",
                                "address": "101 Forest Ave, Palo Alto, CA 94301"}}),
            json!({"from": CUSTOMER, "id": "wamid.react", "timestamp": ts, "type": "reaction",
                   "reaction": {"message_id": "wamid.loc", "emoji": "\u{1F44D}"}}),
            json!({"context": {"from": "15550783881", "id": "wamid.loc"},
                   "from": CUSTOMER, "id": "wamid.tap", "timestamp": ts, "type": "interactive",
                   "interactive": {"type": "button_reply", "button_reply": {"id": "cancel-button", "title": "Cancel order"}}}),
        ])).await.expect_status(200);
        let (_, thread) = wa.only_thread().await;
        let by_id = |id: &str| thread.iter().find(|m| m["external_id"] == id).unwrap().clone();
        let location = by_id("wamid.loc");
        assert!(location["text"].as_str().unwrap().starts_with("Location: Philz Coffee"), "{location}");
        assert_eq!(location["meta"]["whatsapp"]["location"]["longitude"], 122.148981);
        let reaction = by_id("wamid.react");
        assert_eq!(reaction["text"], "Reacted \u{1F44D}");
        assert_eq!(reaction["meta"]["whatsapp"]["reaction"]["message_id"], "wamid.loc");
        let tap = by_id("wamid.tap");
        assert_eq!(tap["text"], "Cancel order");
        assert_eq!(tap["meta"]["whatsapp"]["interactive"]["id"], "cancel-button");
        wa.app.stop().await;
    }

    async fn an_image_is_fetched_with_the_token_and_one_over_the_cap_keeps_its_caption(engine) {
        let wa = whatsapp_with(engine, |s| s.providers.max_media_bytes = 4096).await;
        let photo: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
        wa.fake.add_media("1003383421387256", photo.clone(), "image/jpeg");
        wa.fake.add_media("1003383421387257", vec![7u8; 5000], "image/jpeg");
        let image = |wamid: &str, media: &str, caption: &str| json!({
            "from": CUSTOMER, "id": wamid, "timestamp": now_secs().to_string(), "type": "image",
            "image": {"caption": caption, "mime_type": "image/jpeg", "sha256": "x", "id": media}});
        wa.deliver(&notification(vec![image("wamid.img-1", "1003383421387256", "The broken part")])).await.expect_status(200);
        wa.deliver(&notification(vec![image("wamid.img-2", "1003383421387257", "And the box")])).await.expect_status(200);
        assert_eq!(wa.fake.downloads(), ["1003383421387256", "1003383421387257"], "asked for with the token");

        let (_, thread) = wa.only_thread().await;
        let first = thread.iter().find(|m| m["external_id"] == "wamid.img-1").unwrap();
        assert_eq!(first["text"], "The broken part");
        assert_eq!(first["attachments"][0]["content_type"], "image/jpeg");
        let file = wa.app.http
            .get(format!("{}/api/v1/attachments/{}", wa.app.url, first["attachments"][0]["id"]))
            .bearer_auth(&wa.app.token).send().await.unwrap().bytes().await.unwrap();
        assert_eq!(file.to_vec(), photo);

        let second = thread.iter().find(|m| m["external_id"] == "wamid.img-2").unwrap();
        assert_eq!(second["text"], "And the box", "the words survive a file too large to keep");
        assert_eq!(second["attachments"], json!([]));
        assert_eq!(second["meta"]["whatsapp"]["media"]["kept"], false);
        assert!(second["meta"]["whatsapp"]["media"]["why_not_kept"].as_str().unwrap().contains("4096"));
        wa.app.stop().await;
    }

    async fn a_notification_delivered_again_or_fifty_times_at_once_is_one_message(engine) {
        let wa = whatsapp(engine).await;
        let payload = notification(vec![text("wamid.again", "Is anyone there?", now_secs())]);
        wa.deliver(&payload).await.expect_status(200);
        wa.deliver(&payload).await.expect_status(200);
        let storm = notification(vec![text("wamid.storm", "Hello hello", now_secs())]);
        let calls = (0..50).map(|_| wa.deliver(&storm));
        for reply in futures::future::join_all(calls).await {
            assert_eq!(reply.status, 200, "{}", reply.text);
        }
        let (_, thread) = wa.only_thread().await;
        let ids: Vec<_> = thread.iter().map(|m| m["external_id"].as_str().unwrap().to_string()).collect();
        assert_eq!(ids, ["wamid.again", "wamid.storm"]);
        wa.app.stop().await;
    }

    async fn a_reply_in_the_window_reaches_the_customer_and_statuses_move_it_forward(engine) {
        let wa = whatsapp(engine).await;
        wa.deliver(&notification(vec![text("wamid.in-1", "Where is my order?", now_secs())])).await.expect_status(200);
        let (conversation, _) = wa.only_thread().await;
        let reply = wa.reply(conversation, json!({"text": "It ships today!"})).await.expect_status(201).json;
        let reply_id = reply["id"].as_i64().unwrap();
        let settled = wa.app.settled_message(conversation, reply_id).await;
        assert_eq!(settled["status"], "sent");
        assert_eq!(settled["external_id"], "wamid.fake-out-1");
        let sent = wa.fake.sent();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0]["to"], CUSTOMER);
        assert_eq!(sent[0]["type"], "text");
        assert_eq!(sent[0]["text"]["body"], "It ships today!");

        wa.deliver(&statuses(vec![status("wamid.fake-out-1", "delivered")])).await.expect_status(200);
        wa.message_reaches(conversation, reply_id, "delivered").await;
        wa.deliver(&statuses(vec![status("wamid.fake-out-1", "read")])).await.expect_status(200);
        wa.message_reaches(conversation, reply_id, "read").await;
        wa.deliver(&statuses(vec![status("wamid.fake-out-1", "sent")])).await.expect_status(200);
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        wa.message_reaches(conversation, reply_id, "read").await;
        wa.app.stop().await;
    }

    async fn outside_the_window_only_an_approved_template_goes(engine) {
        let wa = whatsapp(engine).await;
        wa.fake.add_template("order_update", "en_US", "Hi {{1}}, your order {{2}} has shipped.");
        wa.fake.add_template("feedback", "es", "¿Qué tal fue todo?");
        wa.fake.add_pending_template("spring_sale");
        let yesterday = now_secs() - 25 * 3600;
        wa.deliver(&notification(vec![text("wamid.old", "Thanks!", yesterday)])).await.expect_status(200);
        let (conversation, _) = wa.only_thread().await;

        let refused = wa.reply(conversation, json!({"text": "Anything else?"})).await.expect_status(422);
        let why = refused.json["error"]["message"].as_str().unwrap();
        assert!(why.contains("more than 24 hours"), "{why}");
        assert!(why.contains("order_update (en_US)") && why.contains("feedback (es)"), "{why}");
        assert!(!why.contains("spring_sale"), "only approved templates are offered: {why}");
        assert!(wa.fake.sent().is_empty());

        let listed = wa.app.get(&format!("/api/v1/inboxes/{}/templates", wa.inbox), Some(&wa.app.token))
            .await.expect_status(200).json;
        assert_eq!(listed[0], json!({"name": "order_update", "language": "en_US", "category": "UTILITY",
                                     "body": "Hi {{1}}, your order {{2}} has shipped.", "parameters": 2}));
        assert_eq!(listed.as_array().unwrap().len(), 2);

        wa.reply(conversation, json!({"text": "", "template": {"name": "order_update", "language": "en_US",
                                                                 "parameters": ["Sheena"]}}))
            .await.expect_status(422);
        let sent = wa.reply(conversation, json!({"text": "", "template": {"name": "order_update", "language": "en_US",
                                                                        "parameters": ["Sheena", "#1234"]}}))
            .await.expect_status(201).json;
        assert_eq!(sent["text"], "Hi Sheena, your order #1234 has shipped.");
        let settled = wa.app.settled_message(conversation, sent["id"].as_i64().unwrap()).await;
        assert_eq!(settled["status"], "sent", "{settled}");
        let out = &wa.fake.sent()[0];
        assert_eq!(out["type"], "template");
        assert_eq!(out["template"]["name"], "order_update");
        assert_eq!(out["template"]["language"]["code"], "en_US");
        assert_eq!(out["template"]["components"][0]["parameters"][1], json!({"type": "text", "text": "#1234"}));
        wa.app.stop().await;
    }

    async fn a_throttled_send_is_retried_and_delivered_once(engine) {
        let wa = whatsapp(engine).await;
        wa.deliver(&notification(vec![text("wamid.in-t", "Hi", now_secs())])).await.expect_status(200);
        let (conversation, _) = wa.only_thread().await;
        wa.fake.refuse_next(Refusal::TooManyRequests { retry_after: 1 });
        wa.fake.refuse_next(Refusal::Meta { status: 400, code: 131056,
            message: "(#131056) (Business Account, Consumer Account) pair rate limit hit".into() });
        let started = std::time::Instant::now();
        let reply = wa.reply(conversation, json!({"text": "One moment"})).await.expect_status(201).json;
        let settled = wa.app.settled_message(conversation, reply["id"].as_i64().unwrap()).await;
        assert_eq!(settled["status"], "sent", "{settled}");
        assert!(started.elapsed() >= std::time::Duration::from_secs(1), "Retry-After was honoured");
        assert_eq!(wa.fake.attempts(), 3);
        assert_eq!(wa.fake.sent().len(), 1, "delivered once");
        wa.deliver(&statuses(vec![status("wamid.fake-out-1", "delivered")])).await.expect_status(200);
        wa.message_reaches(conversation, reply["id"].as_i64().unwrap(), "delivered").await;
        wa.app.stop().await;
    }

    async fn metas_re_engagement_refusal_fails_the_reply_saying_why(engine) {
        let wa = whatsapp(engine).await;
        wa.deliver(&notification(vec![text("wamid.in-r", "Hi", now_secs())])).await.expect_status(200);
        let (conversation, _) = wa.only_thread().await;
        wa.fake.refuse_next(Refusal::Meta { status: 400, code: 131047, message: "(#131047) Re-engagement message".into() });
        let reply = wa.reply(conversation, json!({"text": "Still there?"})).await.expect_status(201).json;
        let settled = wa.app.settled_message(conversation, reply["id"].as_i64().unwrap()).await;
        assert_eq!(settled["status"], "failed");
        assert!(settled["error"].as_str().unwrap().contains("more than 24 hours"), "{settled}");
        assert_eq!(wa.fake.attempts(), 1, "not retried");
        wa.app.stop().await;
    }

    async fn notes_need_no_window_and_templates_are_for_whatsapp_members(engine) {
        let wa = whatsapp(engine).await;
        wa.fake.add_template("order_update", "en_US", "Hi {{1}}");
        wa.deliver(&notification(vec![text("wamid.old-n", "Bye", now_secs() - 30 * 3600)])).await.expect_status(200);
        let (conversation, _) = wa.only_thread().await;
        wa.reply(conversation, json!({"text": "Customer asked for a callback", "private": true})).await.expect_status(201);
        wa.reply(conversation, json!({"text": "x", "private": true,
                                      "template": {"name": "order_update", "language": "en_US", "parameters": ["A"]}}))
            .await.expect_status(422);

        let (member, member_token) = wa.app.user_with_role("ana@example.com", "Ana Agent", "agent").await;
        let (_, outsider) = wa.app.user_with_role("otto@example.com", "Otto Outside", "agent").await;
        wa.app.add_member(wa.inbox, member["id"].as_i64().unwrap()).await;
        let path = format!("/api/v1/inboxes/{}/templates", wa.inbox);
        let listed = wa.app.get(&path, Some(&member_token)).await.expect_status(200).json;
        assert_eq!(listed[0]["name"], "order_update");
        wa.app.get(&path, Some(&outsider)).await.expect_status(403);
        wa.app.get(&path, None).await.expect_status(401);

        let (api_inbox, _) = wa.app.api_inbox("CRM", None).await;
        let written = wa.app.customer_writes(api_inbox, "c-1", "crm-1", "hello").await.expect_status(201).json;
        let api_conversation = written["conversation_id"].as_i64().unwrap();
        let refused = wa.reply(api_conversation, json!({"text": "", "template": {"name": "order_update", "language": "en_US"}}))
            .await.expect_status(422);
        assert!(refused.text.contains("WhatsApp conversations only"), "{}", refused.text);
        let none = wa.app.get(&format!("/api/v1/inboxes/{api_inbox}/templates"), Some(&wa.app.token)).await.expect_status(200).json;
        assert_eq!(none, json!([]));
        wa.app.stop().await;
    }

    async fn a_failed_status_fails_the_reply_with_metas_words(engine) {
        let wa = whatsapp(engine).await;
        wa.deliver(&notification(vec![text("wamid.in-f", "Hi", now_secs())])).await.expect_status(200);
        let (conversation, _) = wa.only_thread().await;
        let reply = wa.reply(conversation, json!({"text": "Here you go"})).await.expect_status(201).json;
        let reply_id = reply["id"].as_i64().unwrap();
        wa.app.settled_message(conversation, reply_id).await;
        let mut failed = status("wamid.fake-out-1", "failed");
        failed["errors"] = json!([{"code": 131026, "title": "Message undeliverable",
                                   "message": "Message undeliverable",
                                   "error_data": {"details": "Message Undeliverable."}}]);
        wa.deliver(&statuses(vec![failed])).await.expect_status(200);
        let settled = wa.message_reaches(conversation, reply_id, "failed").await;
        assert!(settled["error"].as_str().unwrap().contains("131026"), "{settled}");
        wa.app.stop().await;
    }
}
