//! What an agent keeps for themselves: personal canned responses beside the shared ones (only
//! owners and admins change those; another agent's personal ones do not exist for anyone else),
//! and their profile (display name, email signature).

mod common;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};

const CANNED: &str = "/api/v1/canned_responses";

async fn create(app: &TestApp, token: &str, body: Value) -> Reply {
    app.post(CANNED, Some(token), body).await
}

async fn codes(app: &TestApp, token: &str) -> Vec<(String, bool)> {
    app.get(CANNED, Some(token))
        .await
        .expect_status(200)
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["short_code"].as_str().unwrap().to_string(),
                c["shared"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn code(s: &str, shared: bool) -> (String, bool) {
    (s.to_string(), shared)
}

on_both_engines! {
    async fn personal_canned_responses_are_their_agents_alone(engine) {
        let app = spawn_app(engine).await;
        let (ana, ana_token) = app.user_with_role("ana@example.com", "Ana", "agent").await;
        let (_, bo_token) = app.user_with_role("bo@example.com", "Bo", "agent").await;
        let shared = create(&app, &app.token, json!({"short_code": "thanks", "content": "Thank you!", "shared": true}))
            .await.expect_status(201).json;
        assert_eq!(shared["shared"], true);
        assert!(shared["owner_id"].is_null());
        let mine = create(&app, &ana_token, json!({"short_code": "mine", "content": "Ana here.", "shared": false}))
            .await.expect_status(201).json;
        assert_eq!(mine["shared"], false);
        assert_eq!(mine["owner_id"], ana["id"]);
        // An agent who does not say which gets a personal one; an admin who does not, a shared one.
        let bare = create(&app, &ana_token, json!({"short_code": "bare", "content": "Hi"})).await.expect_status(201).json;
        assert_eq!(bare["shared"], false);
        let owners = create(&app, &app.token, json!({"short_code": "bye", "content": "Bye"})).await.expect_status(201).json;
        assert_eq!(owners["shared"], true);

        assert_eq!(codes(&app, &ana_token).await,
            vec![code("bare", false), code("bye", true), code("mine", false), code("thanks", true)]);
        assert_eq!(codes(&app, &bo_token).await, vec![code("bye", true), code("thanks", true)],
            "another agent sees only the shared ones");
        assert_eq!(codes(&app, &app.token).await, vec![code("bye", true), code("thanks", true)],
            "so does the owner: a personal response is not the workspace's");
        let listed = app.get(CANNED, Some(&bo_token)).await.text;
        assert!(!listed.contains("Ana here."), "{listed}");
        app.stop().await;
    }

    async fn agents_change_their_own_responses_and_no_one_elses(engine) {
        let app = spawn_app(engine).await;
        let (_, ana) = app.user_with_role("ana@example.com", "Ana", "agent").await;
        let (_, bo) = app.user_with_role("bo@example.com", "Bo", "agent").await;
        let (_, admin) = app.user_with_role("adam@example.com", "Adam", "admin").await;
        let shared = create(&app, &app.token, json!({"short_code": "thanks", "content": "Thank you!", "shared": true}))
            .await.expect_status(201).json["id"].as_i64().unwrap();
        let anas = create(&app, &ana, json!({"short_code": "mine", "content": "Ana here.", "shared": false}))
            .await.expect_status(201).json["id"].as_i64().unwrap();
        let path = |id: i64| format!("{CANNED}/{id}");
        let edit = json!({"content": "changed"});

        // An agent may not write shared responses: not create, not edit, not delete.
        let refused = create(&app, &ana, json!({"short_code": "x", "content": "y", "shared": true})).await;
        assert_eq!(refused.status, 403, "{}", refused.text);
        for (method, body) in [(Method::PATCH, edit.clone()), (Method::DELETE, json!({}))] {
            let answer = app.send(method.clone(), &path(shared), Some(&ana), body).await;
            assert_eq!(answer.status, 403, "{method} a shared one as an agent: {}", answer.text);
            assert_eq!(answer.json["error"]["code"], "forbidden");
        }
        // Another agent's personal response does not exist for Bo, nor for the owner or an admin.
        for token in [&bo, &admin, &app.token] {
            for (method, body) in [(Method::PATCH, edit.clone()), (Method::DELETE, json!({}))] {
                let answer = app.send(method.clone(), &path(anas), Some(token), body).await;
                assert_eq!(answer.status, 404, "{method} Ana's as someone else: {}", answer.text);
                assert_eq!(answer.json["error"]["code"], "not_found");
            }
        }
        let unknown = app.send(Method::PATCH, &path(anas + 1000), Some(&ana), edit.clone()).await;
        assert_eq!(unknown.status, 404, "no such id is the same answer as someone else's");
        let untouched = app.get(CANNED, Some(&ana)).await.json;
        assert!(untouched.as_array().unwrap().iter().all(|c| c["content"] != "changed"), "{untouched}");

        // Ana edits and deletes her own; the admin edits and deletes the shared one.
        let edited = app.send(Method::PATCH, &path(anas), Some(&ana), json!({"short_code": "me", "content": "Ana, again."}))
            .await.expect_status(200).json;
        assert_eq!((edited["short_code"].as_str(), edited["content"].as_str()), (Some("me"), Some("Ana, again.")));
        assert_eq!(edited["shared"], false, "an edit keeps the scope");
        let edited = app.send(Method::PATCH, &path(shared), Some(&admin), json!({"content": "Thanks a lot!"}))
            .await.expect_status(200).json;
        assert_eq!((edited["short_code"].as_str(), edited["content"].as_str()), (Some("thanks"), Some("Thanks a lot!")));
        app.send(Method::DELETE, &path(anas), Some(&ana), json!({})).await.expect_status(204);
        app.send(Method::DELETE, &path(shared), Some(&admin), json!({})).await.expect_status(204);
        assert!(codes(&app, &ana).await.is_empty());
        app.send(Method::DELETE, &path(anas), Some(&ana), json!({})).await.expect_status(404);
        app.stop().await;
    }

    async fn short_codes_are_unique_per_owner_scope_and_bounded(engine) {
        let app = spawn_app(engine).await;
        let (_, ana) = app.user_with_role("ana@example.com", "Ana", "agent").await;
        let (_, bo) = app.user_with_role("bo@example.com", "Bo", "agent").await;
        let body = |shared: bool| json!({"short_code": "hi", "content": "Hello!", "shared": shared});
        create(&app, &app.token, body(true)).await.expect_status(201);
        assert_eq!(create(&app, &app.token, body(true)).await.status, 409, "two shared /hi");
        create(&app, &ana, body(false)).await.expect_status(201);
        create(&app, &bo, body(false)).await.expect_status(201);
        create(&app, &app.token, body(false)).await.expect_status(201);
        let twice = create(&app, &ana, body(false)).await;
        assert_eq!(twice.status, 409, "Ana's second /hi: {}", twice.text);
        assert_eq!(twice.json["error"]["code"], "conflict");
        // Renaming into a taken code is the same conflict.
        let other = create(&app, &ana, json!({"short_code": "hello", "content": "Hello!", "shared": false}))
            .await.expect_status(201).json["id"].as_i64().unwrap();
        let renamed = app.send(Method::PATCH, &format!("{CANNED}/{other}"), Some(&ana), json!({"short_code": "hi"})).await;
        assert_eq!(renamed.status, 409, "{}", renamed.text);

        for bad in [
            json!({"short_code": "x".repeat(33), "content": "c"}),
            json!({"short_code": "two words", "content": "c"}),
            json!({"short_code": "", "content": "c"}),
            json!({"short_code": "ok", "content": "   "}),
            json!({"short_code": "ok", "content": "c".repeat(10_001)}),
            json!({"short_code": "ok", "content": "c", "owner_id": 1}),
        ] {
            let answer = create(&app, &ana, bad.clone()).await;
            assert_eq!(answer.status, 422, "{bad}: {}", answer.text);
        }
        let long = app.send(Method::PATCH, &format!("{CANNED}/{other}"), Some(&ana),
            json!({"content": "c".repeat(10_001)})).await;
        assert_eq!(long.status, 422, "{}", long.text);
        create(&app, &ana, json!({"short_code": "x".repeat(32), "content": "c".repeat(10_000)}))
            .await.expect_status(201);
        app.stop().await;
    }

    async fn another_workspaces_admin_finds_no_canned_response_here(engine) {
        let app = spawn_app(engine).await;
        let shared = create(&app, &app.token, json!({"short_code": "thanks", "content": "Thank you!"}))
            .await.expect_status(201).json["id"].as_i64().unwrap();
        let store = app.store();
        let other = store.create_workspace("Elsewhere Ltd").await.unwrap();
        store.create_user(switchboard::store::NewUser {
            workspace_id: other.id,
            email: switchboard::domain::EmailAddress::parse("admin@elsewhere.example").unwrap(),
            name: "Elsa".into(),
            role: switchboard::domain::Role::Admin,
            password_hash: switchboard::auth::hash_password(PASSWORD).unwrap(),
        }).await.unwrap();
        let elsa = app.post("/api/v1/auth/login", None,
            json!({"email": "admin@elsewhere.example", "password": PASSWORD}))
            .await.expect_status(200).json["token"].as_str().unwrap().to_string();
        assert!(codes(&app, &elsa).await.is_empty());
        for method in [Method::PATCH, Method::DELETE] {
            let answer = app.send(method.clone(), &format!("{CANNED}/{shared}"), Some(&elsa), json!({"content": "mine now"})).await;
            assert_eq!(answer.status, 404, "{method}: {}", answer.text);
        }
        assert_eq!(codes(&app, &app.token).await, vec![code("thanks", true)]);
        app.stop().await;
    }

    async fn an_agent_sets_their_name_and_signature(engine) {
        let app = spawn_app(engine).await;
        let (ana, token) = app.user_with_role("ana@example.com", "Ana", "agent").await;
        let me = app.get("/api/v1/me", Some(&token)).await.expect_status(200).json;
        assert!(me["email_signature"].is_null());
        let changed = app.send(Method::PATCH, "/api/v1/me", Some(&token),
            json!({"name": "  Ana Lima ", "email_signature": "Ana Lima\nSupport lead\n\n"}))
            .await.expect_status(200).json;
        assert_eq!(changed["user"]["name"], "Ana Lima");
        assert_eq!(changed["email_signature"], "Ana Lima\nSupport lead");
        let me = app.get("/api/v1/me", Some(&token)).await.expect_status(200).json;
        assert_eq!(me["user"]["name"], "Ana Lima");
        assert_eq!(me["email_signature"], "Ana Lima\nSupport lead");
        let users = app.get("/api/v1/users", Some(&app.token)).await.json;
        let listed = users["data"].as_array().or(users.as_array()).unwrap().iter()
            .find(|u| u["id"] == ana["id"]).cloned().unwrap();
        assert_eq!(listed["name"], "Ana Lima", "colleagues see the new name");
        assert!(listed.get("email_signature").is_none(), "the user list carries no signatures");

        // A field left out stays; an empty signature removes it.
        let kept = app.send(Method::PATCH, "/api/v1/me", Some(&token), json!({"email_signature": ""}))
            .await.expect_status(200).json;
        assert_eq!(kept["user"]["name"], "Ana Lima");
        assert!(kept["email_signature"].is_null());

        for bad in [
            json!({"name": "   "}),
            json!({"name": "n".repeat(201)}),
            json!({"email_signature": "s".repeat(10_001)}),
            json!({"role": "owner"}),
        ] {
            let answer = app.send(Method::PATCH, "/api/v1/me", Some(&token), bad.clone()).await;
            assert_eq!(answer.status, 422, "{bad}: {}", answer.text);
        }
        let me = app.get("/api/v1/me", Some(&token)).await.json;
        assert_eq!(me["user"]["role"], "agent");
        app.stop().await;
    }
}
