//! What the agents' console reads beyond the plain resources: list rows with who and what, view
//! counts, label filters, canned responses, and the console itself served by the binary.

mod common;

use common::*;
use serde_json::json;

on_both_engines! {
    async fn the_inbox_list_shows_who_wrote_what_and_how_much_is_unread(engine) {
        let app = spawn_app(engine).await;
        let (inbox, _) = app.api_inbox("Shop", None).await;
        let first = app.customer_writes(inbox, "reza", "m1", "سلام").await.expect_status(201).json;
        app.customer_writes(inbox, "reza", "m2", "Where is my order?").await.expect_status(201);
        let conversation = first["conversation_id"].as_i64().unwrap();
        app.post(
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(&app.token),
            json!({"text": "a note the customer never sees", "private": true}),
        )
        .await
        .expect_status(201);

        let list = app.get("/api/v1/conversations", Some(&app.token)).await.expect_status(200).json;
        let row = &list["data"][0];
        assert_eq!(row["id"], conversation, "conversation fields stay at the top level");
        assert_eq!(row["summary"]["contact_name"], "reza");
        assert_eq!(row["summary"]["last_message"], "Where is my order?", "notes are not the last message");
        assert_eq!(row["summary"]["unread"], 2);

        let long = "x".repeat(500);
        app.customer_writes(inbox, "reza", "m3", &long).await.expect_status(201);
        let list = app.get("/api/v1/conversations", Some(&app.token)).await.json;
        let preview = list["data"][0]["summary"]["last_message"].as_str().unwrap();
        assert_eq!(preview.chars().count(), 141, "cut to a preview with an ellipsis");
        app.stop().await;
    }

    async fn views_count_open_conversations_and_labels_filter_exactly(engine) {
        let app = spawn_app(engine).await;
        let (inbox, _) = app.api_inbox("Shop", None).await;
        let me = app.get("/api/v1/me", Some(&app.token)).await.json["user"]["id"].as_i64().unwrap();
        let mut ids = Vec::new();
        for (n, who) in ["ana", "bo", "cy"].iter().enumerate() {
            let m = app.customer_writes(inbox, who, &format!("e{n}"), "hi").await.expect_status(201).json;
            ids.push(m["conversation_id"].as_i64().unwrap());
        }
        app.post(&format!("/api/v1/conversations/{}/assignment", ids[0]), Some(&app.token), json!({"assignee_id": me}))
            .await
            .expect_status(200);
        app.send(reqwest::Method::PATCH, &format!("/api/v1/conversations/{}", ids[1]), Some(&app.token), json!({"labels": ["50%_off"]}))
            .await
            .expect_status(200);
        app.send(reqwest::Method::PATCH, &format!("/api/v1/conversations/{}", ids[2]), Some(&app.token), json!({"status": "resolved", "labels": ["50xxoff"]}))
            .await
            .expect_status(200);

        let counts = app.get("/api/v1/conversations/counts", Some(&app.token)).await.expect_status(200).json;
        assert_eq!(counts["mine"], 1);
        assert_eq!(counts["unassigned"], 1);
        assert_eq!(counts["all"], 2);
        assert_eq!(counts["by_inbox"], json!([[inbox, 2]]));
        assert_eq!(counts["by_status"], json!([["open", 2], ["resolved", 1]]));

        // LIKE wildcards in a label mean themselves: "50%_off" does not match "50xxoff".
        for status in ["open", "resolved"] {
            let found = app
                .get(&format!("/api/v1/conversations?label=50%25_off&status={status}"), Some(&app.token))
                .await
                .json;
            let found: Vec<i64> = found["data"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
            assert_eq!(found, if status == "open" { vec![ids[1]] } else { vec![] });
        }
        app.stop().await;
    }

    async fn activity_lines_carry_their_parts_so_a_console_can_translate_them(engine) {
        let app = spawn_app(engine).await;
        let (inbox, _) = app.api_inbox("Shop", None).await;
        let me = app.get("/api/v1/me", Some(&app.token)).await.json["user"].clone();
        let m = app.customer_writes(inbox, "reza", "a1", "hi").await.expect_status(201).json;
        let id = m["conversation_id"].as_i64().unwrap();
        app.post(&format!("/api/v1/conversations/{id}/assignment"), Some(&app.token), json!({"assignee_id": me["id"]}))
            .await
            .expect_status(200);
        app.send(reqwest::Method::PATCH, &format!("/api/v1/conversations/{id}"), Some(&app.token), json!({"status": "resolved"}))
            .await
            .expect_status(200);
        app.post(&format!("/api/v1/conversations/{id}/assignment"), Some(&app.token), json!({"assignee_id": null}))
            .await
            .expect_status(200);
        let thread = app.get(&format!("/api/v1/conversations/{id}/messages"), Some(&app.token)).await.expect_status(200).json;
        let lines: Vec<_> = thread["data"].as_array().unwrap().iter().filter(|m| m["direction"] == "activity").collect();
        let name = me["name"].as_str().unwrap();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0]["text"], format!("{name} assigned the conversation to {name}"), "the English sentence stays");
        assert_eq!(lines[0]["meta"]["activity"], json!({"kind": "assigned", "actor": name, "assignee": name}));
        assert_eq!(lines[1]["meta"]["activity"], json!({"kind": "status", "actor": name, "status": "resolved"}));
        assert_eq!(lines[2]["meta"]["activity"], json!({"kind": "unassigned", "actor": name}));
        app.stop().await;
    }

    async fn canned_responses_have_unique_short_codes(engine) {
        let app = spawn_app(engine).await;
        let create = |code: &str| {
            app.post("/api/v1/canned_responses", Some(&app.token), json!({"short_code": code, "content": "Thanks for waiting!"}))
        };
        create("thanks").await.expect_status(201);
        create("thanks").await.expect_status(409);
        create("two words").await.expect_status(422);
        let list = app.get("/api/v1/canned_responses", Some(&app.token)).await.expect_status(200).json;
        assert_eq!(list.as_array().unwrap().len(), 1);
        assert_eq!(list[0]["short_code"], "thanks");
        app.stop().await;
    }
}

#[tokio::test]
async fn the_console_and_the_widget_script_are_served_by_the_binary() {
    let app = spawn_app(Engine::Sqlite).await;
    let page = reqwest::get(format!("{}/", app.url)).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    let etag = page.headers()["etag"].clone();
    assert!(page.text().await.unwrap().contains("/console/app.js"));
    let again = reqwest::Client::new()
        .get(format!("{}/", app.url))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.status(),
        304,
        "unchanged assets are revalidated, not resent"
    );
    let script = reqwest::get(format!("{}/console/app.js", app.url))
        .await
        .unwrap();
    assert!(script.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert_eq!(
        reqwest::get(format!("{}/console/nope.js", app.url))
            .await
            .unwrap()
            .status(),
        404
    );
    let widget = reqwest::get(format!("{}/widget.js", app.url))
        .await
        .unwrap();
    assert_eq!(widget.status(), 200);
    assert_eq!(widget.headers()["access-control-allow-origin"], "*");
    app.stop().await;
}

#[tokio::test]
async fn a_site_on_another_origin_passes_the_widget_preflight() {
    let app = spawn_app(Engine::Sqlite).await;
    let preflight = reqwest::Client::new()
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/widget/v1/sessions", app.url),
        )
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    // Errors carry CORS headers too, or the widget could not read why it was refused.
    let refused = reqwest::Client::new()
        .get(format!("{}/widget/v1/conversations", app.url))
        .header("origin", "https://shop.example")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(
        refused.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    app.stop().await;
}
