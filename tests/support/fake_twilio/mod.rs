//! A stand-in for Twilio on loopback, behaving as its public documentation says: the Messages
//! API (`POST /2010-04-01/Accounts/{sid}/Messages.json`, form encoded, HTTP basic auth with the
//! account SID and auth token, `201` with the message resource, errors as
//! `{code, message, more_info, status}`), media URLs that want the same auth and redirect to a
//! CDN, and the webhooks Twilio sends (form posts signed with `X-Twilio-Signature`). It records
//! what it received and can refuse on demand (429 with Retry-After, 500).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use serde_json::json;
use switchboard_connector_twilio::signature;

pub const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
pub const AUTH_TOKEN: &str = "f3a1c9e07b2d48e6a5c4b3d2e1f09a87";

/// A refusal the fake answers with instead of sending, once.
#[derive(Clone, Debug)]
pub enum Refusal {
    TooManyRequests { retry_after_secs: u64 },
    ServerError,
}

#[derive(Default)]
pub struct Recorded {
    /// Every accepted send's form, in order.
    pub sent: Vec<HashMap<String, String>>,
    /// Every send request, refused or not.
    pub attempts: usize,
    /// Media fetches that came with the right credentials.
    pub media_fetches: usize,
    refusals: VecDeque<Refusal>,
    media: HashMap<String, (String, Vec<u8>)>,
}

#[derive(Clone)]
pub struct FakeTwilio {
    pub url: String,
    pub state: Arc<Mutex<Recorded>>,
}

fn twilio_error(status: StatusCode, code: u32, message: &str) -> Response {
    let body = json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status.as_u16(),
    });
    (status, Json(body)).into_response()
}

/// Whether the request carries Basic `ACCOUNT_SID:AUTH_TOKEN`.
fn authorised(headers: &HeaderMap) -> bool {
    let expected =
        base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT_SID}:{AUTH_TOKEN}"));
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Basic {expected}"))
}

fn e164(value: &str) -> bool {
    switchboard_connector_twilio::is_e164(value.strip_prefix("whatsapp:").unwrap_or(value))
}

async fn create_message(
    State(fake): State<FakeTwilio>,
    Path(account): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if !authorised(&headers) || account != ACCOUNT_SID {
        return twilio_error(StatusCode::UNAUTHORIZED, 20003, "Authenticate");
    }
    let mut state = fake.state.lock().unwrap();
    state.attempts += 1;
    if let Some(refusal) = state.refusals.pop_front() {
        return match refusal {
            Refusal::TooManyRequests { retry_after_secs } => {
                let mut response =
                    twilio_error(StatusCode::TOO_MANY_REQUESTS, 20429, "Too Many Requests");
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, retry_after_secs.into());
                response
            }
            Refusal::ServerError => twilio_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                20500,
                "Internal Server Error",
            ),
        };
    }
    let to = form.get("To").cloned().unwrap_or_default();
    if !e164(&to) {
        return twilio_error(
            StatusCode::BAD_REQUEST,
            21211,
            &format!("The 'To' number {to} is not a valid phone number."),
        );
    }
    if !form.contains_key("From") && !form.contains_key("MessagingServiceSid") {
        return twilio_error(
            StatusCode::BAD_REQUEST,
            21603,
            "A 'From' or 'MessagingServiceSid' parameter is required to send a message",
        );
    }
    if form.get("Body").is_none_or(|b| b.is_empty()) {
        return twilio_error(StatusCode::BAD_REQUEST, 21602, "Message body is required.");
    }
    state.sent.push(form.clone());
    let sid = format!("SM{:032x}", state.sent.len());
    let body = json!({
        "sid": sid,
        "account_sid": ACCOUNT_SID,
        "to": to,
        "from": form.get("From"),
        "messaging_service_sid": form.get("MessagingServiceSid"),
        "body": form.get("Body"),
        "status": "queued",
        "num_media": "0",
        "direction": "outbound-api",
        "api_version": "2010-04-01",
        "error_code": null,
        "error_message": null,
        "uri": format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json"),
    });
    (StatusCode::CREATED, Json(body)).into_response()
}

async fn media(
    State(fake): State<FakeTwilio>,
    Path((account, _message, media)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    if !authorised(&headers) || account != ACCOUNT_SID {
        return twilio_error(StatusCode::UNAUTHORIZED, 20003, "Authenticate");
    }
    fake.state.lock().unwrap().media_fetches += 1;
    (
        StatusCode::TEMPORARY_REDIRECT,
        [(header::LOCATION, format!("{}/cdn/{media}", fake.url))],
    )
        .into_response()
}

async fn cdn(State(fake): State<FakeTwilio>, Path(media): Path<String>) -> Response {
    match fake.state.lock().unwrap().media.get(&media) {
        Some((content_type, bytes)) => (
            [(header::CONTENT_TYPE, content_type.clone())],
            bytes.clone(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

impl FakeTwilio {
    pub async fn start() -> FakeTwilio {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let fake = FakeTwilio {
            url: format!("http://{}", listener.local_addr().unwrap()),
            state: Arc::default(),
        };
        let app = Router::new()
            .route(
                "/2010-04-01/Accounts/{account}/Messages.json",
                post(create_message),
            )
            .route(
                "/2010-04-01/Accounts/{account}/Messages/{message}/Media/{media}",
                get(media),
            )
            .route("/cdn/{media}", get(cdn))
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        fake
    }

    /// The next send is refused this way (they queue up).
    pub fn refuse_next(&self, refusal: Refusal) {
        self.state.lock().unwrap().refusals.push_back(refusal);
    }

    pub fn sent(&self) -> Vec<HashMap<String, String>> {
        self.state.lock().unwrap().sent.clone()
    }

    /// Holds a media file for a message and answers its Twilio media URL.
    pub fn hold_media(
        &self,
        message_sid: &str,
        media_sid: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> String {
        self.state
            .lock()
            .unwrap()
            .media
            .insert(media_sid.into(), (content_type.into(), bytes.to_vec()));
        format!(
            "{}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{message_sid}/Media/{media_sid}",
            self.url
        )
    }
}

/// One webhook call as Twilio makes it: a form post to `hub_url` (where the hub listens),
/// signed over `signed_url` (the webhook URL as configured at Twilio) and the parameters.
pub struct Webhook {
    pub params: Vec<(String, String)>,
}

impl Webhook {
    pub fn new(pairs: &[(&str, &str)]) -> Webhook {
        Webhook {
            params: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// A customer's SMS to the inbox's number, as Twilio posts it.
    pub fn inbound_sms(message_sid: &str, from: &str, body: &str) -> Webhook {
        Webhook::new(&[
            ("ToCountry", "US"),
            ("SmsMessageSid", message_sid),
            ("NumMedia", "0"),
            ("SmsSid", message_sid),
            ("SmsStatus", "received"),
            ("Body", body),
            ("To", "+14155550199"),
            ("NumSegments", "1"),
            ("MessageSid", message_sid),
            ("AccountSid", ACCOUNT_SID),
            ("From", from),
            ("ApiVersion", "2010-04-01"),
        ])
    }

    /// A status callback about a message we sent.
    pub fn status(message_sid: &str, status: &str) -> Webhook {
        Webhook::new(&[
            ("SmsSid", message_sid),
            ("SmsStatus", status),
            ("MessageStatus", status),
            ("To", "+14155550100"),
            ("MessageSid", message_sid),
            ("AccountSid", ACCOUNT_SID),
            ("From", "+14155550199"),
            ("ApiVersion", "2010-04-01"),
        ])
    }

    pub fn with(mut self, name: &str, value: &str) -> Webhook {
        self.params.push((name.into(), value.into()));
        self
    }

    pub fn signature(&self, signed_url: &str, auth_token: &str) -> String {
        signature::sign(auth_token, signed_url, &self.params)
    }

    pub fn body(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(self.params.iter())
            .finish()
    }

    /// Posts it with the signature Twilio would compute.
    pub async fn post(
        &self,
        http: &reqwest::Client,
        hub_url: &str,
        signed_url: &str,
    ) -> reqwest::Response {
        let signature = self.signature(signed_url, AUTH_TOKEN);
        self.post_with(http, hub_url, Some(&signature), self.body())
            .await
    }

    /// Posts `body` with whatever signature header the test wants (or none).
    pub async fn post_with(
        &self,
        http: &reqwest::Client,
        hub_url: &str,
        signature: Option<&str>,
        body: String,
    ) -> reqwest::Response {
        self.try_post_with(http, hub_url, signature, body)
            .await
            .unwrap()
    }

    /// The same, for a hub that may be down (Twilio retries then).
    pub async fn try_post_with(
        &self,
        http: &reqwest::Client,
        hub_url: &str,
        signature: Option<&str>,
        body: String,
    ) -> reqwest::Result<reqwest::Response> {
        let mut request = http
            .post(hub_url)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body);
        if let Some(signature) = signature {
            request = request.header("X-Twilio-Signature", signature);
        }
        request.send().await
    }
}
