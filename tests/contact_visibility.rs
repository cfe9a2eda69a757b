//! Contacts are seen through inboxes: an agent sees the people who wrote in an inbox they are a
//! member of, never those seen only in other inboxes; owners and admins see every contact.

mod common;

use common::*;
use serde_json::{json, Value};

fn names(listing: &Value) -> Vec<String> {
    let mut names: Vec<String> = listing["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap_or("").to_string())
        .collect();
    names.sort();
    names
}

on_both_engines! {
    async fn an_agent_sees_only_the_contacts_of_their_inboxes(engine) {
        let app = spawn_app(engine).await;
        let (sales, _) = app.api_inbox("Sales", None).await;
        let (billing, _) = app.api_inbox("Billing", None).await;
        let (agent, agent_token) = app
            .user_with_role("sam@example.com", "Sam Sales", "agent")
            .await;
        app.add_member(sales, agent["id"].as_i64().unwrap()).await;
        let in_sales = app
            .customer_writes(sales, "Sally", "s-1", "a quote please")
            .await
            .expect_status(201)
            .json["conversation_id"]
            .as_i64()
            .unwrap();
        let in_billing = app
            .customer_writes(billing, "Bill", "b-1", "my invoice is wrong")
            .await
            .expect_status(201)
            .json["conversation_id"]
            .as_i64()
            .unwrap();
        let contact_of = |conversation: i64| {
            let app = &app;
            async move {
                app.get(&format!("/api/v1/conversations/{conversation}"), Some(&app.token))
                    .await
                    .expect_status(200)
                    .json["contact_id"]
                    .as_i64()
                    .unwrap()
            }
        };
        let sally = contact_of(in_sales).await;
        let bill = contact_of(in_billing).await;
        // A contact made by hand has no conversation: no inbox shows it.
        app.post("/api/v1/contacts", Some(&app.token), json!({"name": "Nobody Yet"}))
            .await
            .expect_status(201);

        let listing = app.get("/api/v1/contacts", Some(&agent_token)).await.expect_status(200);
        assert_eq!(names(&listing.json), ["Sally"]);
        app.get(&format!("/api/v1/contacts/{sally}"), Some(&agent_token))
            .await
            .expect_status(200);
        let refused = app.get(&format!("/api/v1/contacts/{bill}"), Some(&agent_token)).await;
        assert_eq!(refused.status, 403, "{}", refused.text);
        assert!(!refused.text.contains("Bill"), "{}", refused.text);

        // Nor does the change log tell the agent about the contact made by hand.
        let made = |token: &str| {
            let app = &app;
            let token = token.to_string();
            async move {
                app.get("/api/v1/events?limit=1000", Some(&token))
                    .await
                    .expect_status(200)
                    .json["events"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|e| e["kind"] == "contact.created")
                    .map(|e| e["payload"]["name"].as_str().unwrap_or("").to_string())
                    .collect::<Vec<_>>()
            }
        };
        assert!(!made(&agent_token).await.contains(&"Nobody Yet".to_string()));
        assert!(made(&app.token).await.contains(&"Nobody Yet".to_string()));

        let everyone = app.get("/api/v1/contacts", Some(&app.token)).await.expect_status(200);
        assert_eq!(names(&everyone.json), ["Bill", "Nobody Yet", "Sally"]);
        app.get(&format!("/api/v1/contacts/{bill}"), Some(&app.token))
            .await
            .expect_status(200);
        app.stop().await;
    }

    async fn paging_an_agents_contacts_skips_the_hidden_ones(engine) {
        let app = spawn_app(engine).await;
        let (mine, _) = app.api_inbox("Mine", None).await;
        let (theirs, _) = app.api_inbox("Theirs", None).await;
        let (agent, agent_token) = app
            .user_with_role("pat@example.com", "Pat Pager", "agent")
            .await;
        app.add_member(mine, agent["id"].as_i64().unwrap()).await;
        for n in 0..3 {
            app.customer_writes(theirs, &format!("hidden-{n}"), &format!("t-{n}"), "hi")
                .await
                .expect_status(201);
            app.customer_writes(mine, &format!("shown-{n}"), &format!("m-{n}"), "hi")
                .await
                .expect_status(201);
        }
        let mut seen = Vec::new();
        let mut path = "/api/v1/contacts?limit=2".to_string();
        loop {
            let page = app.get(&path, Some(&agent_token)).await.expect_status(200).json;
            seen.extend(names(&page));
            match page["next_cursor"].as_str() {
                Some(cursor) => path = format!("/api/v1/contacts?limit=2&cursor={cursor}"),
                None => break,
            }
        }
        seen.sort();
        assert_eq!(seen, ["shown-0", "shown-1", "shown-2"]);
        app.stop().await;
    }
}

#[tokio::test]
async fn an_agent_cannot_write_as_a_customer_to_reach_a_contact_it_may_not_see() {
    let app = spawn_app(Engine::Sqlite).await;
    let (sales, _) = app.api_inbox("Sales", None).await;
    let (billing, _) = app.api_inbox("Billing", None).await;
    let (agent, agent_token) = app
        .user_with_role("sam@example.com", "Sam Sales", "agent")
        .await;
    app.add_member(sales, agent["id"].as_i64().unwrap()).await;
    let billed = app
        .post(
            &format!("/api/v1/inboxes/{billing}/messages"),
            Some(&app.token),
            json!({
            "contact": {"email": "ceo@customer.test", "name": "The CEO"},
            "external_id": "b-1", "text": "about our contract"}),
        )
        .await
        .expect_status(201)
        .json["conversation_id"]
        .as_i64()
        .unwrap();
    let ceo = app
        .get(&format!("/api/v1/conversations/{billed}"), Some(&app.token))
        .await
        .json["contact_id"]
        .as_i64()
        .unwrap();
    // The agent names the CEO's address in a message "from" the customer in its own inbox…
    app.post(
        &format!("/api/v1/inboxes/{sales}/messages"),
        Some(&agent_token),
        json!({
        "contact": {"email": "ceo@customer.test"}, "external_id": "s-1", "text": "hi"}),
    )
    .await
    .expect_status(403);
    // …and still cannot read the CEO's contact.
    app.get(&format!("/api/v1/contacts/{ceo}"), Some(&agent_token))
        .await
        .expect_status(403);
    app.stop().await;
}
