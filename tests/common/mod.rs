//! Test harness: the real hub on port 0 against a fresh database (a SQLite file in a temporary
//! directory, or a new PostgreSQL database on the local server), and a client that speaks to it.
//!
//! PostgreSQL comes from `SWITCHBOARD_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/postgres`,
//! the server CI and every developer machine runs). If it cannot be reached the tests fail: a
//! PostgreSQL pass is never skipped silently.
#![allow(dead_code)]

use std::sync::Arc;

use serde_json::{json, Value};
use switchboard::channels::ChannelRegistry;
use switchboard::store::{NewUser, Store, StoreOptions};
use switchboard::{Application, Settings};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Runs each test body once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both_engines {
    ($(async fn $name:ident($engine:ident) $body:block)*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let $engine = $crate::common::Engine::Sqlite;
                    $body
                }
            )*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let $engine = $crate::common::Engine::Postgres;
                    $body
                }
            )*
        }
    };
}

pub const PASSWORD: &str = "correct horse battery staple";

pub fn postgres_admin_url() -> String {
    std::env::var("SWITCHBOARD_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database of its own for one test; PostgreSQL ones are dropped when this is.
pub struct TestDatabase {
    pub url: String,
    pub dir: tempfile::TempDir,
    pg_name: Option<String>,
}

impl TestDatabase {
    pub async fn new(engine: Engine) -> TestDatabase {
        let dir = tempfile::tempdir().expect("temporary directory");
        match engine {
            Engine::Sqlite => TestDatabase {
                url: format!("sqlite://{}", dir.path().join("switchboard.db").display()),
                dir,
                pg_name: None,
            },
            Engine::Postgres => {
                use sqlx::Connection;
                let admin = postgres_admin_url();
                let mut conn = sqlx::PgConnection::connect(&admin)
                    .await
                    .unwrap_or_else(|e| {
                        panic!("PostgreSQL at {admin} is needed for the PostgreSQL pass: {e}")
                    });
                let name = format!("sb_test_{}", uuid_like());
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
                let mut url = url::Url::parse(&admin).expect("postgres url");
                url.set_path(&name);
                TestDatabase {
                    url: url.to_string(),
                    dir,
                    pg_name: Some(name),
                }
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else {
            return;
        };
        // Drop runs outside async; a short-lived runtime on its own thread removes the database.
        let admin = postgres_admin_url();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(rt) = rt {
                rt.block_on(async {
                    use sqlx::Connection;
                    if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                        let _ =
                            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(&mut conn)
                                .await;
                    }
                });
            }
        })
        .join();
    }
}

pub fn uuid_like() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..16)
        .map(|_| format!("{:x}", rng.gen_range(0..16u8)))
        .collect()
}

/// A customer's text message with this external id, from the sender `who` (identity `test`).
pub fn inbound(
    external_id: &str,
    who: &str,
    text: &str,
) -> switchboard_connector_core::InboundMessage {
    switchboard_connector_core::InboundMessage {
        external_id: external_id.into(),
        sender: switchboard_connector_core::InboundSender {
            identities: vec![switchboard_connector_core::Identity::new("test", who)],
            name: Some(who.into()),
            ..Default::default()
        },
        text: text.into(),
        ..Default::default()
    }
}

/// A new workspace "Acme" with an API inbox "Support", written straight to `store`.
pub async fn workspace_with_inbox(
    store: &Arc<dyn Store>,
) -> (switchboard::domain::Workspace, switchboard::domain::Inbox) {
    let ws = store.create_workspace("Acme").await.unwrap();
    let inbox = store
        .create_inbox(switchboard::store::NewInbox {
            workspace_id: ws.id,
            name: "Support".into(),
            kind: switchboard_connector_core::ChannelKind::Api,
            settings: json!({}),
            sealed_secret: None,
        })
        .await
        .unwrap();
    (ws, inbox)
}

/// The SQLite engine itself on a fresh file, for tests that read its writer's counts.
pub async fn open_sqlite_store() -> (Arc<switchboard::store::SqliteStore>, TestDatabase) {
    let db = TestDatabase::new(Engine::Sqlite).await;
    let store = switchboard::store::SqliteStore::connect(&db.url, &StoreOptions::default())
        .await
        .expect("open the SQLite store");
    (Arc::new(store), db)
}

/// A bare store on a fresh database, for the store behaviour suite.
pub async fn open_store(engine: Engine) -> (Arc<dyn Store>, TestDatabase) {
    let db = TestDatabase::new(engine).await;
    let store = switchboard::store::open(&db.url, &StoreOptions::default())
        .await
        .expect("open store");
    (store, db)
}

pub fn test_settings(db: &TestDatabase) -> Settings {
    let mut settings = Settings::load(None).expect("default settings");
    settings.server.addr = "127.0.0.1:0".into();
    settings.server.data_dir = db.dir.path().to_path_buf();
    settings.database.url = switchboard::config::Secret::new(db.url.clone());
    settings.database.max_connections = 8;
    settings.dispatcher.poll_interval_ms = 50;
    settings.dispatcher.base_backoff_ms = 50;
    settings.dispatcher.max_backoff_ms = 200;
    settings.log.level = "warn".into();
    // Test peers (callback receivers, providers) listen on loopback, which outgoing calls may
    // not reach unless the operator allows it; tests of the guard itself clear this.
    settings.outbound.allow_hosts = vec!["127.0.0.0/8".into(), "::1".into()];
    settings
}

/// A website chat inbox as the tests use it.
pub struct WebChat {
    pub inbox: i64,
    pub website_token: String,
    /// Signs visitors' identities (HMAC or JWT); shown once, when the inbox is made.
    pub secret: String,
    pub embed_snippet: String,
}

pub struct TestApp {
    pub url: String,
    pub http: reqwest::Client,
    pub app: Option<Application>,
    pub workspace_id: i64,
    /// The owner's session token.
    pub token: String,
    pub db: TestDatabase,
}

pub async fn spawn_app(engine: Engine) -> TestApp {
    spawn_app_with(engine, |_| {}).await
}

pub async fn spawn_app_with(engine: Engine, tweak: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_on(engine, tweak, ChannelRegistry::standard()).await
}

/// The hub with these channels (the standard ones and a test's own, say).
pub async fn spawn_app_with_channels(engine: Engine, channels: ChannelRegistry) -> TestApp {
    spawn_app_on(engine, |_| {}, channels).await
}

async fn spawn_app_on(
    engine: Engine,
    tweak: impl FnOnce(&mut Settings),
    channels: ChannelRegistry,
) -> TestApp {
    switchboard::telemetry::install_crypto_provider();
    let db = TestDatabase::new(engine).await;
    let mut settings = test_settings(&db);
    tweak(&mut settings);
    let app = Application::build_with(settings, channels)
        .await
        .expect("application starts");
    let url = format!("http://{}", app.addr());
    let workspace_id = app.state().store.list_workspaces().await.unwrap()[0].id;
    let mut test = TestApp {
        url,
        http: reqwest::Client::new(),
        app: Some(app),
        workspace_id,
        token: String::new(),
        db,
    };
    let (_, token) = test
        .user_with_role("owner@example.com", "Olive Owner", "owner")
        .await;
    test.token = token;
    test
}

impl TestApp {
    pub fn store(&self) -> Arc<dyn Store> {
        self.app.as_ref().expect("running").state().store.clone()
    }

    /// The application layer's doors, for what a channel's webhook would do.
    pub fn desk(&self) -> switchboard::desk::Desk {
        self.app.as_ref().expect("running").state().desk.clone()
    }

    /// Adds a user straight in the store (fast: no HTTP) and signs them in over HTTP.
    pub async fn user_with_role(&self, email: &str, name: &str, role: &str) -> (Value, String) {
        let hash = switchboard::auth::hash_password(PASSWORD).unwrap();
        self.store()
            .create_user(NewUser {
                workspace_id: self.workspace_id,
                email: switchboard::domain::EmailAddress::parse(email).unwrap(),
                name: name.into(),
                role: switchboard::domain::Role::parse(role).unwrap(),
                password_hash: hash,
            })
            .await
            .expect("create user");
        let body = self
            .post(
                "/api/v1/auth/login",
                None,
                json!({"email": email, "password": PASSWORD}),
            )
            .await
            .expect_status(200)
            .json;
        (
            body["user"].clone(),
            body["token"].as_str().unwrap().to_string(),
        )
    }

    /// An API inbox with an optional callback; answers (inbox id, signing secret).
    pub async fn api_inbox(&self, name: &str, callback_url: Option<&str>) -> (i64, String) {
        let mut body = json!({"name": name, "kind": "api"});
        if let Some(url) = callback_url {
            body["callback_url"] = json!(url);
        }
        let inbox = self
            .post("/api/v1/inboxes", Some(&self.token), body)
            .await
            .expect_status(201)
            .json;
        (
            inbox["id"].as_i64().unwrap(),
            inbox["secret"].as_str().unwrap().to_string(),
        )
    }

    /// A web chat inbox, with what its creator is shown once (the identity secret).
    pub async fn web_chat_inbox(&self) -> WebChat {
        let created = self
            .post(
                "/api/v1/inboxes",
                Some(&self.token),
                json!({"name": "Site chat", "kind": "web_chat"}),
            )
            .await
            .expect_status(201)
            .json;
        WebChat {
            inbox: created["id"].as_i64().unwrap(),
            website_token: created["settings"]["website_token"]
                .as_str()
                .unwrap()
                .to_string(),
            secret: created["secret"].as_str().unwrap().to_string(),
            embed_snippet: created["embed_snippet"].as_str().unwrap().to_string(),
        }
    }

    pub async fn add_member(&self, inbox_id: i64, user_id: i64) {
        self.post(
            &format!("/api/v1/inboxes/{inbox_id}/members"),
            Some(&self.token),
            json!({"user_id": user_id}),
        )
        .await
        .expect_status(204);
    }

    /// A customer message through the API channel.
    pub async fn customer_writes(
        &self,
        inbox_id: i64,
        who: &str,
        external_id: &str,
        text: &str,
    ) -> Reply {
        self.post(
            &format!("/api/v1/inboxes/{inbox_id}/messages"),
            Some(&self.token),
            json!({"contact": {"identifier": who, "name": who}, "external_id": external_id, "text": text}),
        )
        .await
    }

    /// The message once its delivery left `queued` (sent, failed, or already delivered or read
    /// by a provider's callback), as the conversation's thread shows it.
    pub async fn settled_message(&self, conversation: i64, message: i64) -> Value {
        for _ in 0..200 {
            let thread = self
                .get(
                    &format!("/api/v1/conversations/{conversation}/messages"),
                    Some(&self.token),
                )
                .await
                .json;
            let found = thread["data"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["id"] == message)
                .cloned()
                .unwrap();
            if found["status"] != "queued" {
                return found;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("message {message} never settled");
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        let mut req = self.http.get(format!("{}{}", self.url, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        Reply::from(req.send().await.expect("request sent")).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.send(reqwest::Method::POST, path, token, body).await
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> Reply {
        let mut req = self
            .http
            .request(method, format!("{}{}", self.url, path))
            .json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        Reply::from(req.send().await.expect("request sent")).await
    }

    pub async fn stop(mut self) {
        if let Some(app) = self.app.take() {
            app.stop().await.expect("clean stop");
        }
    }

    /// Stops the hub and starts it again on the same database (a deploy, say); the owner's
    /// session token stays valid. The new hub listens on a new port.
    pub async fn restart(mut self, tweak: impl FnOnce(&mut Settings)) -> TestApp {
        if let Some(app) = self.app.take() {
            app.stop().await.expect("clean stop");
        }
        let mut settings = test_settings(&self.db);
        tweak(&mut settings);
        let app = Application::build(settings)
            .await
            .expect("application starts again");
        self.url = format!("http://{}", app.addr());
        self.app = Some(app);
        self
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Reply {
    pub async fn from(response: reqwest::Response) -> Reply {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            text,
            json,
        }
    }

    #[track_caller]
    pub fn expect_status(self, status: u16) -> Reply {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }
}

/// Starts `switchboard serve` on a free port and waits for its "listening on" line.
pub async fn start_server(
    data_dir: &std::path::Path,
    database_url: &str,
    env: &[(&str, &str)],
) -> (tokio::process::Child, String) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env("DATABASE_URL", database_url)
        .env("SWITCHBOARD_OWNER_EMAIL", "owner@example.com")
        .env("SWITCHBOARD_OWNER_PASSWORD", PASSWORD)
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("the switchboard binary starts");
    let mut lines =
        tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(child.stdout.take().unwrap()));
    let url = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(url) = line.strip_prefix("listening on ") {
                return url.to_string();
            }
        }
        panic!("the server exited before listening");
    })
    .await
    .expect("the server listens within 30 s");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, url)
}

pub async fn get_json(http: &reqwest::Client, url: &str, token: &str) -> serde_json::Value {
    http.get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

pub async fn login(http: &reqwest::Client, url: &str) -> String {
    let body: serde_json::Value = http
        .post(format!("{url}/api/v1/auth/login"))
        .json(&json!({"email": "owner@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["token"].as_str().unwrap().to_string()
}
