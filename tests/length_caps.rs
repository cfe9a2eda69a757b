//! Every text a client can store has a cap, and a value over it is answered with 422 naming the
//! field, before anything is stored: an anonymous visitor's 20 MiB name never reaches the
//! agents' conversation lists.

mod common;

use common::*;
use serde_json::{json, Value};
use switchboard::widget::identity::{identifier_hash, sign_jwt};

async fn visitor(app: &TestApp, chat: &WebChat) -> String {
    app.post(
        "/widget/v1/sessions",
        None,
        json!({"website_token": chat.website_token}),
    )
    .await
    .expect_status(200)
    .json["visitor_token"]
        .as_str()
        .unwrap()
        .to_string()
}

fn long(n: usize) -> String {
    "x".repeat(n)
}

/// Asserts a 422 whose message names `field` in backquotes.
fn refused_naming(reply: Reply, field: &str, what: &str) {
    let status = reply.status;
    let message = reply.json["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(status, 422, "{what}: {}", reply.json);
    assert!(message.contains(&format!("`{field}`")), "{what}: {message}");
}

on_both_engines! {
    async fn a_20_mib_prechat_name_is_refused_and_nothing_is_stored(engine) {
        let app = spawn_app(engine).await;
        let chat = app.web_chat_inbox().await;
        let token = visitor(&app, &chat).await;
        let posted = app
            .post(
                "/widget/v1/messages",
                Some(&token),
                json!({"client_id": "m1", "text": "hello", "prechat": {"name": long(20 * 1024 * 1024)}}),
            )
            .await;
        assert!(matches!(posted.status, 413 | 422), "{}", posted.status);
        if posted.status == 422 {
            assert_eq!(
                posted.json["error"]["message"],
                "`prechat.name` is longer than 200 characters"
            );
        }
        let conversations = app.get("/api/v1/conversations", Some(&app.token)).await.expect_status(200);
        assert_eq!(conversations.json["data"].as_array().unwrap().len(), 0, "no conversation");
        let contacts = app.get("/api/v1/contacts", Some(&app.token)).await.expect_status(200).json;
        for contact in contacts["data"].as_array().unwrap() {
            assert!(contact["name"].as_str().is_none_or(|n| n.len() <= 200), "{}", contact["id"]);
        }

        // A name at the cap goes through.
        app.post(
            "/widget/v1/messages",
            Some(&token),
            json!({"client_id": "m2", "text": "hello", "prechat": {"name": long(200)}}),
        )
        .await
        .expect_status(201);
        app.stop().await;
    }

    async fn every_text_a_client_stores_is_capped_and_the_field_named(engine) {
        let app = spawn_app_with(engine, |s| s.widget.requests_per_minute = 10_000).await;
        let chat = app.web_chat_inbox().await;
        let (api_inbox, _) = app.api_inbox("CRM", None).await;
        let token = visitor(&app, &chat).await;
        let (agent, _) = app.user_with_role("agent@example.com", "Agent", "agent").await;
        let agent_id = agent["id"].as_i64().unwrap();
        let hashed = |identifier: &str| identifier_hash(chat.secret.as_bytes(), identifier);
        let many: serde_json::Map<String, Value> = (0..51).map(|i| (format!("k{i}"), json!(i))).collect();

        // (what, route, body, the field the answer names)
        let widget_message = |prechat: Value| json!({"client_id": uuid_like(), "text": "hi", "prechat": prechat});
        let inbound = |mut overrides: Value| {
            let mut body = json!({"contact": {"identifier": "c1"}, "external_id": uuid_like(), "text": "hi"});
            if let Some(contact) = overrides.get_mut("contact").map(Value::take) {
                body["contact"] = contact;
            }
            for (k, v) in overrides.as_object().unwrap() {
                if k != "contact" {
                    body[k] = v.clone();
                }
            }
            body
        };
        let cases: Vec<(&str, String, Option<&str>, Value, &str)> = vec![
            ("visitor name", "/widget/v1/messages".into(), Some(&token), widget_message(json!({"name": long(201)})), "prechat.name"),
            ("visitor email", "/widget/v1/messages".into(), Some(&token), widget_message(json!({"email": format!("{}@example.org", long(300))})), "prechat.email"),
            ("pre-chat answer", "/widget/v1/messages".into(), Some(&token), widget_message(json!({"fields": {"company": long(2001)}})), "prechat.fields.company"),
            ("pre-chat key", "/widget/v1/messages".into(), Some(&token), widget_message(json!({"fields": {long(101): "x"}})), "prechat.fields key"),
            ("pre-chat answers", "/widget/v1/messages".into(), Some(&token), widget_message(json!({"fields": many})), "prechat.fields"),
            ("verified name", "/widget/v1/sessions".into(), None,
                json!({"website_token": chat.website_token, "identity": {"identifier": "u1", "identifier_hash": hashed("u1"), "name": long(201)}}), "identity.name"),
            ("verified email", "/widget/v1/sessions".into(), None,
                json!({"website_token": chat.website_token, "identity": {"identifier": "u1", "identifier_hash": hashed("u1"), "email": format!("{}@example.org", long(300))}}), "identity.email"),
            ("verified identifier", "/widget/v1/sessions".into(), None,
                json!({"website_token": chat.website_token, "identity": {"identifier": long(256), "identifier_hash": hashed(&long(256))}}), "identity.identifier"),
            ("login email", "/api/v1/auth/login".into(), None,
                json!({"email": format!("{}@example.org", long(1_000_000)), "password": "x"}), "email"),
            ("login password", "/api/v1/auth/login".into(), None,
                json!({"email": "owner@example.com", "password": long(1025)}), "password"),
            ("signed name", "/widget/v1/sessions".into(), None,
                json!({"website_token": chat.website_token, "identity": {"identifier": "u1", "jwt": sign_jwt(chat.secret.as_bytes(), &json!({"sub": "u1", "exp": 9_999_999_999_i64, "name": long(201)}))}}), "identity.jwt.name"),
            ("locale", "/widget/v1/sessions".into(), None,
                json!({"website_token": chat.website_token, "locale": long(36)}), "locale"),
            ("API contact identifier", format!("/api/v1/inboxes/{api_inbox}/messages"), Some(&app.token),
                inbound(json!({"contact": {"identifier": long(256)}})), "contact.identifier"),
            ("API contact name", format!("/api/v1/inboxes/{api_inbox}/messages"), Some(&app.token),
                inbound(json!({"contact": {"identifier": "c1", "name": long(201)}})), "contact.name"),
            ("API contact phone", format!("/api/v1/inboxes/{api_inbox}/messages"), Some(&app.token),
                inbound(json!({"contact": {"phone": long(65)}})), "contact.phone"),
            ("API subject", format!("/api/v1/inboxes/{api_inbox}/messages"), Some(&app.token),
                inbound(json!({"subject": long(999)})), "subject"),
            ("API thread key", format!("/api/v1/inboxes/{api_inbox}/messages"), Some(&app.token),
                inbound(json!({"thread_key": long(256)})), "thread_key"),
            ("API html", format!("/api/v1/inboxes/{api_inbox}/messages"), Some(&app.token),
                inbound(json!({"html": long(512 * 1024 + 1)})), "html"),
            ("contact name", "/api/v1/contacts".into(), Some(&app.token), json!({"name": long(201)}), "name"),
            ("contact phone", "/api/v1/contacts".into(), Some(&app.token), json!({"phone": long(65)}), "phone"),
            ("contact attribute", "/api/v1/contacts".into(), Some(&app.token), json!({"name": "A", "attributes": {"notes": long(2001)}}), "attributes.notes"),
            ("contact identity", "/api/v1/contacts".into(), Some(&app.token),
                json!({"identities": [{"namespace": "crm", "identifier": long(256)}]}), "identities[0].identifier"),
            ("user name", "/api/v1/users".into(), Some(&app.token),
                json!({"email": "new@example.com", "name": long(201), "role": "agent", "password": PASSWORD}), "name"),
            ("team name", "/api/v1/teams".into(), Some(&app.token), json!({"name": long(201)}), "name"),
            ("email signature", "/api/v1/inboxes".into(), Some(&app.token),
                json!({"name": "Mail", "kind": "email", "email": {"address": "help@example.com", "signature": long(10_001)}}), "email.signature"),
        ];
        for (what, path, auth, body, field) in cases {
            refused_naming(app.post(&path, auth, body).await, field, what);
        }
        for (what, method, path, body, field) in [
            ("agent skill", reqwest::Method::PUT, format!("/api/v1/users/{agent_id}/routing"),
                json!({"capacity": 3, "skills": [long(65)]}), "skills[0]"),
            ("inbox skill", reqwest::Method::PUT, format!("/api/v1/inboxes/{api_inbox}/routing"),
                json!({"mode": "manual", "skills": [long(65)]}), "skills[0]"),
            ("pre-chat label", reqwest::Method::PATCH, format!("/api/v1/inboxes/{}", chat.inbox),
                json!({"settings": {"prechat": {"enabled": true, "fields": [{"name": "company", "label": long(1001), "type": "text"}]}}}),
                "prechat.fields[0].label"),
            ("callback URL", reqwest::Method::PATCH, format!("/api/v1/inboxes/{api_inbox}"),
                json!({"settings": {"callback_url": format!("https://crm.example/{}", long(2048))}}), "callback_url"),
        ] {
            refused_naming(app.send(method, &path, Some(&app.token), body).await, field, what);
        }

        let conversations = app.get("/api/v1/conversations", Some(&app.token)).await.json;
        assert_eq!(conversations["data"].as_array().unwrap().len(), 0, "nothing was stored: {conversations}");
        app.stop().await;
    }
}
