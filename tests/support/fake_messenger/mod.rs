//! A stand-in for Meta's Graph API as the Messenger Platform documents it: the Send API
//! (`POST /{version}/{page_id}/messages` with the page access token as a bearer token,
//! `recipient.id`, `messaging_type` and, for `MESSAGE_TAG`, a `tag`), answering
//! `{"recipient_id", "message_id"}` or Meta's error body (`{"error": {"message", "type",
//! "code", "error_subcode", "fbtrace_id"}}`), 429 with Retry-After when told to throttle; and
//! a CDN serving attachment URLs. Every accepted send is recorded.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use serde_json::{json, Value};

pub const PAGE_TOKEN: &str = "EAAGm0PX4ZCpsBA-page-token";

/// A canned refusal the fake answers before it accepts again.
#[derive(Clone)]
pub struct Refusal {
    pub status: u16,
    pub retry_after: Option<&'static str>,
    pub body: Value,
}

impl Refusal {
    /// Meta's page rate limit (code 32) as a 429 with Retry-After.
    pub fn throttled(retry_after: &'static str) -> Refusal {
        Refusal {
            status: 429,
            retry_after: Some(retry_after),
            body: meta_error(32, None, "(#32) Page request limit reached"),
        }
    }
}

#[derive(Default)]
struct Inner {
    /// Accepted sends: (page id, body).
    sent: Vec<(String, Value)>,
    /// Every call, accepted or not.
    calls: usize,
    refusals: VecDeque<Refusal>,
}

#[derive(Clone, Default)]
pub struct FakeMeta {
    inner: Arc<Mutex<Inner>>,
    pub url: String,
}

pub fn meta_error(code: i64, subcode: Option<i64>, message: &str) -> Value {
    let mut error = json!({"message": message, "type": "OAuthException", "code": code,
                           "fbtrace_id": "AbCdEfGhIjK"});
    if let Some(sub) = subcode {
        error["error_subcode"] = json!(sub);
    }
    json!({ "error": error })
}

impl FakeMeta {
    pub async fn start() -> FakeMeta {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let fake = FakeMeta {
            url: format!("http://{}", listener.local_addr().unwrap()),
            ..Default::default()
        };
        let app = axum::Router::new()
            .route("/{version}/{page_id}/messages", post(send))
            .route("/cdn/{name}", get(cdn))
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        fake
    }

    /// The next calls are refused, in order.
    pub fn refuse_next(&self, refusals: impl IntoIterator<Item = Refusal>) {
        self.inner.lock().unwrap().refusals.extend(refusals);
    }

    pub fn sent(&self) -> Vec<(String, Value)> {
        self.inner.lock().unwrap().sent.clone()
    }

    pub fn calls(&self) -> usize {
        self.inner.lock().unwrap().calls
    }

    /// Where the fake CDN serves a file named `name`.
    pub fn cdn_url(&self, name: &str) -> String {
        format!("{}/cdn/{name}?_nc_cat=1&oh=signed", self.url)
    }
}

fn refuse(status: u16, body: Value) -> Response {
    (StatusCode::from_u16(status).unwrap(), Json(body)).into_response()
}

async fn send(
    State(fake): State<FakeMeta>,
    Path((version, page_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let refusal = {
        let mut inner = fake.inner.lock().unwrap();
        inner.calls += 1;
        inner.refusals.pop_front()
    };
    if !version.starts_with('v') {
        return refuse(400, meta_error(2500, None, "Unknown path components"));
    }
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if bearer != Some(PAGE_TOKEN) {
        return refuse(
            400,
            meta_error(
                190,
                None,
                "Invalid OAuth access token - Cannot parse access token",
            ),
        );
    }
    if let Some(r) = refusal {
        let mut response = refuse(r.status, r.body);
        if let Some(wait) = r.retry_after {
            response
                .headers_mut()
                .insert("retry-after", wait.parse().unwrap());
        }
        return response;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return refuse(400, meta_error(100, None, "(#100) Invalid JSON"));
    };
    let recipient = body["recipient"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let text_ok = body["message"]["text"]
        .as_str()
        .is_some_and(|t| !t.is_empty());
    let type_ok = match body["messaging_type"].as_str() {
        Some("RESPONSE" | "UPDATE") => body.get("tag").is_none(),
        Some("MESSAGE_TAG") => matches!(
            body["tag"].as_str(),
            Some(
                "HUMAN_AGENT"
                    | "CONFIRMED_EVENT_UPDATE"
                    | "POST_PURCHASE_UPDATE"
                    | "ACCOUNT_UPDATE"
            )
        ),
        _ => false,
    };
    if recipient.is_empty() || !text_ok || !type_ok {
        return refuse(400, meta_error(100, None, "(#100) Invalid parameter"));
    }
    let n = {
        let mut inner = fake.inner.lock().unwrap();
        inner.sent.push((page_id, body));
        inner.sent.len()
    };
    Json(json!({"recipient_id": recipient, "message_id": format!("m_reply-{n}")})).into_response()
}

/// A tiny JPEG's worth of bytes for any `.jpg`, 404 for anything else (an expired URL).
async fn cdn(Path(name): Path<String>) -> Response {
    if name.ends_with(".jpg") {
        let bytes: Vec<u8> = [0xFF, 0xD8, 0xFF, 0xE0]
            .into_iter()
            .chain(0..60u8)
            .collect();
        ([("content-type", "image/jpeg")], bytes).into_response()
    } else if name.ends_with(".bin") {
        // Bigger than any cap the tests set.
        ([("content-type", "image/jpeg")], vec![0u8; 64 * 1024]).into_response()
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
}
