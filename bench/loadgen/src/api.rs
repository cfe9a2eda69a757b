//! The few calls of Switchboard's REST API the benchmark needs.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

/// The owner account every benchmark server is started with.
pub const OWNER_EMAIL: &str = "bench@switchboard.local";
pub const OWNER_PASSWORD: &str = "bench-password-not-secret";

/// A signed-in REST client for one server.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

/// A plain HTTP client with keep-alive and a bound on every request.
pub fn http_client() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(256)
        .build()?)
}

/// Sends `request` and returns the JSON answer, or an error with the status and body.
async fn send(request: reqwest::RequestBuilder) -> Result<Value> {
    let response = request.send().await?;
    let status = response.status();
    let body = response.text().await?;
    if !status.is_success() {
        bail!("HTTP {status}: {body}");
    }
    if body.is_empty() {
        return Ok(Value::Null);
    }
    Ok(serde_json::from_str(&body)?)
}

impl Api {
    /// Signs in as the benchmark owner (once per server: logins are rate-limited).
    pub async fn login(addr: SocketAddr) -> Result<Api> {
        let http = http_client()?;
        let base = format!("http://{addr}");
        let answer = send(
            http.post(format!("{base}/api/v1/auth/login"))
                .json(&json!({"email": OWNER_EMAIL, "password": OWNER_PASSWORD})),
        )
        .await
        .context("signing in")?;
        let token = answer["token"]
            .as_str()
            .context("no token in the login answer")?
            .to_owned();
        Ok(Api { http, base, token })
    }

    /// Signs in as someone else on the same server.
    pub async fn login_as(&self, email: &str, password: &str) -> Result<Api> {
        let answer = send(
            self.http
                .post(format!("{}/api/v1/auth/login", self.base))
                .json(&json!({"email": email, "password": password})),
        )
        .await
        .with_context(|| format!("signing in as {email}"))?;
        let token = answer["token"]
            .as_str()
            .context("no token in the login answer")?
            .to_owned();
        Ok(Api {
            http: self.http.clone(),
            base: self.base.clone(),
            token,
        })
    }

    /// Creates an agent account and returns its id.
    pub async fn create_agent(&self, email: &str, name: &str, password: &str) -> Result<i64> {
        let user = send(
            self.http
                .post(format!("{}/api/v1/users", self.base))
                .bearer_auth(&self.token)
                .json(
                    &json!({"email": email, "name": name, "role": "agent", "password": password}),
                ),
        )
        .await
        .context("creating an agent")?;
        user["id"].as_i64().context("user without an id")
    }

    /// Makes `user_id` a member of `inbox_id`.
    pub async fn add_member(&self, inbox_id: i64, user_id: i64) -> Result<()> {
        send(
            self.http
                .post(format!("{}/api/v1/inboxes/{inbox_id}/members", self.base))
                .bearer_auth(&self.token)
                .json(&json!({"user_id": user_id})),
        )
        .await
        .context("adding an inbox member")
        .map(|_| ())
    }

    /// The server's address.
    pub fn addr(&self) -> Result<SocketAddr> {
        Ok(self.base.trim_start_matches("http://").parse()?)
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    /// Creates an inbox of `kind` ("api", "web_chat") and returns it.
    pub async fn create_inbox(&self, name: &str, kind: &str) -> Result<Value> {
        send(
            self.http
                .post(format!("{}/api/v1/inboxes", self.base))
                .bearer_auth(&self.token)
                .json(&json!({"name": name, "kind": kind})),
        )
        .await
        .with_context(|| format!("creating a {kind} inbox"))
    }

    /// Creates an inbox from a whole create body (a provider channel's settings) and returns it.
    pub async fn create_inbox_from(&self, body: &Value) -> Result<Value> {
        send(
            self.http
                .post(format!("{}/api/v1/inboxes", self.base))
                .bearer_auth(&self.token)
                .json(body),
        )
        .await
        .with_context(|| format!("creating the inbox {body}"))
    }

    /// Ingests one customer message through the API channel.
    pub async fn post_message(
        &self,
        inbox_id: i64,
        contact: &str,
        external_id: &str,
        text: &str,
    ) -> Result<()> {
        send(
            self.http
                .post(format!("{}/api/v1/inboxes/{inbox_id}/messages", self.base))
                .bearer_auth(&self.token)
                .json(&json!({
                    "contact": {"identifier": contact, "name": contact},
                    "external_id": external_id,
                    "text": text,
                })),
        )
        .await
        .map(|_| ())
    }
}

/// Opens a website-chat visitor session and returns its visitor token.
pub async fn widget_session(
    http: &reqwest::Client,
    addr: SocketAddr,
    website_token: &str,
) -> Result<String> {
    let answer = send(
        http.post(format!("http://{addr}/widget/v1/sessions"))
            .json(&json!({"website_token": website_token})),
    )
    .await
    .context("opening a visitor session")?;
    Ok(answer["visitor_token"]
        .as_str()
        .context("no visitor_token in the session answer")?
        .to_owned())
}

/// The id of an inbox object.
pub fn inbox_id(inbox: &Value) -> Result<i64> {
    inbox["id"].as_i64().context("inbox without an id")
}

/// A website visitor's message (`client_id` makes a retry answer the same message); returns the
/// conversation it joined.
pub async fn visitor_message(
    http: &reqwest::Client,
    addr: SocketAddr,
    visitor_token: &str,
    client_id: &str,
    text: &str,
) -> Result<i64> {
    let answer = send(
        http.post(format!("http://{addr}/widget/v1/messages"))
            .bearer_auth(visitor_token)
            .json(&json!({"client_id": client_id, "text": text})),
    )
    .await
    .context("posting a visitor message")?;
    answer["conversation_id"]
        .as_i64()
        .context("no conversation_id in the answer")
}
