//! What every messaging provider (Twilio, Vonage, Meta, Telegram…) has in common on the way out
//! and on the way back: how its refusal of a send becomes a `DeliveryError` (retried or not,
//! and when), and how it tells later what became of a message it accepted.

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::DeliveryError;

/// What a provider says became of a message it accepted, as its status callback tells it.
/// Statuses only move forward (sent → delivered → read); `Failed` ends a message wherever it
/// was, except `Read` (a message read cannot have failed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderStatus {
    /// Accepted and handed on by the provider (Twilio `sent`, Meta `sent`).
    Sent,
    /// On the customer's device.
    Delivered,
    /// Opened by the customer.
    Read,
    /// Never reached the customer (Twilio `undelivered`/`failed`, Meta `failed`).
    Failed,
}

impl ProviderStatus {
    /// How far along a message is; a callback that would move it back is ignored (callbacks
    /// arrive out of order).
    pub fn rank(self) -> u8 {
        match self {
            ProviderStatus::Sent => 1,
            ProviderStatus::Delivered => 2,
            ProviderStatus::Failed => 3,
            ProviderStatus::Read => 4,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ProviderStatus::Sent => "sent",
            ProviderStatus::Delivered => "delivered",
            ProviderStatus::Read => "read",
            ProviderStatus::Failed => "failed",
        }
    }
}

/// One status callback: the provider's id for the message (what the sender's receipt gave as
/// `provider_message_id`), where it is now, and the provider's words when it failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusUpdate {
    pub provider_message_id: String,
    pub status: ProviderStatus,
    pub error: Option<String>,
}

/// Whether a failing HTTP status is worth retrying: the receiver is overloaded or down, rather
/// than telling us the request itself is wrong.
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 409 | 425 | 429) || status >= 500
}

/// A `Retry-After` header's wait: delay-seconds or an HTTP-date (RFC 9110 §10.2.3). `None`
/// when it says neither; a date in the past is no wait at all.
pub fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// How a provider's non-success answer to a send becomes a delivery error: 429 and 5xx are
/// retried (no sooner than its `Retry-After`), every other refusal fails the message with the
/// provider's own words, cut short.
pub fn refused_by_provider(
    provider: &str,
    status: u16,
    retry_after_header: Option<&str>,
    body: &str,
) -> DeliveryError {
    let words: String = body.trim().chars().take(300).collect();
    let reason = if words.is_empty() {
        format!("{provider} answered {status}")
    } else {
        format!("{provider} answered {status}: {words}")
    };
    if !is_retryable_status(status) {
        return DeliveryError::Permanent(reason);
    }
    match retry_after_header.and_then(|v| retry_after(v, SystemTime::now())) {
        Some(wait) => DeliveryError::Throttled { wait, reason },
        None => DeliveryError::Transient(reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overload_and_outage_statuses_are_retried_but_rejections_are_not() {
        for status in [408, 429, 500, 502, 503] {
            assert!(is_retryable_status(status), "{status} should be retried");
        }
        for status in [400, 401, 403, 404, 410, 422] {
            assert!(
                !is_retryable_status(status),
                "{status} should not be retried"
            );
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2026 07:28:00 GMT").unwrap();
        assert_eq!(retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(
            retry_after("Wed, 21 Oct 2026 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            retry_after("Wed, 21 Oct 2026 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("soon", now), None);
    }

    #[test]
    fn a_throttled_send_waits_as_long_as_the_provider_asks() {
        match refused_by_provider("Twilio", 429, Some("7"), "{\"code\":20429}") {
            DeliveryError::Throttled { wait, reason } => {
                assert_eq!(wait, Duration::from_secs(7));
                assert!(reason.contains("20429"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            refused_by_provider("Twilio", 503, None, ""),
            DeliveryError::Transient(_)
        ));
        assert!(matches!(
            refused_by_provider("Meta", 400, Some("5"), "bad recipient"),
            DeliveryError::Permanent(r) if r == "Meta answered 400: bad recipient"
        ));
    }

    #[test]
    fn statuses_rank_forward() {
        use ProviderStatus::*;
        assert!(Sent.rank() < Delivered.rank());
        assert!(Delivered.rank() < Failed.rank());
        assert!(Failed.rank() < Read.rank());
    }
}
