//! A local stand-in for Meta's Graph API as the WhatsApp Cloud API documents it: versioned paths
//! (`/v21.0/…`), a bearer token on every call (Meta's code 190 body without it), `POST
//! /{phone_number_id}/messages` checked for the documented text and template shapes (code 100
//! for anything else, 132001 for an unknown template), `GET /{media_id}` answering a short-lived
//! URL whose download needs the token too, and `GET /{waba_id}/message_templates`. A test can
//! script refusals for the next sends: Meta error bodies, or 429 with `Retry-After`.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

pub const TOKEN: &str = "EAAJB-fake-system-user-token";
pub const VERSION: &str = "v21.0";
pub const PHONE_NUMBER_ID: &str = "106540352242922";
pub const WABA_ID: &str = "102290129340398";

/// What the fake answers the next send with instead of accepting it.
#[derive(Clone, Debug)]
pub enum Refusal {
    /// 429 with `Retry-After` (seconds) and Meta's throughput error (130429).
    TooManyRequests { retry_after: u64 },
    /// A Meta error body under an HTTP status.
    Meta {
        status: u16,
        code: i64,
        message: String,
    },
}

#[derive(Default)]
struct Shared {
    base: String,
    /// Every send the fake accepted, as its JSON body.
    sent: Mutex<Vec<Value>>,
    /// Every send attempt, refused or not.
    attempts: AtomicUsize,
    refusals: Mutex<VecDeque<Refusal>>,
    /// media id → (bytes, MIME type)
    media: Mutex<HashMap<String, (Vec<u8>, String)>>,
    /// Media ids asked for with the right token.
    downloads: Mutex<Vec<String>>,
    templates: Mutex<Vec<Value>>,
}

#[derive(Clone)]
pub struct FakeWhatsapp {
    pub url: String,
    shared: Arc<Shared>,
}

impl FakeWhatsapp {
    pub async fn start() -> FakeWhatsapp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Shared {
            base: url.clone(),
            ..Default::default()
        });
        let app = Router::new()
            .route("/{version}/{node}/messages", post(send_message))
            .route("/{version}/{node}/message_templates", get(templates))
            .route("/{version}/{node}", get(media_url))
            .route("/cdn/{media_id}", get(download))
            .with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeWhatsapp { url, shared }
    }

    pub fn sent(&self) -> Vec<Value> {
        self.shared.sent.lock().unwrap().clone()
    }

    pub fn attempts(&self) -> usize {
        self.shared.attempts.load(Ordering::SeqCst)
    }

    pub fn refuse_next(&self, refusal: Refusal) {
        self.shared.refusals.lock().unwrap().push_back(refusal);
    }

    pub fn add_media(&self, id: &str, bytes: Vec<u8>, mime_type: &str) {
        self.shared
            .media
            .lock()
            .unwrap()
            .insert(id.into(), (bytes, mime_type.into()));
    }

    pub fn downloads(&self) -> Vec<String> {
        self.shared.downloads.lock().unwrap().clone()
    }

    /// An approved template with this body.
    pub fn add_template(&self, name: &str, language: &str, body: &str) {
        self.shared.templates.lock().unwrap().push(json!({
            "name": name, "language": language, "status": "APPROVED", "category": "UTILITY",
            "id": format!("tpl-{name}"),
            "components": [{"type": "BODY", "text": body}],
        }));
    }

    pub fn add_pending_template(&self, name: &str) {
        self.shared.templates.lock().unwrap().push(json!({
            "name": name, "language": "en_US", "status": "PENDING", "category": "MARKETING",
            "components": [{"type": "BODY", "text": "Not yet"}],
        }));
    }
}

fn meta_error(status: StatusCode, code: i64, message: &str) -> Response {
    (
        status,
        Json(
            json!({"error": {"message": message, "type": "OAuthException", "code": code,
                              "fbtrace_id": "AbCdEfGhIjK"}}),
        ),
    )
        .into_response()
}

/// Meta's answer to a call without the token, or with a wrong one; `None` when it is right.
fn unauthorized(headers: &HeaderMap) -> Option<Response> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if given == Some(&format!("Bearer {TOKEN}")) {
        return None;
    }
    Some(meta_error(
        StatusCode::UNAUTHORIZED,
        190,
        "Invalid OAuth access token - Cannot parse access token",
    ))
}

/// Meta's answer to a path without the version the hub is set to; `None` when it names it.
fn unknown_version(version: &str) -> Option<Response> {
    if version == VERSION {
        return None;
    }
    Some(meta_error(
        StatusCode::BAD_REQUEST,
        100,
        "Unknown path components",
    ))
}

async fn send_message(
    State(shared): State<Arc<Shared>>,
    Path((version, node)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    shared.attempts.fetch_add(1, Ordering::SeqCst);
    if let Some(refused) = unauthorized(&headers).or_else(|| unknown_version(&version)) {
        return refused;
    }
    if node != PHONE_NUMBER_ID {
        return meta_error(
            StatusCode::BAD_REQUEST,
            100,
            "(#100) Invalid phone number id",
        );
    }
    if let Some(refusal) = shared.refusals.lock().unwrap().pop_front() {
        return match refusal {
            Refusal::TooManyRequests { retry_after } => {
                let mut response = meta_error(
                    StatusCode::TOO_MANY_REQUESTS,
                    130429,
                    "(#130429) Rate limit hit",
                );
                response.headers_mut().insert(
                    header::RETRY_AFTER,
                    retry_after.to_string().parse().unwrap(),
                );
                response
            }
            Refusal::Meta {
                status,
                code,
                message,
            } => meta_error(StatusCode::from_u16(status).unwrap(), code, &message),
        };
    }
    if let Some(refused) = wrong_shape(&shared, &body) {
        return refused;
    }
    let mut sent = shared.sent.lock().unwrap();
    sent.push(body.clone());
    let to = body["to"].clone();
    Json(json!({
        "messaging_product": "whatsapp",
        "contacts": [{"input": to, "wa_id": to}],
        "messages": [{"id": format!("wamid.fake-out-{}", sent.len())}],
    }))
    .into_response()
}

/// Meta's refusal of a body that is not one of the documented text and template shapes.
fn wrong_shape(shared: &Shared, body: &Value) -> Option<Response> {
    let invalid = |why: &str| meta_error(StatusCode::BAD_REQUEST, 100, &format!("(#100) {why}"));
    if body["messaging_product"] != "whatsapp" {
        return Some(invalid("messaging_product must be whatsapp"));
    }
    let to = body["to"].as_str().unwrap_or_default();
    if to.is_empty() || !to.chars().all(|c| c.is_ascii_digit()) {
        return Some(invalid("to must be a phone number's digits"));
    }
    match body["type"].as_str() {
        Some("text") => {
            let text = body["text"]["body"].as_str().unwrap_or_default();
            if text.is_empty() || text.chars().count() > 4096 {
                return Some(invalid("text.body must be 1 to 4096 characters"));
            }
        }
        Some("template") => {
            let name = body["template"]["name"].as_str().unwrap_or_default();
            let language = body["template"]["language"]["code"]
                .as_str()
                .unwrap_or_default();
            let known = shared.templates.lock().unwrap().iter().any(|t| {
                t["name"] == name && t["language"] == language && t["status"] == "APPROVED"
            });
            if !known {
                return Some(meta_error(
                    StatusCode::NOT_FOUND,
                    132001,
                    "(#132001) Template name does not exist in the translation",
                ));
            }
            for component in body["template"]["components"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let parameters = component["parameters"].as_array();
                if component["type"] != "body"
                    || parameters.is_none_or(|p| p.iter().any(|p| p["type"] != "text"))
                {
                    return Some(invalid("template components must be body text parameters"));
                }
            }
        }
        _ => return Some(invalid("type must be text or template here")),
    }
    None
}

async fn media_url(
    State(shared): State<Arc<Shared>>,
    Path((version, node)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = unauthorized(&headers).or_else(|| unknown_version(&version)) {
        return refused;
    }
    if query
        .get("phone_number_id")
        .is_some_and(|p| p != PHONE_NUMBER_ID)
    {
        return meta_error(
            StatusCode::BAD_REQUEST,
            100,
            "(#100) media does not belong to this number",
        );
    }
    let media = shared.media.lock().unwrap();
    let Some((bytes, mime_type)) = media.get(&node) else {
        return meta_error(StatusCode::NOT_FOUND, 100, "(#100) Unsupported get request");
    };
    Json(json!({
        "messaging_product": "whatsapp",
        "url": format!("{}/cdn/{node}", shared.base),
        "mime_type": mime_type,
        "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "file_size": bytes.len().to_string(),
        "id": node,
    }))
    .into_response()
}

async fn download(
    State(shared): State<Arc<Shared>>,
    Path(media_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = unauthorized(&headers) {
        return refused;
    }
    let Some((bytes, mime_type)) = shared.media.lock().unwrap().get(&media_id).cloned() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    shared.downloads.lock().unwrap().push(media_id);
    ([(header::CONTENT_TYPE, mime_type)], bytes).into_response()
}

async fn templates(
    State(shared): State<Arc<Shared>>,
    Path((version, node)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = unauthorized(&headers).or_else(|| unknown_version(&version)) {
        return refused;
    }
    if node != WABA_ID {
        return meta_error(
            StatusCode::BAD_REQUEST,
            100,
            "(#100) Unknown WhatsApp Business Account",
        );
    }
    let data: Vec<Value> = shared
        .templates
        .lock()
        .unwrap()
        .iter()
        .filter(|t| {
            query
                .get("status")
                .is_none_or(|s| t["status"] == s.as_str())
        })
        .cloned()
        .collect();
    Json(json!({"data": data, "paging": {"cursors": {"before": "QVFIUk", "after": "QVFIUl"}}}))
        .into_response()
}
