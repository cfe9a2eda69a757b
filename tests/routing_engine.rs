//! The router in the real hub: conversations go to online agents by the inbox's policy, come
//! back when an agent leaves, drain when capacity frees, and two routers racing on PostgreSQL
//! never assign one conversation twice or an agent past capacity.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use switchboard::domain::PresenceStatus;
use switchboard::store::StoreOptions;

async fn online(app: &TestApp, user: i64) {
    app.app
        .as_ref()
        .unwrap()
        .state()
        .desk
        .set_presence(app.workspace_id, user, PresenceStatus::Online)
        .await
        .unwrap();
}

async fn offline(app: &TestApp, user: i64) {
    app.app
        .as_ref()
        .unwrap()
        .state()
        .desk
        .set_presence(app.workspace_id, user, PresenceStatus::Offline)
        .await
        .unwrap();
}

async fn agent(app: &TestApp, inbox: i64, email: &str, name: &str, capacity: i64) -> i64 {
    let (user, _) = app.user_with_role(email, name, "agent").await;
    let id = user["id"].as_i64().unwrap();
    app.add_member(inbox, id).await;
    app.send(
        reqwest::Method::PUT,
        &format!("/api/v1/users/{id}/routing"),
        Some(&app.token),
        json!({"capacity": capacity}),
    )
    .await
    .expect_status(200);
    id
}

async fn set_policy(app: &TestApp, inbox: i64, policy: Value) {
    app.send(
        reqwest::Method::PUT,
        &format!("/api/v1/inboxes/{inbox}/routing"),
        Some(&app.token),
        policy,
    )
    .await
    .expect_status(200);
}

/// Waits until the open conversations' assignees settle to what `check` wants.
async fn eventually(app: &TestApp, what: &str, check: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    for _ in 0..100 {
        let list = app
            .get(
                "/api/v1/conversations?status=open&limit=200",
                Some(&app.token),
            )
            .await
            .json;
        let data = list["data"].as_array().unwrap().clone();
        if check(&data) {
            return data;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never reached: {what}");
}

fn load(conversations: &[Value], agent: i64) -> usize {
    conversations
        .iter()
        .filter(|c| c["assignee_id"] == agent)
        .count()
}

on_both_engines! {
    async fn balanced_routing_spreads_conversations_over_online_agents(engine) {
        let app = spawn_app(engine).await;
        let (inbox, _) = app.api_inbox("Support", None).await;
        let ana = agent(&app, inbox, "ana@example.com", "Ana", 5).await;
        let ben = agent(&app, inbox, "ben@example.com", "Ben", 5).await;
        let cy = agent(&app, inbox, "cy@example.com", "Cy", 5).await; // stays offline
        set_policy(&app, inbox, json!({"mode": "balanced"})).await;
        online(&app, ana).await;
        online(&app, ben).await;
        for i in 0..4 {
            app.customer_writes(inbox, &format!("customer-{i}"), &format!("m{i}"), "help").await.expect_status(201);
        }
        let spread = eventually(&app, "two each", |c| load(c, ana) == 2 && load(c, ben) == 2).await;
        assert_eq!(load(&spread, cy), 0, "offline agents get nothing");
        let thread = app.get(&format!("/api/v1/conversations/{}/messages", spread[0]["id"]), Some(&app.token)).await.json;
        assert!(thread["data"].as_array().unwrap().iter().any(|m| m["direction"] == "activity"
            && m["text"].as_str().unwrap().starts_with("Routed to")), "the thread says who got it");

        // Ana leaves: her conversations go to whoever is online, with a line saying why.
        online(&app, cy).await;
        offline(&app, ana).await;
        let rerouted = eventually(&app, "Ana's conversations moved", |c| load(c, ana) == 0 && c.iter().all(|c| !c["assignee_id"].is_null())).await;
        assert_eq!(load(&rerouted, ben) + load(&rerouted, cy), 4);
        let mut found = false;
        for c in &rerouted {
            let thread = app.get(&format!("/api/v1/conversations/{}/messages", c["id"]), Some(&app.token)).await.json;
            found |= thread["data"].as_array().unwrap().iter().any(|m| m["text"] == "Re-routed: the agent went offline");
        }
        assert!(found, "a re-routed thread says why");
        app.stop().await;
    }

    async fn the_backlog_drains_when_capacity_frees(engine) {
        let app = spawn_app(engine).await;
        let (inbox, _) = app.api_inbox("Support", None).await;
        let ana = agent(&app, inbox, "ana@example.com", "Ana", 1).await;
        set_policy(&app, inbox, json!({"mode": "round_robin"})).await;
        online(&app, ana).await;
        let first = app.customer_writes(inbox, "first", "m1", "one").await.json["conversation_id"].as_i64().unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        let second = app.customer_writes(inbox, "second", "m2", "two").await.json["conversation_id"].as_i64().unwrap();
        eventually(&app, "Ana has one", |c| load(c, ana) == 1).await;
        let queue = app.get(&format!("/api/v1/queue?inbox={inbox}"), Some(&app.token)).await.expect_status(200).json;
        assert_eq!(queue[0]["conversation"]["id"], second);
        assert_eq!(queue[0]["position"], 1);

        app.send(reqwest::Method::PATCH, &format!("/api/v1/conversations/{first}"), Some(&app.token), json!({"status": "resolved"}))
            .await.expect_status(200);
        eventually(&app, "the second goes to Ana", |c| c.iter().any(|c| c["id"] == second && c["assignee_id"] == ana)).await;
        app.stop().await;
    }

    async fn manual_inboxes_are_never_routed_and_bad_policies_are_refused(engine) {
        let app = spawn_app(engine).await;
        let (inbox, _) = app.api_inbox("Queue", None).await;
        let ana = agent(&app, inbox, "ana@example.com", "Ana", 5).await;
        online(&app, ana).await;
        app.customer_writes(inbox, "c", "m1", "hi").await.expect_status(201);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let list = app.get("/api/v1/conversations", Some(&app.token)).await.json;
        assert!(list["data"][0]["assignee_id"].is_null(), "manual is the default: the queue keeps it");
        let bad = app.send(reqwest::Method::PUT, &format!("/api/v1/inboxes/{inbox}/routing"), Some(&app.token),
            json!({"mode": "balanced", "fair_limit": 3})).await;
        assert_eq!(bad.status, 422, "{}", bad.text);
        let unknown = app.send(reqwest::Method::PUT, &format!("/api/v1/inboxes/{inbox}/routing"), Some(&app.token),
            json!({"mode": "lottery"})).await;
        assert_eq!(unknown.status, 422, "{}", unknown.text);
        app.stop().await;
    }
}

/// 1,000 conversations arrive at once while two routers, each with its own connection pool,
/// race to assign them on one PostgreSQL database.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_routers_on_postgres_assign_each_conversation_once_within_capacity() {
    let db = TestDatabase::new(Engine::Postgres).await;
    let options = StoreOptions {
        max_connections: 8,
        ..Default::default()
    };
    let store_a = switchboard::store::open(&db.url, &options).await.unwrap();
    let store_b = switchboard::store::open(&db.url, &options).await.unwrap();
    let (ws, inbox) = workspace_with_inbox(&store_a).await;
    store_a
        .routing()
        .set_policy(ws.id, inbox.id, r#"{"mode":"balanced"}"#)
        .await
        .unwrap();
    let mut agents = Vec::new();
    for i in 0..20 {
        let user = store_a
            .create_user(switchboard::store::NewUser {
                workspace_id: ws.id,
                email: switchboard::domain::EmailAddress::parse(&format!("agent{i}@acme.example"))
                    .unwrap(),
                name: format!("Agent {i}"),
                role: switchboard::domain::Role::Agent,
                password_hash: "x".into(),
            })
            .await
            .unwrap();
        store_a
            .add_inbox_member(ws.id, inbox.id, user.id)
            .await
            .unwrap();
        store_a
            .routing()
            .set_agent(
                ws.id,
                switchboard::store::AgentRouting {
                    user_id: user.id,
                    capacity: 50,
                    skills: vec![],
                },
            )
            .await
            .unwrap();
        store_a
            .set_presence(ws.id, user.id, PresenceStatus::Online, 1)
            .await
            .unwrap();
        agents.push(user.id);
    }
    let bus: Arc<dyn switchboard::bus::EventBus> =
        Arc::new(switchboard::bus::InProcessBus::new(64));
    let router_a = switchboard::desk::Desk::new(store_a.clone(), bus.clone());
    let router_b = switchboard::desk::Desk::new(store_b.clone(), bus.clone());

    let arrivals = {
        let store = store_a.clone();
        tokio::spawn(async move {
            let ingest = switchboard::desk::Desk::new(
                store,
                Arc::new(switchboard::bus::InProcessBus::new(16)),
            );
            futures::stream::iter(0..1000)
                .map(|i| {
                    let ingest = ingest.clone();
                    async move {
                        let message = switchboard_connector_core::InboundMessage {
                            external_id: format!("m{i}"),
                            sender: switchboard_connector_core::InboundSender {
                                identities: vec![switchboard_connector_core::Identity::new(
                                    "test",
                                    format!("c{i}"),
                                )],
                                ..Default::default()
                            },
                            text: "help".into(),
                            html: None,
                            subject: None,
                            attachments: vec![],
                            thread_key: None,
                            ..Default::default()
                        };
                        ingest.ingest(ws.id, inbox.id, message).await.unwrap();
                    }
                })
                .buffer_unordered(32)
                .collect::<Vec<_>>()
                .await;
        })
    };
    use futures::StreamExt;
    let race = |router: switchboard::desk::Desk| {
        tokio::spawn(async move {
            let mut total = 0;
            for _ in 0..400 {
                total += router.route(ws.id).await.unwrap();
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            total
        })
    };
    let (a, b) = (race(router_a.clone()), race(router_b.clone()));
    arrivals.await.unwrap();
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    // Whatever is left after the race, a final pass from each.
    let rest = router_a.route(ws.id).await.unwrap() + router_b.route(ws.id).await.unwrap();
    assert_eq!(
        a + b + rest,
        1000,
        "each conversation assigned by exactly one router, once"
    );

    use sqlx::Connection;
    let mut pg = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let per_agent: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT assignee_id, COUNT(*) FROM conversations WHERE assignee_id IS NOT NULL GROUP BY assignee_id")
        .fetch_all(&mut pg).await.unwrap();
    assert_eq!(per_agent.len(), 20);
    assert!(
        per_agent.iter().all(|(_, n)| *n == 50),
        "every capacity respected: {per_agent:?}"
    );
    let (assignments, distinct): (i64, i64) =
        sqlx::query_as("SELECT COUNT(*), COUNT(DISTINCT conversation_id) FROM routing_assignments")
            .fetch_one(&mut pg)
            .await
            .unwrap();
    assert_eq!(
        (assignments, distinct),
        (1000, 1000),
        "no conversation assigned twice"
    );
    let unassigned: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM conversations WHERE assignee_id IS NULL")
            .fetch_one(&mut pg)
            .await
            .unwrap();
    assert_eq!(unassigned, 0);
    let _ = agents;
}
