//! A stand-in for Vonage's Messages API on loopback, as its documentation describes it:
//! `POST /v1/messages` with an application JWT (RS256, checked against the application's
//! public key and id), `202 {"message_uuid"}` on success, RFC 7807 problems on refusal (and 429
//! with Retry-After or 500 on demand); and the webhooks Vonage sends, JSON signed with an HS256
//! JWT whose `payload_hash` is the SHA-256 of the body.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use switchboard_connector_vonage::ApplicationKey;

pub const APPLICATION_ID: &str = "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab";
pub const SIGNATURE_SECRET: &str = "vonage-signature-secret-0123456789";
pub const PRIVATE_KEY: &str = include_str!("application_key.pem");

#[derive(Clone, Debug)]
pub enum Refusal {
    TooManyRequests { retry_after_secs: u64 },
    ServerError,
}

#[derive(Default)]
pub struct Recorded {
    pub sent: Vec<Value>,
    pub attempts: usize,
    refusals: VecDeque<Refusal>,
}

#[derive(Clone)]
pub struct FakeVonage {
    pub url: String,
    pub state: Arc<Mutex<Recorded>>,
    /// The application's public key, as Vonage keeps it.
    public: (String, String),
}

fn problem(status: StatusCode, title: &str, detail: &str) -> Response {
    let body = json!({
        "type": format!("https://developer.vonage.com/api-errors#{}", status.as_u16()),
        "title": title,
        "detail": detail,
        "instance": "bf0ca0bf927b3b52e3cb03217e1a1ddf",
    });
    (status, Json(body)).into_response()
}

async fn send(
    State(fake): State<FakeVonage>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let key = DecodingKey::from_rsa_components(&fake.public.0, &fake.public.1).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_required_spec_claims(&["exp", "iat", "jti"]);
    let claims = token.and_then(|t| jsonwebtoken::decode::<Value>(t, &key, &validation).ok());
    if claims.is_none_or(|c| c.claims["application_id"] != APPLICATION_ID) {
        return problem(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "You did not provide correct credentials.",
        );
    }
    let mut state = fake.state.lock().unwrap();
    state.attempts += 1;
    if let Some(refusal) = state.refusals.pop_front() {
        return match refusal {
            Refusal::TooManyRequests { retry_after_secs } => {
                let mut response = problem(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Rate Limit Hit",
                    "Please wait, then retry your request",
                );
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, retry_after_secs.into());
                response
            }
            Refusal::ServerError => problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal Error",
                "Something went wrong",
            ),
        };
    }
    let digits = |v: &Value| {
        v.as_str()
            .is_some_and(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()))
    };
    if body["message_type"] != "text" || body["channel"] != "sms" || !digits(&body["to"]) {
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid params",
            "The value of one or more parameters is invalid.",
        );
    }
    state.sent.push(body);
    let uuid = format!("aaaaaaaa-0000-4000-8000-{:012x}", state.sent.len());
    (StatusCode::ACCEPTED, Json(json!({ "message_uuid": uuid }))).into_response()
}

impl FakeVonage {
    pub async fn start() -> FakeVonage {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let fake = FakeVonage {
            url: format!("http://{}", listener.local_addr().unwrap()),
            state: Arc::default(),
            public: ApplicationKey::from_pem(PRIVATE_KEY)
                .unwrap()
                .public_components(),
        };
        let app = Router::new()
            .route("/v1/messages", post(send))
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        fake
    }

    pub fn refuse_next(&self, refusal: Refusal) {
        self.state.lock().unwrap().refusals.push_back(refusal);
    }

    pub fn sent(&self) -> Vec<Value> {
        self.state.lock().unwrap().sent.clone()
    }
}

/// The JWT Vonage puts in a webhook's `Authorization` for `body`, signed with `secret`.
pub fn webhook_token(secret: &str, body: &[u8]) -> String {
    let claims = json!({
        "iat": 1_700_000_000,
        "jti": "c5ba8f24-1a14-4c10-bfdf-3fbe8ce511b5",
        "iss": "Vonage",
        "payload_hash": hex::encode(Sha256::digest(body)),
        "api_key": "abcd1234",
        "application_id": APPLICATION_ID,
    });
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// An inbound SMS as the Messages API posts it.
pub fn inbound_sms(message_uuid: &str, from: &str, text: &str) -> Value {
    json!({
        "channel": "sms",
        "message_uuid": message_uuid,
        "to": "447700900000",
        "from": from,
        "timestamp": "2025-02-03T12:14:25Z",
        "text": text,
        "sms": {"num_messages": "1"},
        "message_type": "text",
    })
}

/// A message status as the Messages API posts it.
pub fn status(message_uuid: &str, status: &str) -> Value {
    json!({
        "message_uuid": message_uuid,
        "to": "447700900001",
        "from": "447700900000",
        "timestamp": "2025-02-03T12:14:30Z",
        "status": status,
        "channel": "sms",
        "usage": {"currency": "EUR", "price": "0.0333"},
    })
}

/// Posts a webhook body with the signature Vonage would send (or `authorization` as given).
pub async fn post_webhook(
    http: &reqwest::Client,
    hub_url: &str,
    body: &[u8],
    authorization: Option<String>,
) -> reqwest::Response {
    let mut request = http
        .post(hub_url)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.to_vec());
    if let Some(value) = authorization {
        request = request.header(header::AUTHORIZATION, value);
    }
    request.send().await.unwrap()
}
