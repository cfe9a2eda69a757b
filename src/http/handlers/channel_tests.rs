//! The console's "send test" button: a short message through an inbox's channel, straight to
//! the provider and back with what it said. Nothing is stored in conversations; a test send is
//! the admin checking the inbox's credentials and the recipient's reach, not a reply.

use std::num::NonZeroU32;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::{Deserialize, Serialize};
use switchboard_connector_core::{DeliveryError, OutboundDelivery};
use utoipa::ToSchema;

use super::visible_inbox;
use crate::domain::{now_millis, Id};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::AppState;
use crate::limits;
use crate::store::{ClaimedDelivery, Principal};

/// How many test sends a workspace may make at once, and then one per `60 / TEST_SENDS` s: a
/// test send reaches any number the admin types, so a stolen admin session must not turn the
/// hub into a spam cannon paid for by the workspace's provider account.
const TEST_SENDS_PER_MINUTE: u32 = 10;

/// The longest test message (an SMS of a few segments): it checks the way, not the words.
const TEST_TEXT_CHARS: usize = 320;

/// Sent when the admin typed no text.
const DEFAULT_TEXT: &str = "This is a test message from Switchboard.";

/// Test sends per workspace, held to `TEST_SENDS_PER_MINUTE`.
pub struct TestSendLimiter(DefaultKeyedRateLimiter<Id>);

impl Default for TestSendLimiter {
    fn default() -> Self {
        let per_minute = NonZeroU32::new(TEST_SENDS_PER_MINUTE).unwrap_or(NonZeroU32::MIN);
        TestSendLimiter(RateLimiter::keyed(Quota::per_minute(per_minute)))
    }
}

impl TestSendLimiter {
    /// Takes one test send of the workspace's budget, or says how long to wait.
    pub(crate) fn take(&self, workspace_id: Id) -> Result<(), ApiError> {
        self.0.check_key(&workspace_id).map_err(|not_until| {
            ApiError::TooManyRequests(not_until.wait_time_from(self.0.clock().now()))
        })
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestSendBody {
    /// Who to send to, as the channel names people: a phone number (+4915112345678), a
    /// Telegram chat id, an API inbox's contact identifier.
    pub to: String,
    /// At most 320 characters; a short default when absent.
    pub text: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TestSent {
    pub ok: bool,
    /// The provider's id for the message, when it gave one.
    pub provider_message_id: Option<String>,
}

/// What the provider said when it refused: 502, with its words and whether trying later might
/// help (it was busy or unreachable rather than refusing the message).
#[derive(Serialize, ToSchema)]
pub struct TestRefused {
    pub ok: bool,
    pub error: TestRefusal,
}

#[derive(Serialize, ToSchema)]
pub struct TestRefusal {
    /// `provider_refused` or `provider_unavailable`.
    pub code: &'static str,
    pub message: String,
    pub retryable: bool,
}

/// A test send's answer: what the provider said, either way.
pub enum TestOutcome {
    Sent(TestSent),
    Refused(TestRefused),
}

impl IntoResponse for TestOutcome {
    fn into_response(self) -> Response {
        match self {
            TestOutcome::Sent(sent) => (StatusCode::OK, Json(sent)).into_response(),
            TestOutcome::Refused(refused) => {
                (StatusCode::BAD_GATEWAY, Json(refused)).into_response()
            }
        }
    }
}

impl From<DeliveryError> for TestOutcome {
    fn from(e: DeliveryError) -> Self {
        let retryable = e.is_transient();
        let message = match e {
            DeliveryError::Transient(why) | DeliveryError::Permanent(why) => why,
            DeliveryError::Throttled { reason, .. } => reason,
        };
        TestOutcome::Refused(TestRefused {
            ok: false,
            error: TestRefusal {
                code: if retryable {
                    "provider_unavailable"
                } else {
                    "provider_refused"
                },
                message,
                retryable,
            },
        })
    }
}

/// Sends a short test message through the inbox's channel now, answering what the provider said.
#[utoipa::path(post, path = "/api/v1/inboxes/{inbox_id}/test", tag = "inboxes", security(("bearer" = [])),
    params(("inbox_id" = i64, Path)), request_body = TestSendBody,
    responses(
        (status = 200, description = "The provider accepted the message", body = TestSent),
        (status = 422, description = "The inbox's channel cannot send tests, or `to` is not a recipient it knows", body = ErrorBody),
        (status = 429, description = "Too many test sends in this workspace; see Retry-After", body = ErrorBody),
        (status = 502, description = "The provider refused or could not be reached: its words", body = TestRefused)))]
#[tracing::instrument(skip_all, fields(inbox = inbox_id))]
pub async fn send_test(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(inbox_id): ApiPath<Id>,
    ApiJson(body): ApiJson<TestSendBody>,
) -> ApiResult<TestOutcome> {
    let inbox = visible_inbox(&state, &who, inbox_id).await?;
    let to = body.to.trim();
    limits::text("to", to, limits::IDENTIFIER)?;
    if to.is_empty() {
        return Err(ApiError::Unprocessable("`to` names no recipient".into()));
    }
    let text = body
        .text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .unwrap_or(DEFAULT_TEXT);
    limits::text("text", text, TEST_TEXT_CHARS)?;
    let recipient = state.channels.test_recipient(&inbox, to)?;
    state.test_sends.take(who.workspace_id())?;
    // The sealed secrets are read through the webhook door: the inbox was found in the
    // caller's workspace above, so this reads nothing the caller may not use.
    let sealed_secret = state
        .store
        .webhook_inbox(inbox.id)
        .await?
        .and_then(|(_, sealed)| sealed);
    let claimed = ClaimedDelivery {
        outbox_id: 0,
        workspace_id: who.workspace_id(),
        sealed_secret,
        delivery: OutboundDelivery {
            // Providers that deduplicate key on it: every test is a new message.
            delivery_id: format!("sb-test-{}", crate::auth::random_token(12)),
            message_id: 0,
            conversation_id: 0,
            inbox_id: inbox.id,
            recipient,
            recipient_name: None,
            text: text.to_string(),
            html: None,
            sender_name: Some(who.user.name.clone()),
            attempt: 1,
            created_at: rfc3339(now_millis()),
            meta: None,
        },
        inbox,
    };
    let sent = match state.channels.sender(&state.channel_context, &claimed) {
        Ok(sender) => sender.deliver(&claimed.delivery).await,
        Err(e) => Err(e),
    };
    Ok(match sent {
        Ok(receipt) => {
            tracing::info!("test message accepted by the provider");
            TestOutcome::Sent(TestSent {
                ok: true,
                provider_message_id: receipt.provider_message_id,
            })
        }
        Err(e) => {
            tracing::info!(error = %e, "test message refused");
            e.into()
        }
    })
}

fn rfc3339(millis: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(millis as i128 * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}
