//! A channel defined outside the hub, in its own folder (tests/support/echo_channel) and
//! registered with one line, is set up through the API with its own settings checks, receives a
//! customer message through its webhook and ingest, and sends an agent's reply through the
//! dispatcher, like the channels the hub ships.

mod common;
#[path = "support/echo_channel/mod.rs"]
mod echo_channel;

use common::*;
use echo_channel::{EchoChannel, Sent};
use serde_json::json;
use switchboard::channels::ChannelRegistry;

async fn app_with_echo(engine: Engine) -> (TestApp, Sent) {
    let (echo, sent) = EchoChannel::new();
    let app = spawn_app_with_channels(engine, ChannelRegistry::standard().with(echo)).await;
    (app, sent)
}

/// An echo inbox set up through the API: (inbox id, webhook token).
async fn echo_inbox(app: &TestApp, room: &str) -> (i64, String) {
    let created = app
        .post(
            "/api/v1/inboxes",
            Some(&app.token),
            json!({"name": "Echo room", "kind": "echo", "settings": {"room": room}}),
        )
        .await
        .expect_status(201)
        .json;
    assert_eq!(created["kind"], "echo");
    assert_eq!(created["settings"], json!({"room": room}));
    (
        created["id"].as_i64().unwrap(),
        created["secret"].as_str().unwrap().to_string(),
    )
}

async fn customer_echoes(app: &TestApp, inbox: i64, token: &str, id: &str, text: &str) -> Reply {
    Reply::from(
        app.http
            .post(format!("{}/hooks/echo/{inbox}", app.url))
            .header("x-echo-token", token)
            .json(&json!({"id": id, "from": "mina", "text": text}))
            .send()
            .await
            .unwrap(),
    )
    .await
}

on_both_engines! {
    async fn the_console_learns_each_channels_setup_form_from_the_hub(engine) {
        let (app, _) = app_with_echo(engine).await;
        let channels = app.get("/api/v1/channels", Some(&app.token)).await.expect_status(200).json;
        let kinds: Vec<_> = channels.as_array().unwrap().iter().map(|c| c["kind"].clone()).collect();
        assert_eq!(
            kinds,
            [json!("email"), json!("web_chat"), json!("api"), json!("sms"), json!("whatsapp"), json!("messenger"), json!("instagram"), json!("telegram"), json!("echo")]
        );
        let echo = channels.as_array().unwrap().iter().find(|c| c["kind"] == "echo").unwrap();
        assert_eq!(echo["label"], "Echo");
        assert_eq!(
            echo["fields"],
            json!([{"name": "room", "label": "Room", "type": "text", "required": true,
                    "secret": false, "help": "Lower-case letters only, at most 12."}])
        );
        let email = &channels[0]["fields"];
        let password = email.as_array().unwrap().iter().find(|f| f["name"] == "smtp_password").unwrap();
        assert_eq!((password["type"].clone(), password["secret"].clone()), (json!("password"), json!(true)));

        let (_, agent) = app.user_with_role("agent@example.com", "Avi Agent", "agent").await;
        app.get("/api/v1/channels", Some(&agent)).await.expect_status(403);
        app.stop().await;
    }

    async fn the_echo_channel_checks_its_own_settings(engine) {
        let (app, _) = app_with_echo(engine).await;
        for bad in [
            json!({"name": "Echo", "kind": "echo"}),
            json!({"name": "Echo", "kind": "echo", "settings": {"room": "Not A Room"}}),
            json!({"name": "Echo", "kind": "echo", "settings": {"room": "lobby", "colour": "red"}}),
            json!({"name": "Echo", "kind": "echo", "settings": {"room": "lobby"},
                   "callback_url": "http://127.0.0.1:9/cb"}),
        ] {
            app.post("/api/v1/inboxes", Some(&app.token), bad).await.expect_status(422);
        }
        let inboxes = app.get("/api/v1/inboxes", Some(&app.token)).await.json;
        assert_eq!(inboxes.as_array().unwrap().len(), 0, "a refused setup leaves nothing behind");
        app.stop().await;
    }

    async fn a_message_comes_in_through_the_echo_webhook_and_the_reply_goes_out_through_it(engine) {
        let (app, sent) = app_with_echo(engine).await;
        let (inbox, token) = echo_inbox(&app, "lobby").await;

        customer_echoes(&app, inbox, "echo-wrong", "m-1", "hello?").await.expect_status(401);
        let stored = customer_echoes(&app, inbox, &token, "m-1", "Is anyone there?")
            .await
            .expect_status(201)
            .json;
        let conversation = stored["conversation_id"].as_i64().unwrap();
        let again = customer_echoes(&app, inbox, &token, "m-1", "Is anyone there?").await.json;
        assert_eq!(again["message_id"], stored["message_id"], "ingest keeps it once");

        let listed = app
            .get(&format!("/api/v1/conversations?inbox={inbox}"), Some(&app.token))
            .await
            .expect_status(200)
            .json;
        assert_eq!(listed["data"][0]["id"], conversation);

        let reply = app
            .post(
                &format!("/api/v1/conversations/{conversation}/messages"),
                Some(&app.token),
                json!({"text": "Yes, Mina: how can I help?"}),
            )
            .await
            .expect_status(201)
            .json;
        let settled = app.settled_message(conversation, reply["id"].as_i64().unwrap()).await;
        assert_eq!(settled["status"], "sent");
        assert_eq!(settled["external_id"], "echo-out-1", "the channel's receipt is kept");

        let sent = sent.lock().unwrap().clone();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].text, "Yes, Mina: how can I help?");
        assert_eq!(sent[0].inbox_id, inbox);
        assert!(sent[0].recipient.iter().any(|i| i.namespace == "echo" && i.identifier == "mina"));
        app.stop().await;
    }

    async fn a_standard_channel_takes_its_fields_in_settings_as_the_console_sends_them(engine) {
        let app = spawn_app(engine).await;
        let email = json!({"address": "help@example.com",
                           "smtp": {"host": "127.0.0.1", "port": 2525, "security": "plain"}});
        let created = app
            .post(
                "/api/v1/inboxes",
                Some(&app.token),
                json!({"name": "Help", "kind": "email",
                       "settings": {"email": email, "smtp_password": "hunter22"}}),
            )
            .await
            .expect_status(201)
            .json;
        assert_eq!(created["settings"]["address"], "help@example.com");
        assert!(!created.to_string().contains("hunter22"), "a password is never shown");
        assert!(created["secret"].is_null());

        app.post(
            "/api/v1/inboxes",
            Some(&app.token),
            json!({"name": "Twice", "kind": "api", "callback_url": "http://127.0.0.1:9/a",
                   "settings": {"callback_url": "http://127.0.0.1:9/b"}}),
        )
        .await
        .expect_status(422);
        app.stop().await;
    }

    async fn an_inbox_whose_setup_cannot_be_written_whole_is_not_written_at_all(engine) {
        use switchboard::store::{NewInbox, NewInboxSetup};
        use switchboard_connector_core::ChannelKind;
        let app = spawn_app(engine).await;
        let setup = |name: &str| NewInboxSetup {
            inbox: NewInbox {
                workspace_id: app.workspace_id,
                name: name.into(),
                kind: ChannelKind::WebChat,
                settings: json!({"website_token": "wt_taken"}),
                sealed_secret: Some(b"sealed".to_vec()),
            },
            website_token: Some("wt_taken".into()),
        };
        let store = app.store();
        store.set_up_inbox(setup("First")).await.unwrap();
        // The website token is taken: the second inbox's own row must go with its token row.
        assert!(store.set_up_inbox(setup("Second")).await.is_err());
        let names: Vec<_> = store
            .list_inboxes(app.workspace_id, None)
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.name)
            .collect();
        assert_eq!(names, ["First"]);
        app.stop().await;
    }

    async fn provider_statuses_move_a_reply_forward_only_and_none_is_lost_to_a_race(engine) {
        use switchboard_connector_core::provider::{ProviderStatus, StatusUpdate};
        let (app, _) = app_with_echo(engine).await;
        let (inbox, token) = echo_inbox(&app, "lobby").await;
        let stored = customer_echoes(&app, inbox, &token, "m-1", "Hello").await.json;
        let conversation = stored["conversation_id"].as_i64().unwrap();
        let status = |id: &str, status, error: Option<&str>| StatusUpdate {
            provider_message_id: id.into(),
            status,
            error: error.map(Into::into),
        };
        // The provider calls back about its second message before the hub has recorded sending
        // it: the status waits and is applied when the send is.
        app.desk().provider_status(inbox, status("echo-out-2", ProviderStatus::Delivered, None)).await.unwrap();

        let path = format!("/api/v1/conversations/{conversation}/messages");
        let reply = |text: &str| app.post(&path, Some(&app.token), json!({ "text": text }));
        let first = reply("One").await.expect_status(201).json["id"].as_i64().unwrap();
        assert_eq!(app.settled_message(conversation, first).await["status"], "sent");
        let desk = app.desk();
        desk.provider_status(inbox, status("echo-out-1", ProviderStatus::Read, None)).await.unwrap();
        // Late and repeated callbacks move nothing back.
        desk.provider_status(inbox, status("echo-out-1", ProviderStatus::Delivered, None)).await.unwrap();
        desk.provider_status(inbox, status("echo-out-1", ProviderStatus::Failed, Some("30003"))).await.unwrap();
        let first = app.settled_message(conversation, first).await;
        assert_eq!((first["status"].clone(), first["error"].clone()), (json!("read"), json!(null)));

        let second = reply("Two").await.expect_status(201).json["id"].as_i64().unwrap();
        let mut seen = json!(null);
        for _ in 0..100 {
            seen = app.settled_message(conversation, second).await;
            if seen["status"] == "delivered" { break; }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(seen["status"], "delivered", "the early callback was kept: {seen}");

        // A status for another inbox's message changes nothing here.
        let third = reply("Three").await.expect_status(201).json["id"].as_i64().unwrap();
        app.settled_message(conversation, third).await;
        let (other, _) = echo_inbox(&app, "annex").await;
        desk.provider_status(other, status("echo-out-3", ProviderStatus::Failed, None)).await.unwrap();
        assert_eq!(app.settled_message(conversation, third).await["status"], "sent");
        desk.provider_status(inbox, status("echo-out-3", ProviderStatus::Failed, Some("unreachable"))).await.unwrap();
        let third = app.settled_message(conversation, third).await;
        assert_eq!((third["status"].clone(), third["error"].clone()), (json!("failed"), json!("unreachable")));
        app.stop().await;
    }
}
