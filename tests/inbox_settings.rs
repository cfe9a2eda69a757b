//! What admins set on an inbox and what follows from it: assigning a conversation to whoever
//! replies first (the routing policy's `assign_on_reply`), the web chat inbox's embed snippet
//! on the inbox's own page, and widget settings refused field by field.

mod common;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};

/// An API inbox with a customer's conversation in it, and an agent who is a member.
struct Desk {
    inbox: i64,
    conversation: i64,
    agent_id: i64,
    agent: String,
}

async fn desk(app: &TestApp) -> Desk {
    let (inbox, _) = app.api_inbox("Support", None).await;
    let (user, agent) = app
        .user_with_role("ana@example.com", "Ana Agent", "agent")
        .await;
    let agent_id = user["id"].as_i64().unwrap();
    app.add_member(inbox, agent_id).await;
    let written = app
        .customer_writes(inbox, "reza", "m1", "Where is my order?")
        .await
        .expect_status(201)
        .json;
    Desk {
        inbox,
        conversation: written["conversation_id"].as_i64().unwrap(),
        agent_id,
        agent,
    }
}

async fn reply(app: &TestApp, d: &Desk, token: &str, body: Value) {
    app.post(
        &format!("/api/v1/conversations/{}/messages", d.conversation),
        Some(token),
        body,
    )
    .await
    .expect_status(201);
}

async fn assignee(app: &TestApp, d: &Desk) -> Value {
    app.get(
        &format!("/api/v1/conversations/{}", d.conversation),
        Some(&app.token),
    )
    .await
    .expect_status(200)
    .json["assignee_id"]
        .clone()
}

async fn events(app: &TestApp) -> Vec<Value> {
    app.get("/api/v1/events?limit=1000", Some(&app.token))
        .await
        .expect_status(200)
        .json["events"]
        .as_array()
        .unwrap()
        .clone()
}

async fn set_routing(app: &TestApp, inbox: i64, policy: Value) {
    app.send(
        Method::PUT,
        &format!("/api/v1/inboxes/{inbox}/routing"),
        Some(&app.token),
        policy,
    )
    .await
    .expect_status(200);
}

async fn patch_settings(app: &TestApp, inbox: i64, settings: Value) -> Reply {
    app.send(
        Method::PATCH,
        &format!("/api/v1/inboxes/{inbox}"),
        Some(&app.token),
        json!({ "settings": settings }),
    )
    .await
}

on_both_engines! {
    async fn a_reply_in_an_unassigned_conversation_assigns_it_to_the_agent_by_default(engine) {
        let app = spawn_app(engine).await;
        let d = desk(&app).await;
        let policy = app.get(&format!("/api/v1/inboxes/{}/routing", d.inbox), Some(&d.agent)).await.json;
        assert_eq!(policy["assign_on_reply"], true, "on by default: {policy}");
        assert_eq!(assignee(&app, &d).await, Value::Null);

        reply(&app, &d, &d.agent, json!({"text": "Let me look."})).await;

        assert_eq!(assignee(&app, &d).await, json!(d.agent_id));
        // Through the desk: the change was published, with the activity line consoles show.
        let events = events(&app).await;
        assert!(events.iter().any(|e| e["kind"] == "conversation.updated"
            && e["payload"]["id"] == d.conversation
            && e["payload"]["assignee_id"] == d.agent_id), "no assignment event in {events:?}");
        assert!(events.iter().any(|e| e["kind"] == "message.created"
            && e["payload"]["direction"] == "activity"
            && e["payload"]["text"].as_str().unwrap_or("").contains("Ana Agent")));
        app.stop().await;
    }

    async fn with_assign_on_reply_off_a_reply_leaves_the_conversation_unassigned(engine) {
        let app = spawn_app(engine).await;
        let d = desk(&app).await;
        set_routing(&app, d.inbox, json!({"mode": "manual", "assign_on_reply": false})).await;

        reply(&app, &d, &d.agent, json!({"text": "Let me look."})).await;

        assert_eq!(assignee(&app, &d).await, Value::Null);
        app.stop().await;
    }

    async fn a_private_note_does_not_assign(engine) {
        let app = spawn_app(engine).await;
        let d = desk(&app).await;

        reply(&app, &d, &d.agent, json!({"text": "Looks like a courier issue", "private": true})).await;

        assert_eq!(assignee(&app, &d).await, Value::Null);
        app.stop().await;
    }

    async fn a_reply_does_not_take_a_conversation_someone_else_has(engine) {
        let app = spawn_app(engine).await;
        let d = desk(&app).await;
        let (bo, bo_token) = app.user_with_role("bo@example.com", "Bo Agent", "agent").await;
        app.add_member(d.inbox, bo["id"].as_i64().unwrap()).await;
        app.post(
            &format!("/api/v1/conversations/{}/assignment", d.conversation),
            Some(&app.token),
            json!({"assignee_id": d.agent_id}),
        )
        .await
        .expect_status(200);

        reply(&app, &d, &bo_token, json!({"text": "Jumping in"})).await;

        assert_eq!(assignee(&app, &d).await, json!(d.agent_id));
        app.stop().await;
    }

    async fn the_inbox_page_carries_the_embed_snippet_for_admins_and_no_secret_for_anyone(engine) {
        let app = spawn_app(engine).await;
        let chat = app.web_chat_inbox().await;
        let (agent, agent_token) = app.user_with_role("ana@example.com", "Ana Agent", "agent").await;
        app.add_member(chat.inbox, agent["id"].as_i64().unwrap()).await;
        let path = format!("/api/v1/inboxes/{}", chat.inbox);

        let for_owner = app.get(&path, Some(&app.token)).await.expect_status(200);
        assert_eq!(for_owner.json["embed_snippet"], chat.embed_snippet.as_str());
        assert!(chat.embed_snippet.contains(&chat.website_token));

        let for_agent = app.get(&path, Some(&agent_token)).await.expect_status(200);
        assert!(for_agent.json.get("embed_snippet").is_none(), "{}", for_agent.text);
        // The identity-signing secret was shown once, at creation: never again, to anyone.
        for shown in [&for_owner.text, &for_agent.text] {
            assert!(!shown.contains(&chat.secret), "the secret leaked: {shown}");
            assert!(!shown.contains("secret"), "{shown}");
        }
        app.stop().await;
    }

    async fn bad_widget_settings_are_refused_field_by_field_and_nothing_changes(engine) {
        let app = spawn_app(engine).await;
        let chat = app.web_chat_inbox().await;
        let path = format!("/api/v1/inboxes/{}", chat.inbox);
        let before = app.get(&path, Some(&app.token)).await.json["settings"].clone();
        let with = |key: &str, value: Value| {
            let mut s = before.clone();
            s["greeting"] = json!("Changed, if anything were saved");
            s[key] = value;
            s
        };
        let field = |name: &str, kind: &str| json!({"name": name, "label": "L", "type": kind});
        let cases = [
            (
                with("prechat", json!({"enabled": true, "fields": [field("order", "text"), field("order", "email")]})),
                "settings.prechat.fields[1].name",
            ),
            (
                with("prechat", json!({"enabled": true, "fields": [field("topic", "select")]})),
                "settings.prechat.fields[0].options",
            ),
            (
                with("allowed_origins", json!(["https://shop.example", "https://shop.example/cart"])),
                "settings.allowed_origins[1]",
            ),
            (with("color", json!("#ffd400")), "settings.color"),
        ];
        for (settings, expected) in cases {
            let refused = patch_settings(&app, chat.inbox, settings).await.expect_status(422);
            assert_eq!(refused.json["error"]["code"], "unprocessable");
            assert_eq!(refused.json["error"]["field"], expected, "{}", refused.text);
        }
        let after = app.get(&path, Some(&app.token)).await.json["settings"].clone();
        assert_eq!(after, before, "a refused change left something behind");

        // The same settings made right are taken.
        let good = with("allowed_origins", json!(["https://shop.example"]));
        patch_settings(&app, chat.inbox, good).await.expect_status(200);
        app.stop().await;
    }

    async fn an_unused_inbox_is_deleted_but_one_with_conversations_is_kept(engine) {
        let app = spawn_app(engine).await;
        let d = desk(&app).await;
        let (unused, _) = app.api_inbox("Made by mistake", None).await;
        app.add_member(unused, d.agent_id).await;
        set_routing(&app, unused, json!({"mode": "round_robin"})).await;
        let path = |id: i64| format!("/api/v1/inboxes/{id}");

        app.send(Method::DELETE, &path(unused), Some(&d.agent), json!({})).await.expect_status(403);
        let kept = app.send(Method::DELETE, &path(d.inbox), Some(&app.token), json!({})).await.expect_status(409);
        assert!(kept.text.contains("has conversations"), "{}", kept.text);
        app.get(&format!("/api/v1/conversations/{}/messages", d.conversation), Some(&app.token))
            .await
            .expect_status(200);

        app.send(Method::DELETE, &path(unused), Some(&app.token), json!({})).await.expect_status(204);
        app.get(&path(unused), Some(&app.token)).await.expect_status(404);
        let listed = app.get("/api/v1/inboxes", Some(&app.token)).await.expect_status(200).json;
        let ids: Vec<i64> = listed.as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect();
        assert_eq!(ids, vec![d.inbox]);
        assert!(events(&app).await.iter().any(|e| e["kind"] == "inbox.updated"
            && e["inbox_id"] == unused && e["payload"]["change"] == "deleted"));
        let audit = app.get("/api/v1/audit-log", Some(&app.token)).await.expect_status(200).json;
        assert!(audit.to_string().contains("inbox.deleted"), "{audit}");
        app.send(Method::DELETE, &path(unused), Some(&app.token), json!({})).await.expect_status(404);
        app.stop().await;
    }

    async fn a_deleted_teams_conversations_stay_with_no_team(engine) {
        let app = spawn_app(engine).await;
        let d = desk(&app).await;
        let team = app.post("/api/v1/teams", Some(&app.token), json!({"name": "Tier 2"}))
            .await
            .expect_status(201)
            .json["id"]
            .as_i64()
            .unwrap();
        app.post(&format!("/api/v1/conversations/{}/assignment", d.conversation), Some(&app.token),
            json!({"assignee_id": null, "team_id": team})).await.expect_status(200);
        app.send(Method::DELETE, &format!("/api/v1/teams/{team}"), Some(&d.agent), json!({}))
            .await
            .expect_status(403);

        app.send(Method::DELETE, &format!("/api/v1/teams/{team}"), Some(&app.token), json!({}))
            .await
            .expect_status(204);
        let teams = app.get("/api/v1/teams", Some(&app.token)).await.expect_status(200).json;
        assert!(!teams.to_string().contains("Tier 2"), "{teams}");
        let conversation = app.get(&format!("/api/v1/conversations/{}", d.conversation), Some(&app.token))
            .await
            .expect_status(200)
            .json;
        assert!(conversation["team_id"].is_null(), "{conversation}");
        let last = events(&app).await.into_iter().rev()
            .find(|e| e["conversation_id"] == d.conversation).unwrap();
        assert_eq!(last["kind"], "conversation.updated");
        assert!(last["payload"]["team_id"].is_null(), "consoles hear the team is gone: {last}");
        app.send(Method::DELETE, &format!("/api/v1/teams/{team}"), Some(&app.token), json!({}))
            .await
            .expect_status(404);
        app.stop().await;
    }
}
