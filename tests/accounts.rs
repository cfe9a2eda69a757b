//! Accounts as their owners and admins live with them: login throttling that holds under
//! parallel guesses and cannot lock the rightful user out, personal API tokens (listed, expiring,
//! revoked), signing out everywhere, passwords, disabled users, and the owners' audit log.
//! Clients bind to different loopback addresses (127.0.0.x) to be different client addresses.

mod common;

use std::net::IpAddr;
use std::time::Duration;

use common::*;
use futures::StreamExt;
use serde_json::{json, Value};

const OWNER: &str = "owner@example.com";

/// An HTTP client whose connections come from `ip` (any 127.0.0.x reaches the server).
fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

async fn login_from(app: &TestApp, http: &reqwest::Client, email: &str, password: &str) -> Reply {
    let response = http
        .post(format!("{}/api/v1/auth/login", app.url))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("login sent");
    Reply::from(response).await
}

async fn login(app: &TestApp, email: &str, password: &str) -> Reply {
    login_from(app, &app.http, email, password).await
}

fn token_of(reply: Reply) -> String {
    reply.expect_status(200).json["token"]
        .as_str()
        .unwrap()
        .to_string()
}

fn retry_after(reply: &Reply) -> u64 {
    reply
        .headers
        .get("retry-after")
        .expect("a 429 says when to retry")
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in seconds")
}

async fn me_status(app: &TestApp, token: &str) -> u16 {
    app.get("/api/v1/me", Some(token)).await.status
}

async fn console_socket_status(app: &TestApp, token: &str) -> u16 {
    let url = format!(
        "{}/api/v1/ws?token={token}",
        app.url.replace("http://", "ws://")
    );
    match tokio_tungstenite::connect_async(url).await {
        Ok(_) => 101,
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("console socket: {other}"),
    }
}

/// Whether an open console socket is told its session ended (and closed) within 2 s.
async fn console_ends(
    socket: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> bool {
    tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(Ok(frame)) = socket.next().await {
            if frame.is_close() || frame.to_text().unwrap_or("").contains("session ended") {
                return;
            }
        }
    })
    .await
    .is_ok()
}

async fn api_token(app: &TestApp, token: &str, body: Value) -> Value {
    app.post("/api/v1/tokens", Some(token), body)
        .await
        .expect_status(201)
        .json
}

on_both_engines! {
    async fn forty_parallel_wrong_logins_are_all_counted_before_hashing(engine) {
        let app = spawn_app_with(engine, |s| {
            s.security.login_max_failures = 10;
            s.security.login_attempts_per_minute = 1000;
        })
        .await;
        let attacker = client_from("127.0.0.2");
        let guesses = (0..40).map(|n| {
            let (app, attacker) = (&app, &attacker);
            async move { login_from(app, attacker, OWNER, &format!("guess-{n}-wrong")).await }
        });
        let replies = futures::future::join_all(guesses).await;
        let checked = replies.iter().filter(|r| r.status == 401).count();
        let refused: Vec<&Reply> = replies.iter().filter(|r| r.status == 429).collect();
        assert_eq!(checked + refused.len(), 40, "only 401s and 429s");
        assert!(checked <= 10, "{checked} guesses were checked against a limit of 10");
        assert!(checked >= 1, "the first guesses are checked");
        for reply in refused {
            assert!(retry_after(reply) >= 1);
        }
        app.stop().await;
    }

    async fn an_attacker_hammering_the_account_cannot_lock_the_owner_out(engine) {
        let app = spawn_app(engine).await;
        let attacker = client_from("127.0.0.2");
        let throttled = tokio::sync::Notify::new();
        let hammering = async {
            let mut refused = 0;
            for n in 0..40 {
                let reply = login_from(&app, &attacker, OWNER, &format!("guess-{n}")).await;
                if reply.status == 429 {
                    refused += 1;
                    throttled.notify_one();
                }
            }
            refused
        };
        let owner_signs_in = async {
            // Once the attacker is being throttled, from an address the owner never used…
            throttled.notified().await;
            login_from(&app, &client_from("127.0.0.3"), OWNER, PASSWORD).await
        };
        let (refused, owner) = tokio::join!(hammering, owner_signs_in);
        assert!(refused > 0, "the attacker was throttled");
        owner.expect_status(200);
        // …and after the hammering, from the address they signed in from before.
        token_of(login(&app, OWNER, PASSWORD).await);
        app.stop().await;
    }

    async fn many_addresses_share_an_account_budget_that_known_addresses_skip(engine) {
        let app = spawn_app_with(engine, |s| {
            s.security.login_account_address_max_failures = 2;
            s.security.login_account_max_failures = 5;
        })
        .await;
        // The owner signed in from 127.0.0.1 when the app started. Now a spread-out campaign:
        for n in 10..15 {
            login_from(&app, &client_from(&format!("127.0.0.{n}")), OWNER, "wrong-guess")
                .await
                .expect_status(401);
        }
        let fresh = login_from(&app, &client_from("127.0.0.20"), OWNER, "another-guess").await;
        assert_eq!(fresh.status, 429, "the account's shared budget is spent: {}", fresh.text);
        token_of(login(&app, OWNER, PASSWORD).await);
        app.stop().await;
    }

    async fn api_tokens_are_listed_without_their_secret_and_revoked_one_by_one(engine) {
        let app = spawn_app(engine).await;
        let crm = api_token(&app, &app.token, json!({"name": "CRM sync"})).await;
        let backup = api_token(&app, &app.token, json!({"name": "Backups"})).await;
        let crm_token = crm["token"].as_str().unwrap().to_string();
        let backup_token = backup["token"].as_str().unwrap().to_string();
        assert_eq!(me_status(&app, &crm_token).await, 200);

        // A token's use is noted in the background, just after the request it opened.
        let mut listed = app.get("/api/v1/tokens", Some(&app.token)).await.expect_status(200);
        for _ in 0..50 {
            if listed.json[1]["last_used_at"].is_i64() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            listed = app.get("/api/v1/tokens", Some(&app.token)).await.expect_status(200);
        }
        let names: Vec<&str> = listed.json.as_array().unwrap().iter()
            .map(|t| t["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["Backups", "CRM sync"]);
        assert!(!listed.text.contains(&crm_token) && !listed.text.contains(&backup_token));
        let first = &listed.json[1];
        assert!(crm_token.starts_with(first["prefix"].as_str().unwrap()));
        assert!(first["prefix"].as_str().unwrap().len() >= 8);
        assert!(first["created_at"].as_i64().unwrap() > 0);
        assert!(first["last_used_at"].as_i64().is_some(), "it was used for /me: {first}");
        assert!(first["expires_at"].is_null());

        let crm_id = crm["api_token"]["id"].as_i64().unwrap();
        let (_, agent) = app.user_with_role("agent@example.com", "Avery Agent", "agent").await;
        app.send(reqwest::Method::DELETE, &format!("/api/v1/tokens/{crm_id}"), Some(&agent), json!({}))
            .await
            .expect_status(404);
        app.send(reqwest::Method::DELETE, &format!("/api/v1/tokens/{crm_id}"), Some(&app.token), json!({}))
            .await
            .expect_status(204);
        assert_eq!(me_status(&app, &crm_token).await, 401);
        assert_eq!(me_status(&app, &backup_token).await, 200);
        let listed = app.get("/api/v1/tokens", Some(&app.token)).await.json;
        assert_eq!(listed.as_array().unwrap().len(), 1);
        app.stop().await;
    }

    async fn an_api_token_with_an_expiry_stops_working_on_rest_and_the_console_socket(engine) {
        let app = spawn_app(engine).await;
        let now = switchboard::domain::now_millis();
        app.post("/api/v1/tokens", Some(&app.token), json!({"name": "late", "expires_at": now - 1}))
            .await
            .expect_status(422);
        let created = api_token(&app, &app.token, json!({"name": "short", "expires_at": now + 3000})).await;
        assert_eq!(created["api_token"]["expires_at"], json!(now + 3000));
        let token = created["token"].as_str().unwrap().to_string();
        assert_eq!(me_status(&app, &token).await, 200);
        assert_eq!(console_socket_status(&app, &token).await, 101);
        tokio::time::sleep(Duration::from_millis(3200)).await;
        assert_eq!(me_status(&app, &token).await, 401);
        assert_eq!(console_socket_status(&app, &token).await, 401);
        let listed = app.get("/api/v1/tokens", Some(&app.token)).await.json;
        assert_eq!(listed, json!([]), "expired tokens leave the list");
        app.stop().await;
    }

    async fn signing_out_everywhere_ends_every_session_token_and_open_console(engine) {
        // Periodic token checks are an hour apart here: the console must be told at once.
        let app = spawn_app_with(engine, |s| s.gateway.refresh_secs = 3600).await;
        let laptop = token_of(login(&app, OWNER, PASSWORD).await);
        let script = api_token(&app, &app.token, json!({"name": "script"})).await["token"]
            .as_str().unwrap().to_string();
        let (other, other_token) = app.user_with_role("agent@example.com", "Avery Agent", "agent").await;
        let url = format!("{}/api/v1/ws?token={laptop}", app.url.replace("http://", "ws://"));
        let (mut socket, _) = tokio_tungstenite::connect_async(url).await.expect("console");

        let done = app.post("/api/v1/auth/logout-everywhere", Some(&app.token), json!({}))
            .await
            .expect_status(200);
        assert_eq!(done.json["revoked"], 3);
        for token in [&app.token, &laptop, &script] {
            assert_eq!(me_status(&app, token).await, 401);
        }
        assert_eq!(me_status(&app, &other_token).await, 200, "{} keeps theirs", other["name"]);
        assert!(console_ends(&mut socket).await, "the open console was closed");
        app.stop().await;
    }

    async fn changing_ones_password_needs_the_current_one_and_ends_other_sessions_and_tokens(engine) {
        let app = spawn_app(engine).await;
        let phone = token_of(login(&app, OWNER, PASSWORD).await);
        let script = api_token(&app, &app.token, json!({"name": "script"})).await["token"]
            .as_str().unwrap().to_string();
        let wrong = app.send(reqwest::Method::PUT, "/api/v1/me/password", Some(&app.token),
            json!({"current_password": "not-my-password", "new_password": "a brand new secret"})).await;
        assert_eq!(wrong.status, 403, "{}", wrong.text);
        // Its own code, so that a console says "wrong password", not "sign in again".
        assert_eq!(wrong.json["error"]["code"], "wrong_password", "{}", wrong.text);
        assert_eq!(wrong.json["error"]["message"], "the current password is wrong");
        assert_eq!(me_status(&app, &app.token).await, 200, "a wrong password signs nobody out");
        app.send(reqwest::Method::PUT, "/api/v1/me/password", Some(&app.token),
            json!({"current_password": PASSWORD, "new_password": "short"}))
            .await
            .expect_status(422);
        app.send(reqwest::Method::PUT, "/api/v1/me/password", Some(&app.token),
            json!({"current_password": PASSWORD, "new_password": "a brand new secret"}))
            .await
            .expect_status(204);
        assert_eq!(me_status(&app, &app.token).await, 200, "this session goes on");
        assert_eq!(me_status(&app, &phone).await, 401, "other sessions end");
        assert_eq!(me_status(&app, &script).await, 401, "API tokens made with the old password end");
        assert!(app.get("/api/v1/tokens", Some(&app.token)).await.expect_status(200)
            .json.as_array().unwrap().is_empty(), "and are no longer listed");
        assert_eq!(login(&app, OWNER, PASSWORD).await.status, 401);
        token_of(login(&app, OWNER, "a brand new secret").await);
        app.stop().await;
    }

    async fn a_password_changed_with_an_api_token_keeps_that_token(engine) {
        let app = spawn_app(engine).await;
        let keep = api_token(&app, &app.token, json!({"name": "password manager"})).await["token"]
            .as_str().unwrap().to_string();
        let other = api_token(&app, &app.token, json!({"name": "old script"})).await["token"]
            .as_str().unwrap().to_string();
        app.send(reqwest::Method::PUT, "/api/v1/me/password", Some(&keep),
            json!({"current_password": PASSWORD, "new_password": "a brand new secret"}))
            .await
            .expect_status(204);
        assert_eq!(me_status(&app, &keep).await, 200, "the token that asked goes on");
        assert_eq!(me_status(&app, &other).await, 401);
        assert_eq!(me_status(&app, &app.token).await, 401, "the session ends too");
        app.stop().await;
    }

    async fn admins_reset_passwords_and_disabling_ends_everything_at_once(engine) {
        let app = spawn_app(engine).await;
        let (_, admin) = app.user_with_role("admin@example.com", "Ada Admin", "admin").await;
        let (agent, agent_session) = app.user_with_role("agent@example.com", "Avery Agent", "agent").await;
        let agent_id = agent["id"].as_i64().unwrap();

        app.send(reqwest::Method::PUT, &format!("/api/v1/users/{agent_id}/password"), Some(&admin),
            json!({"new_password": "reset by the admin"}))
            .await
            .expect_status(204);
        assert_eq!(me_status(&app, &agent_session).await, 401);
        assert_eq!(login(&app, "agent@example.com", PASSWORD).await.status, 401);
        let session = token_of(login(&app, "agent@example.com", "reset by the admin").await);
        let script = api_token(&app, &session, json!({"name": "script"})).await["token"]
            .as_str().unwrap().to_string();

        let disabled = app.send(reqwest::Method::PATCH, &format!("/api/v1/users/{agent_id}"), Some(&admin),
            json!({"disabled": true}))
            .await
            .expect_status(200);
        assert_eq!(disabled.json["disabled"], true);
        assert_eq!(me_status(&app, &session).await, 401);
        assert_eq!(me_status(&app, &script).await, 401);
        assert_eq!(console_socket_status(&app, &script).await, 401);
        let refused = login(&app, "agent@example.com", "reset by the admin").await;
        assert_eq!(refused.status, 403, "{}", refused.text);

        app.send(reqwest::Method::PATCH, &format!("/api/v1/users/{agent_id}"), Some(&admin),
            json!({"disabled": false}))
            .await
            .expect_status(200);
        token_of(login(&app, "agent@example.com", "reset by the admin").await);
        app.stop().await;
    }

    async fn who_may_manage_whom(engine) {
        let app = spawn_app(engine).await;
        let owner_id = app.get("/api/v1/me", Some(&app.token)).await.json["user"]["id"].as_i64().unwrap();
        let (admin, admin_token) = app.user_with_role("admin@example.com", "Ada Admin", "admin").await;
        let (agent, agent_token) = app.user_with_role("agent@example.com", "Avery Agent", "agent").await;
        let (admin_id, agent_id) = (admin["id"].as_i64().unwrap(), agent["id"].as_i64().unwrap());
        let patch = |token: String, id: i64, body: Value| {
            let app = &app;
            async move {
                app.send(reqwest::Method::PATCH, &format!("/api/v1/users/{id}"), Some(&token), body)
                    .await
                    .status
            }
        };
        let reset = |token: String, id: i64| {
            let app = &app;
            async move {
                app.send(reqwest::Method::PUT, &format!("/api/v1/users/{id}/password"), Some(&token),
                    json!({"new_password": "something new"}))
                    .await
                    .status
            }
        };
        assert_eq!(patch(admin_token.clone(), owner_id, json!({"disabled": true})).await, 403, "an admin cannot disable an owner");
        assert_eq!(reset(admin_token.clone(), owner_id).await, 403, "nor reset an owner's password");
        assert_eq!(patch(admin_token.clone(), agent_id, json!({"role": "owner"})).await, 403, "nor make owners");
        assert_eq!(patch(app.token.clone(), owner_id, json!({"disabled": true})).await, 403, "nobody disables themselves");
        assert_eq!(patch(admin_token.clone(), admin_id, json!({"disabled": true})).await, 403);
        assert_eq!(patch(agent_token.clone(), admin_id, json!({"disabled": true})).await, 403, "agents manage nobody");
        assert_eq!(reset(agent_token.clone(), admin_id).await, 403);
        assert_eq!(patch(app.token.clone(), 999_999, json!({"disabled": true})).await, 404);
        assert_eq!(patch(admin_token.clone(), agent_id, json!({"role": "admin"})).await, 200);
        assert_eq!(patch(app.token.clone(), admin_id, json!({"disabled": true})).await, 200, "an owner disables an admin");
        assert_eq!(me_status(&app, &admin_token).await, 401);
        app.stop().await;
    }

    async fn owners_read_the_audit_log_of_admin_actions_page_by_page(engine) {
        let app = spawn_app(engine).await;
        let (_, admin) = app.user_with_role("admin@example.com", "Ada Admin", "admin").await;
        let (_, agent) = app.user_with_role("agent@example.com", "Avery Agent", "agent").await;
        let created = app.post("/api/v1/users", Some(&admin),
            json!({"email": "new@example.com", "name": "Nia New", "role": "agent", "password": PASSWORD}))
            .await
            .expect_status(201)
            .json;
        let new_id = created["id"].as_i64().unwrap();
        let path = format!("/api/v1/users/{new_id}");
        app.send(reqwest::Method::PATCH, &path, Some(&admin), json!({"role": "admin"})).await.expect_status(200);
        app.send(reqwest::Method::PUT, &format!("{path}/password"), Some(&admin),
            json!({"new_password": "reset by the admin"})).await.expect_status(204);
        app.send(reqwest::Method::PATCH, &path, Some(&admin), json!({"disabled": true})).await.expect_status(200);
        let token = api_token(&app, &admin, json!({"name": "exporter"})).await;
        let token_id = token["api_token"]["id"].as_i64().unwrap();
        app.send(reqwest::Method::DELETE, &format!("/api/v1/tokens/{token_id}"), Some(&admin), json!({}))
            .await
            .expect_status(204);
        let (inbox_id, _) = app.api_inbox("Partners", None).await;
        app.send(reqwest::Method::PATCH, &format!("/api/v1/inboxes/{inbox_id}"), Some(&app.token),
            json!({"settings": {"callback_url": "https://partner.example/hook"}}))
            .await
            .expect_status(200);

        assert_eq!(app.get("/api/v1/audit-log", Some(&admin)).await.status, 403);
        assert_eq!(app.get("/api/v1/audit-log", Some(&agent)).await.status, 403);
        assert_eq!(app.get("/api/v1/audit-log", None).await.status, 401);
        let mut entries = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = "/api/v1/audit-log?limit=3".to_string();
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let page = app.get(&path, Some(&app.token)).await.expect_status(200).json;
            entries.extend(page["data"].as_array().unwrap().iter().cloned());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        let actions: Vec<&str> = entries.iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, [
            "inbox.settings_changed", "inbox.created", "token.revoked", "token.created",
            "user.disabled", "user.password_reset", "user.role_changed", "user.created",
        ]);
        let user_created = entries.last().unwrap();
        assert_eq!(user_created["actor_name"], "Ada Admin");
        assert_eq!(user_created["target_kind"], "user");
        assert_eq!(user_created["target_id"], new_id);
        assert_eq!(entries[6]["details"], json!({"from": "agent", "to": "admin"}));
        assert_eq!(entries[3]["target_id"], token_id);
        assert!(!serde_json::to_string(&entries).unwrap().contains("reset by the admin"), "no passwords");
        assert!(!serde_json::to_string(&entries).unwrap().contains(token["token"].as_str().unwrap()), "no secrets");
        app.stop().await;
    }
}

#[tokio::test]
async fn the_command_line_adds_disables_and_enables_users_on_the_record() {
    let app = spawn_app(Engine::Sqlite).await;
    let (_, agent) = app
        .user_with_role("agent@example.com", "Avery Agent", "agent")
        .await;
    let cli = |verb: &'static str| {
        let url = app.db.url.clone();
        let dir = app.db.dir.path().to_path_buf();
        async move {
            tokio::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
                .args([
                    "user",
                    verb,
                    "--email",
                    "agent@example.com",
                    "--database-url",
                    &url,
                ])
                .arg("--data-dir")
                .arg(dir)
                .env("RUST_LOG", "warn")
                .output()
                .await
                .expect("the CLI runs")
        }
    };
    let out = cli("disable").await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("is disabled"));
    assert_eq!(me_status(&app, &agent).await, 401);
    assert_eq!(login(&app, "agent@example.com", PASSWORD).await.status, 403);
    let out = cli("enable").await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    token_of(login(&app, "agent@example.com", PASSWORD).await);
    let added = tokio::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args([
            "user",
            "add",
            "--email",
            "cli@example.com",
            "--name",
            "Cleo Cli",
        ])
        .args(["--database-url", &app.db.url])
        .arg("--data-dir")
        .arg(app.db.dir.path())
        .output()
        .await
        .expect("the CLI runs");
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let log = app
        .get("/api/v1/audit-log", Some(&app.token))
        .await
        .expect_status(200)
        .json;
    let lines: Vec<(&str, &str)> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["actor_name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("user.created", "command line"),
            ("user.enabled", "command line"),
            ("user.disabled", "command line"),
        ]
    );
    app.stop().await;
}

/// A wrong login from `client`, as a reverse proxy on 127.0.0.1 would forward it.
async fn wrong_login_forwarded_for(app: &TestApp, client: &str, n: usize) -> u16 {
    app.http
        .post(format!("{}/api/v1/auth/login", app.url))
        .header("x-forwarded-for", client)
        .json(&json!({"email": OWNER, "password": format!("guess-{n}")}))
        .send()
        .await
        .expect("login sent")
        .status()
        .as_u16()
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_budget_and_others_cannot_forge_one() {
    let app = spawn_app_with(Engine::Sqlite, |s| {
        s.security.login_max_failures = 5;
        s.server.trusted_proxies = vec!["127.0.0.1".into()];
    })
    .await;
    // Through the proxy, one attacker spends their own budget only.
    let mut statuses = Vec::new();
    for n in 0..8 {
        statuses.push(wrong_login_forwarded_for(&app, "203.0.113.7", n).await);
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    assert_eq!(
        wrong_login_forwarded_for(&app, "198.51.100.2", 0).await,
        401,
        "another customer behind the same proxy is still heard"
    );
    app.stop().await;

    // A client that is not a trusted proxy cannot escape its budget by naming other addresses.
    let app = spawn_app_with(Engine::Sqlite, |s| s.security.login_max_failures = 5).await;
    let mut statuses = Vec::new();
    for n in 0..8 {
        let forged = format!("203.0.113.{n}");
        statuses.push(wrong_login_forwarded_for(&app, &forged, n).await);
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    app.stop().await;
}

#[tokio::test]
async fn an_address_the_owner_signed_in_from_stays_known_across_a_restart() {
    let budgets = |s: &mut switchboard::Settings| {
        s.security.login_account_max_failures = 3;
        s.security.login_attempts_per_minute = 1000;
    };
    let app = spawn_app_with(Engine::Sqlite, budgets).await;
    let home = client_from("127.0.0.3");
    token_of(login_from(&app, &home, OWNER, PASSWORD).await);

    // A deploy; then a campaign from addresses the owner never used spends the account budget.
    let app = app.restart(budgets).await;
    for n in 0..4 {
        let attacker = client_from(&format!("127.0.1.{n}"));
        login_from(&app, &attacker, OWNER, &format!("guess-{n}")).await;
    }
    assert_eq!(
        login_from(&app, &client_from("127.0.2.1"), OWNER, PASSWORD)
            .await
            .status,
        429,
        "the account budget is spent for new addresses"
    );
    // The owner at home is not held by it.
    token_of(login_from(&app, &home, OWNER, PASSWORD).await);
    app.stop().await;
}

#[tokio::test]
async fn a_disabled_agents_open_console_is_closed_at_once() {
    let app = spawn_app_with(Engine::Sqlite, |s| s.gateway.refresh_secs = 3600).await;
    let (agent, agent_token) = app
        .user_with_role("agent@example.com", "Avery Agent", "agent")
        .await;
    let url = format!(
        "{}/api/v1/ws?token={agent_token}",
        app.url.replace("http://", "ws://")
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("console");
    app.send(
        reqwest::Method::PATCH,
        &format!("/api/v1/users/{}", agent["id"]),
        Some(&app.token),
        json!({"disabled": true}),
    )
    .await
    .expect_status(200);
    assert!(
        console_ends(&mut socket).await,
        "the disabled agent still listens"
    );
    app.stop().await;
}
