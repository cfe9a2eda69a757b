//! The Bot API's methods the hub calls, over the guarded client: `getUpdates`, `setWebhook`,
//! `deleteWebhook`, `sendMessage`, `getFile`. Every URL carries the bot's token, so no error
//! this module makes names the URL.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;
use switchboard_connector_core::provider::refused_by_provider;
use switchboard_connector_core::DeliveryError;
use switchboard_egress::GuardedClient;

use crate::api::{Envelope, File, SentMessage, Update};
use crate::token::BotToken;

/// Why a Bot API call did not answer a result.
#[derive(Debug, thiserror::Error)]
pub enum BotApiError {
    /// The Bot API could not be reached, or the answer broke off.
    #[error("cannot reach the Telegram Bot API: {0}")]
    Unreachable(String),
    /// The operator's egress rules do not allow the Bot API's address.
    #[error("the Telegram Bot API address is not allowed: {0}")]
    NotAllowed(String),
    /// Telegram answered with an error (`retry_after`: its flood control's wait, in seconds).
    #[error("Telegram answered {status}: {description}")]
    Refused {
        status: u16,
        description: String,
        retry_after: Option<u64>,
    },
    /// An answer that is not the Bot API's envelope.
    #[error("Telegram answered something unreadable: {0}")]
    Malformed(String),
}

impl BotApiError {
    /// How a failed send is retried: flood control waits as long as Telegram asks, 5xx and
    /// unreachable are retried with backoff, other refusals (blocked bot, chat not found) fail
    /// the message with Telegram's words.
    pub fn into_delivery_error(self) -> DeliveryError {
        match self {
            BotApiError::Refused {
                status,
                description,
                retry_after,
            } => {
                let retry_after = retry_after.map(|s| s.to_string());
                refused_by_provider("Telegram", status, retry_after.as_deref(), &description)
            }
            BotApiError::NotAllowed(why) => DeliveryError::Permanent(why),
            other => DeliveryError::Transient(other.to_string()),
        }
    }

    /// Whether Telegram refused because a webhook is set (getUpdates answers 409 Conflict).
    pub fn is_conflict(&self) -> bool {
        matches!(self, BotApiError::Refused { status: 409, .. })
    }
}

/// One bot's view of the Bot API at `base` (`https://api.telegram.org`, or a test's stand-in).
#[derive(Clone)]
pub struct BotApi {
    http: GuardedClient,
    base: String,
    token: BotToken,
}

/// Requests other than long polls answer within this.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

impl BotApi {
    pub fn new(http: GuardedClient, base: &str, token: BotToken) -> BotApi {
        BotApi {
            http,
            base: base.trim_end_matches('/').to_string(),
            token,
        }
    }

    pub fn token(&self) -> &BotToken {
        &self.token
    }

    /// Where a file `getFile` described can be downloaded (holds the token: never shown).
    pub fn file_url(&self, file_path: &str) -> String {
        format!(
            "{}/file/bot{}/{}",
            self.base,
            self.token.expose(),
            file_path.trim_start_matches('/')
        )
    }

    /// The updates after `offset` (every unconfirmed one when `None`), waiting up to
    /// `timeout` for one to arrive. Calling with an offset confirms every update below it.
    pub async fn get_updates(
        &self,
        offset: Option<i64>,
        timeout: Duration,
    ) -> Result<Vec<Update>, BotApiError> {
        let body = json!({
            "offset": offset,
            "timeout": timeout.as_secs(),
            "allowed_updates": crate::ALLOWED_UPDATES,
        });
        // The HTTP request outlives the long poll by a margin, so a quiet poll is an empty
        // answer rather than a timeout.
        self.call("getUpdates", &body, timeout + Duration::from_secs(10))
            .await
    }

    /// Points the bot's updates at `url`, proving each call with `secret_token`.
    pub async fn set_webhook(&self, url: &str, secret_token: &str) -> Result<(), BotApiError> {
        let body = json!({
            "url": url,
            "secret_token": secret_token,
            "allowed_updates": crate::ALLOWED_UPDATES,
        });
        self.call::<bool>("setWebhook", &body, CALL_TIMEOUT)
            .await
            .map(drop)
    }

    /// Removes the webhook (keeping pending updates: they are customers' messages), which
    /// Telegram requires before `getUpdates`.
    pub async fn delete_webhook(&self) -> Result<(), BotApiError> {
        let body = json!({ "drop_pending_updates": false });
        self.call::<bool>("deleteWebhook", &body, CALL_TIMEOUT)
            .await
            .map(drop)
    }

    pub async fn send_message(
        &self,
        chat_id: &str,
        text: &str,
    ) -> Result<SentMessage, BotApiError> {
        let body = json!({ "chat_id": chat_id, "text": text });
        self.call("sendMessage", &body, CALL_TIMEOUT).await
    }

    /// Sends one file, as a photo (JPEG or PNG up to 10 MB, shown inline) or as a document,
    /// with the reply's text as its caption.
    pub async fn send_file(
        &self,
        chat_id: &str,
        file: &OutgoingFile,
        caption: Option<&str>,
    ) -> Result<SentMessage, BotApiError> {
        let (method, field) = if file.is_photo() {
            ("sendPhoto", "photo")
        } else {
            ("sendDocument", "document")
        };
        let part = reqwest::multipart::Part::bytes(file.data.clone())
            .file_name(file.filename.clone())
            .mime_str(&file.content_type)
            .map_err(|e| BotApiError::Malformed(format!("{method}: {e}")))?;
        let mut form = reqwest::multipart::Form::new()
            .text("chat_id", chat_id.to_string())
            .part(field, part);
        if let Some(caption) = caption.filter(|c| !c.trim().is_empty()) {
            form = form.text("caption", caption.to_string());
        }
        let request = self.request(method)?.timeout(CALL_TIMEOUT).multipart(form);
        answer(method, request).await
    }

    pub async fn get_file(&self, file_id: &str) -> Result<File, BotApiError> {
        let body = json!({ "file_id": file_id });
        self.call("getFile", &body, CALL_TIMEOUT).await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        body: &impl Serialize,
        timeout: Duration,
    ) -> Result<T, BotApiError> {
        let request = self.request(method)?.timeout(timeout).json(body);
        answer(method, request).await
    }

    fn request(&self, method: &str) -> Result<reqwest::RequestBuilder, BotApiError> {
        let url = format!("{}/bot{}/{method}", self.base, self.token.expose());
        self.http
            .post(&url)
            .map_err(|e| BotApiError::NotAllowed(e.to_string()))
    }
}

/// A file of an agent's reply.
#[derive(Clone, Debug)]
pub struct OutgoingFile {
    pub filename: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

impl OutgoingFile {
    /// What `sendPhoto` takes; anything else goes as a document.
    fn is_photo(&self) -> bool {
        matches!(self.content_type.as_str(), "image/jpeg" | "image/png")
            && self.data.len() <= 10 * 1024 * 1024
    }
}

/// Sends a Bot API request and reads its envelope.
async fn answer<T: DeserializeOwned>(
    method: &str,
    request: reqwest::RequestBuilder,
) -> Result<T, BotApiError> {
    let response = request.send().await.map_err(|e| unreachable(method, e))?;
    let status = response.status().as_u16();
    let text = response.text().await.map_err(|e| unreachable(method, e))?;
    let envelope: Envelope<T> = match serde_json::from_str(&text) {
        Ok(envelope) => envelope,
        // A proxy's error page in front of the Bot API (502 from nginx, say).
        Err(_) if status >= 400 => {
            return Err(BotApiError::Refused {
                status,
                description: text.chars().take(200).collect(),
                retry_after: None,
            })
        }
        Err(e) => return Err(BotApiError::Malformed(format!("{method}: {e}"))),
    };
    match envelope {
        Envelope {
            ok: true,
            result: Some(result),
            ..
        } => Ok(result),
        Envelope {
            ok: true,
            result: None,
            ..
        } => Err(BotApiError::Malformed(format!("{method}: no result"))),
        failed => Err(BotApiError::Refused {
            status: failed.error_code.filter(|_| status < 400).unwrap_or(status),
            description: failed
                .description
                .unwrap_or_else(|| "no description".into()),
            retry_after: failed.parameters.and_then(|p| p.retry_after),
        }),
    }
}

/// A transport failure, without the URL (it holds the token).
fn unreachable(method: &str, e: reqwest::Error) -> BotApiError {
    if let Some(refused) = switchboard_egress::refusal(&e) {
        return BotApiError::NotAllowed(refused.to_string());
    }
    BotApiError::Unreachable(format!("{method}: {}", e.without_url()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn flood_control_waits_as_long_as_telegram_asks() {
        let err = BotApiError::Refused {
            status: 429,
            description: "Too Many Requests: retry after 7".into(),
            retry_after: Some(7),
        };
        match err.into_delivery_error() {
            DeliveryError::Throttled { wait, reason } => {
                assert_eq!(wait, Duration::from_secs(7));
                assert!(reason.contains("Too Many Requests"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_blocked_bot_fails_the_message_but_an_outage_is_retried() {
        let blocked = BotApiError::Refused {
            status: 403,
            description: "Forbidden: bot was blocked by the user".into(),
            retry_after: None,
        };
        assert!(matches!(
            blocked.into_delivery_error(),
            DeliveryError::Permanent(r) if r.contains("blocked")
        ));
        let down = BotApiError::Refused {
            status: 502,
            description: "Bad Gateway".into(),
            retry_after: None,
        };
        assert!(down.into_delivery_error().is_transient());
        assert!(BotApiError::Unreachable("x".into())
            .into_delivery_error()
            .is_transient());
    }
}
