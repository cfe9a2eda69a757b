//! Invitations and the agents' lifecycle as an admin lives it: invite by name, email and role,
//! the invited person follows their one-time link, chooses a password and is signed in; every
//! broken link (wrong, used, replaced, expired) is refused with one and the same answer; the
//! link never shows in a listing; with an email inbox that sends, the invitation arrives by
//! mail (a real Postfix); and a disabled agent's conversations go back to the queue.

mod common;
#[path = "common/mail_lab.rs"]
mod mail_lab;

use common::*;
use mail_lab::MailLab;
use serde_json::{json, Value};

const NEW_PASSWORD: &str = "my own new password";

async fn invite(app: &TestApp, token: &str, email: &str, role: &str) -> Reply {
    app.post(
        "/api/v1/invitations",
        Some(token),
        json!({"email": email, "name": "Nadia New", "role": role}),
    )
    .await
}

async fn accept(app: &TestApp, token: &str, password: &str) -> Reply {
    app.post(
        "/api/v1/auth/accept-invitation",
        None,
        json!({"token": token, "password": password}),
    )
    .await
}

async fn login(app: &TestApp, email: &str, password: &str) -> Reply {
    app.post(
        "/api/v1/auth/login",
        None,
        json!({"email": email, "password": password}),
    )
    .await
}

/// Every invitation of the test's database is past its expiry, as after 7 days.
async fn age_invitations(app: &TestApp, engine: Engine) {
    use sqlx::Connection;
    let sql = "UPDATE invitations SET expires_at = 1";
    match engine {
        Engine::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&app.db.url).await.unwrap();
            sqlx::query(sql).execute(&mut c).await.unwrap();
        }
        Engine::Postgres => {
            let mut c = sqlx::PgConnection::connect(&app.db.url).await.unwrap();
            sqlx::query(sql).execute(&mut c).await.unwrap();
        }
    }
}

fn token_in(answer: &Value) -> String {
    answer["token"]
        .as_str()
        .expect("the link's token")
        .to_string()
}

on_both_engines! {
    async fn an_invited_agent_follows_the_link_sets_a_password_and_is_signed_in(engine) {
        let app = spawn_app(engine).await;
        let sent = invite(&app, &app.token, "nadia@example.com", "agent").await.expect_status(201).json;
        assert_eq!(sent["mailed"], false, "no email inbox: the link is handed to the admin");
        assert_eq!(sent["user"]["invited"], true);
        let token = token_in(&sent);
        let link = sent["link"].as_str().unwrap();
        assert!(link.ends_with(&format!("/#/invitation/{token}")), "{link}");
        // No password works before the invitation is accepted.
        assert_eq!(login(&app, "nadia@example.com", "").await.status, 401);
        assert_eq!(login(&app, "nadia@example.com", NEW_PASSWORD).await.status, 401);

        // A password that breaks the rules is refused without using the link up.
        assert_eq!(accept(&app, &token, "short").await.status, 422);
        let signed_in = accept(&app, &token, NEW_PASSWORD).await.expect_status(200).json;
        let session = signed_in["token"].as_str().unwrap();
        let me = app.get("/api/v1/me", Some(session)).await.expect_status(200).json;
        assert_eq!(me["user"]["email"], "nadia@example.com");
        assert_eq!(me["user"]["role"], "agent");
        assert_eq!(me["user"]["invited"], false);
        login(&app, "nadia@example.com", NEW_PASSWORD).await.expect_status(200);
        app.stop().await;
    }

    async fn wrong_used_replaced_and_expired_links_are_refused_alike(engine) {
        let app = spawn_app(engine).await;
        let used = token_in(&invite(&app, &app.token, "used@example.com", "agent").await.expect_status(201).json);
        accept(&app, &used, NEW_PASSWORD).await.expect_status(200);
        let first = invite(&app, &app.token, "twice@example.com", "agent").await.expect_status(201).json;
        let replaced = token_in(&first);
        let user_id = first["user"]["id"].as_i64().unwrap();
        let again = app.post(&format!("/api/v1/users/{user_id}/invitation"), Some(&app.token), json!({}))
            .await.expect_status(200).json;
        let current = token_in(&again);
        assert_ne!(current, replaced);
        let (selector, _) = current.split_once('.').unwrap();
        let wrong_verifier = format!("{selector}.{}", "A".repeat(43));

        let mut refusals = Vec::new();
        for token in [used.clone(), replaced, wrong_verifier, "sbi_nothing.here".into(), "garbage".into()] {
            refusals.push((token.clone(), accept(&app, &token, NEW_PASSWORD).await));
        }
        age_invitations(&app, engine).await;
        refusals.push((current.clone(), accept(&app, &current, NEW_PASSWORD).await));
        let (_, model) = &refusals[0];
        assert_eq!(model.status, 401);
        assert!(model.text.contains("invitation link does not work"), "{}", model.text);
        // A code of its own, so the console can say it in the visitor's language.
        assert_eq!(model.json["error"]["code"], "invitation_invalid", "{}", model.text);
        for (token, reply) in &refusals {
            assert_eq!((reply.status, &reply.text), (model.status, &model.text), "{token}: not the same answer");
        }
        // The used one's owner signs in with the password they chose, and the refusals
        // changed nothing for them.
        login(&app, "used@example.com", NEW_PASSWORD).await.expect_status(200);
        app.stop().await;
    }

    async fn who_may_invite_and_to_what(engine) {
        let app = spawn_app(engine).await;
        let (_, agent) = app.user_with_role("agent@example.com", "Agnes Agent", "agent").await;
        let (_, admin) = app.user_with_role("admin@example.com", "Adam Admin", "admin").await;
        let (active, _) = app.user_with_role("active@example.com", "Arne Active", "agent").await;
        assert_eq!(invite(&app, &agent, "x@example.com", "agent").await.status, 403, "an agent cannot invite");
        let refused = invite(&app, &admin, "boss@example.com", "owner").await;
        assert_eq!(refused.status, 403, "an admin cannot invite an owner: {}", refused.text);
        invite(&app, &admin, "helper@example.com", "admin").await.expect_status(201);
        assert_eq!(invite(&app, &admin, "active@example.com", "agent").await.status, 409, "the email is taken");
        let id = active["id"].as_i64().unwrap();
        let resend = app.post(&format!("/api/v1/users/{id}/invitation"), Some(&admin), json!({})).await;
        assert_eq!(resend.status, 409, "an active user has no invitation to resend: {}", resend.text);
        assert_eq!(app.post(&format!("/api/v1/users/{id}/invitation"), Some(&agent), json!({})).await.status, 403);
        // An invitation for an owner is the owner's to send.
        invite(&app, &app.token, "second-owner@example.com", "owner").await.expect_status(201);
        app.stop().await;
    }

    async fn the_link_is_never_in_a_listing(engine) {
        let app = spawn_app(engine).await;
        let (inbox, _) = app.api_inbox("Support", None).await;
        let sent = invite(&app, &app.token, "nadia@example.com", "agent").await.expect_status(201).json;
        let token = token_in(&sent);
        let (selector, verifier) = token.trim_start_matches("sbi_").split_once('.').unwrap();
        app.add_member(inbox, sent["user"]["id"].as_i64().unwrap()).await;
        for path in ["/api/v1/users".to_string(), format!("/api/v1/inboxes/{inbox}/members"),
                     "/api/v1/audit-log".into(), "/api/v1/events".into()] {
            let listing = app.get(&path, Some(&app.token)).await.expect_status(200);
            assert!(listing.text.contains("nadia@example.com") || !path.contains("users"), "{path}: {}", listing.text);
            for secret in [selector, verifier] {
                assert!(!listing.text.contains(secret), "{path} shows the link: {}", listing.text);
            }
        }
        let users = app.get("/api/v1/users", Some(&app.token)).await.json;
        let nadia = users.as_array().unwrap().iter().find(|u| u["email"] == "nadia@example.com").unwrap();
        assert_eq!(nadia["invited"], true);
        app.stop().await;
    }

    async fn an_invitation_is_mailed_through_the_workspaces_email_inbox(engine) {
        let lab = MailLab::start(None);
        lab.run("adduser", &["nadia@customer.test", "nadia-pass"]);
        let app = spawn_app_with(engine, |s| {
            s.server.public_url = "https://hub.example".into();
            s.routing.enabled = false;
        }).await;
        app.post("/api/v1/inboxes", Some(&app.token), json!({"name": "Support mail", "kind": "email",
            "email": {"address": "support@support.test", "display_name": "Acme Support",
                      "smtp": {"host": "127.0.0.1", "port": lab.smtp_port, "security": "plain"}}}))
            .await.expect_status(201);
        let sent = invite(&app, &app.token, "nadia@customer.test", "agent").await.expect_status(201).json;
        assert_eq!(sent["mailed"], true, "{sent}");
        assert!(sent["link"].is_null() && sent["token"].is_null(), "a mailed link is not shown: {sent}");

        let mail = lab.wait_for_mail("nadia@customer.test", 1).await.remove(0);
        let parsed = switchboard_connector_email::parse_mail(mail.as_bytes(), &switchboard_connector_email::ParseContext {
            tags: &switchboard_connector_email::ThreadTags::new(b"other".to_vec()), own_addresses: &[] });
        assert_eq!(parsed.message.subject.as_deref(), Some("Olive Owner invited you to Switchboard"));
        assert!(mail_lab::header(&mail, "From").unwrap().contains("support@support.test"), "{mail}");
        assert!(mail_lab::header(&mail, "Auto-Submitted").is_some(), "nobody's auto-reply answers it: {mail}");
        let text = parsed.message.text;
        let start = text.find("https://hub.example/#/invitation/").expect("the link is in the mail");
        let link: String = text[start..].chars().take_while(|c| !c.is_whitespace()).collect();
        let token = link.rsplit('/').next().unwrap();
        let signed_in = accept(&app, token, NEW_PASSWORD).await.expect_status(200).json;
        assert_eq!(signed_in["user"]["email"], "nadia@customer.test");
        app.stop().await;
    }

    async fn a_disabled_agents_open_conversations_go_back_to_the_queue(engine) {
        let app = spawn_app_with(engine, |s| s.routing.enabled = false).await;
        let (inbox, _) = app.api_inbox("Support", None).await;
        let (agent, _) = app.user_with_role("ana@example.com", "Ana Agent", "agent").await;
        let ana = agent["id"].as_i64().unwrap();
        app.add_member(inbox, ana).await;
        let mut conversations = Vec::new();
        for n in 0..3 {
            let message = app.customer_writes(inbox, &format!("customer-{n}"), &format!("m-{n}"), "Hello?").await
                .expect_status(201).json;
            let id = message["conversation_id"].as_i64().unwrap();
            app.post(&format!("/api/v1/conversations/{id}/assignment"), Some(&app.token), json!({"assignee_id": ana}))
                .await.expect_status(200);
            conversations.push(id);
        }
        let resolved = conversations[2];
        app.send(reqwest::Method::PATCH, &format!("/api/v1/conversations/{resolved}"), Some(&app.token),
            json!({"status": "resolved"})).await.expect_status(200);
        let before = app.get("/api/v1/events?limit=1000", Some(&app.token)).await.json["last_seq"].as_i64().unwrap();

        app.send(reqwest::Method::PATCH, &format!("/api/v1/users/{ana}"), Some(&app.token), json!({"disabled": true}))
            .await.expect_status(200);

        for id in &conversations[..2] {
            let c = app.get(&format!("/api/v1/conversations/{id}"), Some(&app.token)).await.json;
            assert!(c["assignee_id"].is_null(), "back in the queue: {c}");
            let thread = app.get(&format!("/api/v1/conversations/{id}/messages"), Some(&app.token)).await.json;
            assert!(thread["data"].as_array().unwrap().iter()
                .any(|m| m["direction"] == "activity" && m["text"].as_str().unwrap().contains("the agent was disabled")),
                "the thread says why: {thread}");
        }
        let kept = app.get(&format!("/api/v1/conversations/{resolved}"), Some(&app.token)).await.json;
        assert_eq!(kept["assignee_id"], ana, "a resolved conversation keeps who solved it");
        // Consoles heard it: the change went out as events.
        let events = app.get(&format!("/api/v1/events?after={before}&limit=1000"), Some(&app.token)).await.json;
        for id in &conversations[..2] {
            assert!(events["events"].as_array().unwrap().iter().any(|e| e["kind"] == "conversation.updated"
                && e["payload"]["id"] == *id && e["payload"]["assignee_id"].is_null()), "{events}");
        }
        app.stop().await;
    }

    async fn leaving_an_inbox_returns_that_inboxs_conversations_only(engine) {
        let app = spawn_app_with(engine, |s| s.routing.enabled = false).await;
        let (left, _) = app.api_inbox("Left", None).await;
        let (kept, _) = app.api_inbox("Kept", None).await;
        let (agent, agent_token) = app.user_with_role("ana@example.com", "Ana Agent", "agent").await;
        let ana = agent["id"].as_i64().unwrap();
        let mut ids = Vec::new();
        for inbox in [left, kept] {
            app.add_member(inbox, ana).await;
            let id = app.customer_writes(inbox, "carla", &format!("m-{inbox}"), "Hi").await
                .expect_status(201).json["conversation_id"].as_i64().unwrap();
            app.post(&format!("/api/v1/conversations/{id}/assignment"), Some(&app.token), json!({"assignee_id": ana}))
                .await.expect_status(200);
            ids.push(id);
        }
        let remove = format!("/api/v1/inboxes/{left}/members/{ana}");
        assert_eq!(app.send(reqwest::Method::DELETE, &remove, Some(&agent_token), json!({})).await.status, 403);
        app.send(reqwest::Method::DELETE, &remove, Some(&app.token), json!({})).await.expect_status(204);
        let members = app.get(&format!("/api/v1/inboxes/{left}/members"), Some(&app.token)).await.json;
        assert!(members.as_array().unwrap().iter().all(|u| u["id"] != ana), "{members}");
        assert_eq!(app.get(&format!("/api/v1/inboxes/{left}"), Some(&agent_token)).await.status, 403);
        let c = app.get(&format!("/api/v1/conversations/{}", ids[0]), Some(&app.token)).await.json;
        assert!(c["assignee_id"].is_null(), "{c}");
        let c = app.get(&format!("/api/v1/conversations/{}", ids[1]), Some(&app.token)).await.json;
        assert_eq!(c["assignee_id"], ana, "{c}");
        // Removing again is nothing to do.
        app.send(reqwest::Method::DELETE, &remove, Some(&app.token), json!({})).await.expect_status(204);
        app.stop().await;
    }

    async fn teams_are_renamed_and_lose_members(engine) {
        let app = spawn_app(engine).await;
        let (agent, agent_token) = app.user_with_role("ana@example.com", "Ana Agent", "agent").await;
        let ana = agent["id"].as_i64().unwrap();
        let team = app.post("/api/v1/teams", Some(&app.token), json!({"name": "Tier 1"})).await.expect_status(201).json;
        let id = team["id"].as_i64().unwrap();
        app.post("/api/v1/teams", Some(&app.token), json!({"name": "Tier 2"})).await.expect_status(201);
        app.post(&format!("/api/v1/teams/{id}/members"), Some(&app.token), json!({"user_id": ana})).await.expect_status(200);
        let rename = |name: &str| json!({"name": name});
        let path = format!("/api/v1/teams/{id}");
        assert_eq!(app.send(reqwest::Method::PATCH, &path, Some(&agent_token), rename("Mine")).await.status, 403);
        assert_eq!(app.send(reqwest::Method::PATCH, &path, Some(&app.token), rename("Tier 2")).await.status, 409);
        assert_eq!(app.send(reqwest::Method::PATCH, &path, Some(&app.token), rename("  ")).await.status, 422);
        let renamed = app.send(reqwest::Method::PATCH, &path, Some(&app.token), rename("Billing")).await.expect_status(200).json;
        assert_eq!(renamed["name"], "Billing");
        let member = format!("/api/v1/teams/{id}/members/{ana}");
        assert_eq!(app.send(reqwest::Method::DELETE, &member, Some(&agent_token), json!({})).await.status, 403);
        let after = app.send(reqwest::Method::DELETE, &member, Some(&app.token), json!({})).await.expect_status(200).json;
        assert_eq!(after["member_ids"], json!([]));
        assert_eq!(app.send(reqwest::Method::DELETE, "/api/v1/teams/999999/members/1", Some(&app.token), json!({})).await.status, 404);
        app.stop().await;
    }
}
