//! The API channel end to end: a system posts customer messages, agents read and answer them.

mod common;

use common::*;
use serde_json::json;

on_both_engines! {
    async fn a_customer_message_opens_a_conversation_that_agents_can_read(engine) {
        let app = spawn_app(engine).await;
        let (inbox, _) = app.api_inbox("CRM", None).await;

        let stored = app
            .post(
                &format!("/api/v1/inboxes/{inbox}/messages"),
                Some(&app.token),
                json!({
                    "contact": {"identifier": "cust-42", "name": "Dana", "email": "dana@example.org"},
                    "external_id": "crm-1",
                    "text": "My order has not arrived"
                }),
            )
            .await
            .expect_status(201)
            .json;
        let conversation = stored["conversation_id"].as_i64().unwrap();
        assert!(stored["id"].as_i64().unwrap() > 0);

        let thread = app
            .get(&format!("/api/v1/conversations/{conversation}/messages"), Some(&app.token))
            .await
            .expect_status(200)
            .json;
        let messages = thread["data"].as_array().unwrap();
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0]["text"], "My order has not arrived");
        assert_eq!(messages[0]["direction"], "incoming");

        let contact = app
            .get(&format!("/api/v1/conversations/{conversation}"), Some(&app.token))
            .await
            .json["contact_id"]
            .as_i64()
            .unwrap();
        let contact = app.get(&format!("/api/v1/contacts/{contact}"), Some(&app.token)).await.json;
        assert_eq!(contact["name"], "Dana");
        let namespaces: Vec<_> = contact["identities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["namespace"].as_str().unwrap().to_string())
            .collect();
        assert!(namespaces.contains(&format!("api:{inbox}")) && namespaces.contains(&"email".to_string()));
        app.stop().await;
    }

    async fn the_same_external_id_twice_answers_the_same_message(engine) {
        let app = spawn_app(engine).await;
        let (inbox, _) = app.api_inbox("CRM", None).await;
        let first = app.customer_writes(inbox, "cust-1", "ext-1", "hello").await.expect_status(201).json;
        let again = app.customer_writes(inbox, "cust-1", "ext-1", "hello").await.expect_status(200).json;
        assert_eq!(first["id"], again["id"]);
        let conversation = first["conversation_id"].as_i64().unwrap();
        let thread = app
            .get(&format!("/api/v1/conversations/{conversation}/messages"), Some(&app.token))
            .await
            .json;
        assert_eq!(thread["data"].as_array().unwrap().len(), 1);
        app.stop().await;
    }

    async fn fifty_concurrent_deliveries_of_one_message_store_it_once(engine) {
        let app = spawn_app(engine).await;
        let (inbox, _) = app.api_inbox("CRM", None).await;
        let posts = (0..50).map(|_| app.customer_writes(inbox, "cust-race", "ext-race", "only once"));
        let replies = futures::future::join_all(posts).await;
        let created = replies.iter().filter(|r| r.status == 201).count();
        assert!(replies.iter().all(|r| r.status == 201 || r.status == 200), "{:?}",
            replies.iter().map(|r| (r.status, r.text.clone())).collect::<Vec<_>>());
        assert_eq!(created, 1, "exactly one delivery creates the message");
        let ids: std::collections::HashSet<_> = replies.iter().map(|r| r.json["id"].as_i64().unwrap()).collect();
        assert_eq!(ids.len(), 1, "every delivery answers the same message");

        let conversations = app.get("/api/v1/conversations", Some(&app.token)).await.json;
        assert_eq!(conversations["data"].as_array().unwrap().len(), 1);
        let contacts = app.get("/api/v1/contacts", Some(&app.token)).await.json;
        assert_eq!(contacts["data"].as_array().unwrap().len(), 1);
        app.stop().await;
    }

    async fn fifty_concurrent_first_messages_from_one_person_make_one_contact(engine) {
        let app = spawn_app(engine).await;
        let (inbox, _) = app.api_inbox("CRM", None).await;
        let ids: Vec<String> = (0..50).map(|i| format!("m-{i}")).collect();
        let posts = ids.iter().map(|id| app.customer_writes(inbox, "newcomer", id, "hi"));
        let replies = futures::future::join_all(posts).await;
        assert!(replies.iter().all(|r| r.status == 201), "{:?}",
            replies.iter().filter(|r| r.status != 201).map(|r| r.text.clone()).collect::<Vec<_>>());
        let contacts = app.get("/api/v1/contacts", Some(&app.token)).await.json;
        assert_eq!(contacts["data"].as_array().unwrap().len(), 1, "one person, one contact");
        let conversations = app.get("/api/v1/conversations", Some(&app.token)).await.json;
        assert_eq!(conversations["data"].as_array().unwrap().len(), 1, "one open conversation");
        app.stop().await;
    }
}
