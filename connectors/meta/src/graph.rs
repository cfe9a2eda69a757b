//! The Graph API as every Meta product uses it: `{base}/{version}/{path}`, a bearer token (a
//! WhatsApp system-user token or a page access token), JSON both ways, and Meta's error body
//! (`{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`), whose codes tell
//! throttling (retry later) from a refusal (fail now) even when the HTTP status does not.

use std::time::Duration;

use serde::Deserialize;
use switchboard_connector_core::provider::{is_retryable_status, retry_after};
use switchboard_connector_core::DeliveryError;
use switchboard_egress::GuardedClient;

/// A Graph API endpoint: where it is and which version every call names.
#[derive(Clone)]
pub struct Graph {
    http: GuardedClient,
    base: String,
    version: String,
}

/// Why a Graph call failed.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// Refused by the egress policy, or the network failed before an answer.
    #[error("cannot reach the Graph API: {0}")]
    Unreachable(String),
    /// Meta answered with an error.
    #[error("the Graph API answered {status}: {message} (code {code})")]
    Refused {
        status: u16,
        code: i64,
        subcode: Option<i64>,
        message: String,
        /// How long Meta asked us to wait, where it said (`Retry-After`).
        retry_after: Option<Duration>,
    },
    /// An answer that is not the JSON Meta documents.
    #[error("the Graph API answered something unreadable: {0}")]
    Unreadable(String),
}

/// Meta's error codes that mean "too many calls, try later" whatever the HTTP status: 4 (app
/// limit), 17 (user limit), 32 (page limit), 613 (custom limit), 80007 (WhatsApp Business
/// Account limit), 130429 (Cloud API throughput), 131056 (pair rate limit: too many messages to
/// one customer), 2 and 1 (temporary / unknown service errors).
const THROTTLING_CODES: [i64; 9] = [1, 2, 4, 17, 32, 613, 80007, 130429, 131056];

impl GraphError {
    /// Whether trying again later can help.
    pub fn is_transient(&self) -> bool {
        match self {
            GraphError::Unreachable(_) => true,
            GraphError::Refused { status, code, .. } => {
                THROTTLING_CODES.contains(code) || is_retryable_status(*status)
            }
            GraphError::Unreadable(_) => false,
        }
    }

    /// Meta's error code, where it gave one.
    pub fn code(&self) -> Option<i64> {
        match self {
            GraphError::Refused { code, .. } => Some(*code),
            _ => None,
        }
    }
}

impl From<GraphError> for DeliveryError {
    fn from(e: GraphError) -> Self {
        let transient = e.is_transient();
        let wait = match &e {
            GraphError::Refused { retry_after, .. } => *retry_after,
            _ => None,
        };
        let reason = e.to_string();
        match (transient, wait) {
            (true, Some(wait)) => DeliveryError::Throttled { wait, reason },
            (true, None) => DeliveryError::Transient(reason),
            (false, _) => DeliveryError::Permanent(reason),
        }
    }
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ErrorBody,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: String,
    #[serde(default)]
    code: i64,
    error_subcode: Option<i64>,
}

impl Graph {
    /// `base` without a trailing slash (`https://graph.facebook.com`), `version` like `v21.0`.
    pub fn new(http: GuardedClient, base: &str, version: &str) -> Graph {
        Graph {
            http,
            base: base.trim_end_matches('/').to_string(),
            version: version.trim_matches('/').to_string(),
        }
    }

    /// The versioned URL of `path` (`{phone_number_id}/messages`, `me`…).
    pub fn url(&self, path: &str) -> String {
        format!(
            "{}/{}/{}",
            self.base,
            self.version,
            path.trim_start_matches('/')
        )
    }

    /// POSTs JSON to `path` with `token`, answering Meta's JSON.
    pub async fn post(
        &self,
        token: &str,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, GraphError> {
        let request = self
            .http
            .post(&self.url(path))
            .map_err(|e| GraphError::Unreachable(e.to_string()))?
            .bearer_auth(token)
            .json(body);
        answer(request.send().await).await
    }

    /// GETs `path` (with its query) with `token`, answering Meta's JSON.
    pub async fn get(
        &self,
        token: &str,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<serde_json::Value, GraphError> {
        let request = self
            .http
            .get(&self.url(path))
            .map_err(|e| GraphError::Unreachable(e.to_string()))?
            .bearer_auth(token)
            .query(query);
        answer(request.send().await).await
    }

    /// A request for a URL Meta handed out (a media file's `url`), with the token: for
    /// `hooks::fetch_media`, which caps its size. The URL is held to the egress policy like
    /// every other.
    pub fn authorized_get(
        &self,
        token: &str,
        url: &str,
    ) -> Result<reqwest::RequestBuilder, GraphError> {
        Ok(self
            .http
            .get(url)
            .map_err(|e| GraphError::Unreachable(e.to_string()))?
            .bearer_auth(token))
    }
}

async fn answer(
    sent: Result<reqwest::Response, reqwest::Error>,
) -> Result<serde_json::Value, GraphError> {
    let response = sent.map_err(|e| GraphError::Unreachable(e.to_string()))?;
    let status = response.status();
    let wait = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| retry_after(v, std::time::SystemTime::now()));
    let bytes = response
        .bytes()
        .await
        .map_err(|e| GraphError::Unreachable(e.to_string()))?;
    if status.is_success() {
        return serde_json::from_slice(&bytes).map_err(|e| GraphError::Unreadable(e.to_string()));
    }
    Err(refusal(status.as_u16(), wait, &bytes))
}

/// Meta's error body read into a `GraphError`; a body that is not one still fails clearly.
fn refusal(status: u16, retry_after: Option<Duration>, body: &[u8]) -> GraphError {
    match serde_json::from_slice::<ErrorEnvelope>(body) {
        Ok(ErrorEnvelope { error }) => GraphError::Refused {
            status,
            code: error.code,
            subcode: error.error_subcode,
            message: error.message,
            retry_after,
        },
        Err(_) => GraphError::Refused {
            status,
            code: 0,
            subcode: None,
            message: String::from_utf8_lossy(body).chars().take(300).collect(),
            retry_after,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_throttling_codes_are_retried_even_under_a_400() {
        let body = br#"{"error":{"message":"(#131056) (Business Account, Consumer Account) pair rate limit hit","type":"OAuthException","code":131056,"fbtrace_id":"Az8or2yhqkZfEZ-_4Qn_Bam"}}"#;
        let e = refusal(400, None, body);
        assert!(e.is_transient(), "{e}");
        assert_eq!(e.code(), Some(131056));
        assert!(matches!(
            DeliveryError::from(e),
            DeliveryError::Transient(_)
        ));

        let throttled = refusal(429, Some(Duration::from_secs(9)), b"{}");
        assert!(matches!(
            DeliveryError::from(throttled),
            DeliveryError::Throttled { wait, .. } if wait == Duration::from_secs(9)
        ));
    }

    #[test]
    fn a_refusal_fails_the_message_with_metas_words() {
        let body = br#"{"error":{"message":"(#100) Invalid parameter","type":"OAuthException","code":100,"error_subcode":2018001,"fbtrace_id":"x"}}"#;
        let e = refusal(400, None, body);
        assert!(!e.is_transient());
        match DeliveryError::from(e) {
            DeliveryError::Permanent(reason) => assert!(reason.contains("Invalid parameter")),
            other => panic!("{other:?}"),
        }
        assert!(refusal(502, None, b"<html>bad gateway</html>").is_transient());
    }

    #[test]
    fn urls_name_the_version() {
        let http = GuardedClient::new(
            switchboard_egress::EgressPolicy::new::<&str>(&[]).unwrap(),
            Default::default(),
        )
        .unwrap();
        let graph = Graph::new(http, "https://graph.facebook.com/", "v21.0");
        assert_eq!(
            graph.url("/1234/messages"),
            "https://graph.facebook.com/v21.0/1234/messages"
        );
    }
}
