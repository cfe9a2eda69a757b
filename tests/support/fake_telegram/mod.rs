//! A stand-in for Telegram's Bot API, behaving as its documentation says: methods under
//! `/bot<token>/<method>` (any other token is 401 Unauthorized), JSON bodies, answers in the
//! `{"ok": …, "result" | "error_code", "description", "parameters"}` envelope, `getUpdates`
//! long polling with offsets (an offset confirms every update below it, and unconfirmed ones
//! are answered again), 409 Conflict for `getUpdates` while a webhook is set, flood control as
//! 429 with `parameters.retry_after` (no header), `getFile` and the `/file/bot<token>/<path>`
//! download. Its state outlives `stop` and `restart` on the same port, as Telegram's updates
//! outlive a network blip.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

/// Telegram's own example token.
pub const TOKEN: &str = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    pub chat_id: String,
    /// The message's text, or a file's caption.
    pub text: String,
    pub message_id: i64,
    /// `sendPhoto` / `sendDocument`: the method, and the file as uploaded.
    pub file: Option<SentFile>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentFile {
    pub method: String,
    pub filename: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

#[derive(Clone, Debug)]
pub struct Webhook {
    pub url: String,
    pub secret_token: String,
    pub allowed_updates: Value,
}

#[derive(Default)]
struct Bot {
    /// Unconfirmed updates, oldest first.
    pending: VecDeque<Value>,
    next_update_id: i64,
    next_message_id: i64,
    webhook: Option<Webhook>,
    webhook_deletes: usize,
    sent: Vec<Sent>,
    send_attempts: usize,
    /// Flood control for the next sends: each entry answers one sendMessage with 429.
    throttle: VecDeque<u64>,
    files: HashMap<String, (String, Vec<u8>)>,
    polls_open: usize,
    most_polls_open: usize,
    /// The offsets getUpdates was called with, in order.
    offsets: Vec<Option<i64>>,
    wrong_tokens: usize,
    /// File downloads still to answer 500 (a passing fault at Telegram's file servers).
    failing_downloads: usize,
}

struct Shared {
    bot: Mutex<Bot>,
    arrived: Notify,
}

pub struct FakeTelegram {
    addr: SocketAddr,
    shared: Arc<Shared>,
    running: Option<(JoinHandle<()>, watch::Sender<bool>)>,
}

impl FakeTelegram {
    pub async fn start() -> FakeTelegram {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let shared = Arc::new(Shared {
            bot: Mutex::new(Bot {
                next_update_id: 500_000,
                next_message_id: 9000,
                ..Bot::default()
            }),
            arrived: Notify::new(),
        });
        let mut fake = FakeTelegram {
            addr: listener.local_addr().unwrap(),
            shared,
            running: None,
        };
        fake.serve(listener);
        fake
    }

    /// What `providers.telegram_api_url` is set to.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let (stop, stopping) = watch::channel(false);
        let app = Router::new()
            .route("/{bot}/{method}", post(method).get(method))
            .route("/file/{bot}/{*path}", get(download))
            .with_state((self.shared.clone(), stopping.clone()));
        let mut until = stopping;
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = until.wait_for(|s| *s).await;
                })
                .await
                .unwrap();
        });
        self.running = Some((task, stop));
    }

    /// Goes away: open long polls are cut short (502, as a proxy in front of a dead Bot API
    /// answers) and the port stops answering.
    pub async fn stop(&mut self) {
        if let Some((task, stop)) = self.running.take() {
            let _ = stop.send(true);
            let _ = task.await;
        }
    }

    /// Comes back on the same port, with every update and send it had.
    pub async fn restart(&mut self) {
        self.stop().await;
        let listener = tokio::net::TcpListener::bind(self.addr).await.unwrap();
        self.serve(listener);
    }

    fn bot(&self) -> std::sync::MutexGuard<'_, Bot> {
        self.shared.bot.lock().unwrap()
    }

    /// A customer writes in their private chat with the bot: the update, queued for polling
    /// (and returned, to be delivered by webhook).
    pub fn customer_says(&self, chat_id: i64, first_name: &str, text: &str) -> Value {
        self.queue(chat_id, first_name, json!({ "text": text }))
    }

    /// A customer sends a photo (Telegram's three sizes of it) with a caption.
    pub fn customer_sends_photo(&self, chat_id: i64, caption: &str, jpeg: &[u8]) -> Value {
        let mut bot = self.bot();
        let n = bot.files.len();
        let sizes: Vec<Value> = [(90, 67, 1), (320, 240, 2), (1280, 960, 3)]
            .iter()
            .map(|(w, h, k)| {
                let id = format!("photo-{n}-{k}");
                let bytes = if *k == 3 {
                    jpeg.to_vec()
                } else {
                    vec![0xFF; 10]
                };
                bot.files.insert(
                    id.clone(),
                    (format!("photos/file_{n}_{k}.jpg"), bytes.clone()),
                );
                json!({"file_id": id, "file_unique_id": format!("u{n}{k}"), "width": w,
                       "height": h, "file_size": bytes.len()})
            })
            .collect();
        drop(bot);
        self.queue(
            chat_id,
            "Ana",
            json!({ "caption": caption, "photo": sizes }),
        )
    }

    /// A customer sends a document as it is on their device.
    pub fn customer_sends_document(
        &self,
        chat_id: i64,
        file_name: &str,
        mime_type: &str,
        bytes: &[u8],
    ) -> Value {
        let mut bot = self.bot();
        let id = format!("doc-{}", bot.files.len());
        bot.files
            .insert(id.clone(), (format!("documents/{id}"), bytes.to_vec()));
        drop(bot);
        self.queue(
            chat_id,
            "Ana",
            json!({"document": {"file_id": id, "file_unique_id": format!("u{id}"),
            "file_name": file_name, "mime_type": mime_type, "file_size": bytes.len()}}),
        )
    }

    fn queue(&self, chat_id: i64, first_name: &str, content: Value) -> Value {
        let mut bot = self.bot();
        bot.next_update_id += 1;
        bot.next_message_id += 1;
        let mut message = json!({
            "message_id": bot.next_message_id,
            "date": 1_700_000_000,
            "from": {"id": chat_id, "is_bot": false, "first_name": first_name},
            "chat": {"id": chat_id, "type": "private", "first_name": first_name},
        });
        for (k, v) in content.as_object().unwrap() {
            message[k] = v.clone();
        }
        let update = json!({"update_id": bot.next_update_id, "message": message});
        bot.pending.push_back(update.clone());
        drop(bot);
        self.shared.arrived.notify_waiters();
        update
    }

    /// The next `n` sends are refused by flood control, asking for `retry_after` seconds.
    pub fn throttle_sends(&self, n: usize, retry_after: u64) {
        self.bot()
            .throttle
            .extend(std::iter::repeat_n(retry_after, n));
    }

    pub fn sent(&self) -> Vec<Sent> {
        self.bot().sent.clone()
    }

    pub fn send_attempts(&self) -> usize {
        self.bot().send_attempts
    }

    pub fn webhook(&self) -> Option<Webhook> {
        self.bot().webhook.clone()
    }

    pub fn webhook_deletes(&self) -> usize {
        self.bot().webhook_deletes
    }

    /// Sets a webhook as another program would (getUpdates then answers 409).
    pub fn set_webhook_elsewhere(&self, url: &str) {
        self.bot().webhook = Some(Webhook {
            url: url.into(),
            secret_token: "elsewhere".into(),
            allowed_updates: Value::Null,
        });
    }

    /// Updates not yet confirmed by a later getUpdates offset.
    pub fn unconfirmed(&self) -> usize {
        self.bot().pending.len()
    }

    /// The most getUpdates calls that were ever open at once (Telegram allows one).
    pub fn most_polls_open(&self) -> usize {
        self.bot().most_polls_open
    }

    /// The next `n` file downloads fail with 500.
    pub fn fail_downloads(&self, n: usize) {
        self.bot().failing_downloads = n;
    }

    pub fn wrong_tokens(&self) -> usize {
        self.bot().wrong_tokens
    }

    /// Waits until `check` holds of the fake (10 s at most).
    pub async fn until(&self, what: &str, check: impl Fn(&FakeTelegram) -> bool) {
        for _ in 0..200 {
            if check(self) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the fake Bot API never saw: {what}");
    }
}

fn ok(result: Value) -> Response {
    Json(json!({"ok": true, "result": result})).into_response()
}

fn error(status: StatusCode, description: &str, parameters: Option<Value>) -> Response {
    let mut body = json!({"ok": false, "error_code": status.as_u16(), "description": description});
    if let Some(p) = parameters {
        body["parameters"] = p;
    }
    (status, Json(body)).into_response()
}

type FakeState = (Arc<Shared>, watch::Receiver<bool>);

async fn method(
    State((shared, stopping)): State<FakeState>,
    Path((bot_path, method)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if bot_path != format!("bot{TOKEN}") {
        shared.bot.lock().unwrap().wrong_tokens += 1;
        return error(StatusCode::UNAUTHORIZED, "Unauthorized", None);
    }
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let (params, upload) = match content_type.split_once("boundary=") {
        Some((_, boundary)) if content_type.starts_with("multipart/form-data") => {
            multipart(&body, boundary.trim_matches('"'))
        }
        _ => (serde_json::from_slice(&body).unwrap_or(json!({})), None),
    };
    match method.as_str() {
        "getUpdates" => get_updates(&shared, stopping, &params).await,
        "setWebhook" => {
            let mut bot = shared.bot.lock().unwrap();
            let url = params["url"].as_str().unwrap_or_default().to_string();
            bot.webhook = (!url.is_empty()).then(|| Webhook {
                url,
                secret_token: params["secret_token"].as_str().unwrap_or_default().into(),
                allowed_updates: params["allowed_updates"].clone(),
            });
            ok(json!(true))
        }
        "deleteWebhook" => {
            let mut bot = shared.bot.lock().unwrap();
            if params["drop_pending_updates"] == true {
                bot.pending.clear();
            }
            bot.webhook = None;
            bot.webhook_deletes += 1;
            ok(json!(true))
        }
        "sendMessage" | "sendPhoto" | "sendDocument" => {
            let field = match method.as_str() {
                "sendPhoto" => Some("photo"),
                "sendDocument" => Some("document"),
                _ => None,
            };
            let file = match (field, upload) {
                (None, _) => None,
                (Some(field), Some((name, file))) if name == field => Some(SentFile {
                    method: method.clone(),
                    ..file
                }),
                (Some(field), _) => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        &format!("Bad Request: there is no {field} in the request"),
                        None,
                    )
                }
            };
            let mut bot = shared.bot.lock().unwrap();
            bot.send_attempts += 1;
            if let Some(wait) = bot.throttle.pop_front() {
                return error(
                    StatusCode::TOO_MANY_REQUESTS,
                    &format!("Too Many Requests: retry after {wait}"),
                    Some(json!({"retry_after": wait})),
                );
            }
            let chat_id = match &params["chat_id"] {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "Bad Request: chat_id is empty",
                        None,
                    )
                }
            };
            let words = if file.is_some() {
                &params["caption"]
            } else {
                &params["text"]
            };
            let text = words.as_str().unwrap_or_default();
            if file.is_none() && text.is_empty() {
                return error(
                    StatusCode::BAD_REQUEST,
                    "Bad Request: message text is empty",
                    None,
                );
            }
            bot.next_message_id += 1;
            let sent = Sent {
                chat_id: chat_id.clone(),
                text: text.into(),
                message_id: bot.next_message_id,
                file,
            };
            bot.sent.push(sent.clone());
            let id: i64 = chat_id.parse().unwrap_or_default();
            ok(json!({"message_id": sent.message_id, "date": 1_700_000_001,
                      "chat": {"id": id, "type": "private"}, "text": text}))
        }
        "getFile" => {
            let bot = shared.bot.lock().unwrap();
            let id = params["file_id"].as_str().unwrap_or_default();
            match bot.files.get(id) {
                Some((path, bytes)) => ok(json!({"file_id": id, "file_unique_id": "x",
                                                  "file_size": bytes.len(), "file_path": path})),
                None => error(
                    StatusCode::BAD_REQUEST,
                    "Bad Request: invalid file_id",
                    None,
                ),
            }
        }
        _ => error(StatusCode::NOT_FOUND, "Not Found", None),
    }
}

/// A multipart/form-data body: its text fields as JSON, and its one file part (field name and
/// file) if it has one.
fn multipart(body: &[u8], boundary: &str) -> (Value, Option<(String, SentFile)>) {
    let mut fields = serde_json::Map::new();
    let mut upload = None;
    let delimiter = format!("--{boundary}");
    let text = body;
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(at) = find(rest, delimiter.as_bytes()) {
        parts.push(&rest[..at]);
        rest = &rest[at + delimiter.len()..];
    }
    for part in parts.into_iter().skip(1) {
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let part = part.strip_suffix(b"\r\n").unwrap_or(part);
        let Some(split) = find(part, b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&part[..split]).to_string();
        let data = part[split + 4..].to_vec();
        let attr = |key: &str| {
            head.split(';')
                .find_map(|p| p.trim().strip_prefix(&format!("{key}=\"")))
                .and_then(|v| v.split('"').next())
                .map(str::to_string)
        };
        let Some(name) = attr("name") else { continue };
        match attr("filename") {
            Some(filename) => {
                let content_type = head
                    .lines()
                    .find_map(|l| {
                        l.strip_prefix("Content-Type: ")
                            .or_else(|| l.strip_prefix("content-type: "))
                    })
                    .unwrap_or("application/octet-stream")
                    .trim()
                    .to_string();
                upload = Some((
                    name,
                    SentFile {
                        method: String::new(),
                        filename,
                        content_type,
                        data,
                    },
                ));
            }
            None => {
                fields.insert(name, Value::String(String::from_utf8_lossy(&data).into()));
            }
        }
    }
    (Value::Object(fields), upload)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

async fn get_updates(
    shared: &Shared,
    mut stopping: watch::Receiver<bool>,
    params: &Value,
) -> Response {
    let offset = params["offset"].as_i64();
    let timeout = Duration::from_secs(params["timeout"].as_u64().unwrap_or(0));
    {
        let mut bot = shared.bot.lock().unwrap();
        if bot.webhook.is_some() {
            return error(
                StatusCode::CONFLICT,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
                None,
            );
        }
        if bot.polls_open > 0 {
            return error(
                StatusCode::CONFLICT,
                "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                None,
            );
        }
        bot.offsets.push(offset);
        if let Some(offset) = offset {
            bot.pending
                .retain(|u| u["update_id"].as_i64().unwrap_or_default() >= offset);
        }
        bot.polls_open += 1;
        bot.most_polls_open = bot.most_polls_open.max(bot.polls_open);
    }
    // Closed however the poll ends, also when the client hangs up mid-poll.
    let _open = PollOpen(shared);
    let deadline = tokio::time::Instant::now() + timeout;
    let answer = loop {
        let arrived = shared.arrived.notified();
        let updates: Vec<Value> = shared
            .bot
            .lock()
            .unwrap()
            .pending
            .iter()
            .take(100)
            .cloned()
            .collect();
        if !updates.is_empty() {
            break ok(Value::Array(updates));
        }
        tokio::select! {
            _ = arrived => {}
            _ = tokio::time::sleep_until(deadline) => break ok(json!([])),
            _ = stopping.wait_for(|s| *s) => {
                break (StatusCode::BAD_GATEWAY, "502 Bad Gateway").into_response()
            }
        }
    };
    answer
}

struct PollOpen<'a>(&'a Shared);

impl Drop for PollOpen<'_> {
    fn drop(&mut self) {
        self.0.bot.lock().unwrap().polls_open -= 1;
    }
}

async fn download(
    State((shared, _)): State<FakeState>,
    Path((bot_path, path)): Path<(String, String)>,
) -> Response {
    if bot_path != format!("bot{TOKEN}") {
        return error(StatusCode::UNAUTHORIZED, "Unauthorized", None);
    }
    let mut bot = shared.bot.lock().unwrap();
    if bot.failing_downloads > 0 {
        bot.failing_downloads -= 1;
        return (StatusCode::INTERNAL_SERVER_ERROR, "try again").into_response();
    }
    match bot.files.values().find(|(p, _)| *p == path) {
        Some((_, bytes)) => (
            [("content-type", "application/octet-stream")],
            bytes.clone(),
        )
            .into_response(),
        None => error(StatusCode::NOT_FOUND, "Not Found", None),
    }
}
