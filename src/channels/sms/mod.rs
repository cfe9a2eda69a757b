//! The SMS channel: one inbox per sending number, with its provider behind one seam
//! (`SmsProvider`): Twilio (`twilio.rs`, whose code the WhatsApp channel also uses for Twilio
//! WhatsApp senders) or Vonage (`vonage.rs`). Inbound messages and delivery statuses arrive on
//! the inbox's one webhook URL, `/hooks/sms/{inbox_id}`; replies go out through the provider's
//! API.

pub mod twilio;
pub mod vonage;

use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, MethodRouter};
use switchboard_connector_core::{ChannelKind, DeliveryError, Identity, Outbound};

use super::hooks::{self, HookError, HookInbox};
use super::{
    Channel, ChannelContext, ChannelError, FieldType, InboxSetup, SetupEnv, SetupField, SetupInput,
};
use crate::domain::{Id, Inbox};
use crate::edge::extract::ApiPath;
use crate::edge::route::{Access, Route, Scope};
use crate::store::ClaimedDelivery;

pub struct SmsChannel;

/// What a provider webhook brought, before anything of it is trusted.
pub struct HookRequest {
    /// The URL the provider called, under the hub's public URL (what Twilio signs).
    pub url: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// One SMS provider: how an inbox is set up with it, how its webhooks are read and how replies
/// leave through it. The channel asks the inbox's `provider` setting which one to use.
#[async_trait::async_trait]
pub trait SmsProvider: Sync {
    /// The `provider` value that picks it.
    fn name(&self) -> &'static str;

    /// The fields of the channel's form this provider reads (besides `provider` and `from`).
    fn fields(&self) -> &'static [&'static str];

    /// Checks the creator's input and makes the settings and sealed secrets.
    fn set_up(&self, env: &SetupEnv<'_>, input: &SetupInput) -> Result<InboxSetup, ChannelError>;

    /// Checks a sender (`from`) as this provider takes it.
    fn check_from(&self, from: &str) -> Result<(), ChannelError>;

    /// Checks, reads and commits one webhook call; answers only after what it carried is stored.
    async fn webhook(
        &self,
        ctx: &ChannelContext,
        hook: HookInbox<serde_json::Value>,
        request: HookRequest,
    ) -> Result<Response, HookError>;

    fn sender(
        &self,
        ctx: &ChannelContext,
        claimed: &ClaimedDelivery,
    ) -> Result<Box<dyn Outbound>, DeliveryError>;
}

const PROVIDERS: [&dyn SmsProvider; 2] = [&twilio::Twilio(twilio::Prefix::SMS), &vonage::Vonage];

fn provider(name: &str) -> Option<&'static dyn SmsProvider> {
    PROVIDERS.into_iter().find(|p| p.name() == name)
}

/// The provider an inbox was set up with.
fn provider_of(inbox: &Inbox) -> Option<&'static dyn SmsProvider> {
    inbox
        .settings
        .get("provider")
        .and_then(|p| p.as_str())
        .and_then(provider)
}

#[async_trait::async_trait]
impl Channel for SmsChannel {
    fn kind(&self) -> &'static str {
        "sms"
    }

    fn label(&self) -> &'static str {
        "SMS"
    }

    fn setup_fields(&self) -> Vec<SetupField> {
        let mut private_key = SetupField::new("private_key", "Private key", FieldType::LongText)
            .help("Vonage: the application's private key (PEM), from when it was made.")
            .for_provider("vonage");
        private_key.secret = true;
        vec![
            SetupField::new("provider", "Provider", FieldType::Choice)
                .required()
                .options(&["twilio", "vonage"]),
            SetupField::new("from", "Sender", FieldType::Text)
                .required()
                .help("The number replies come from, in E.164 (+14155550100); with Twilio, a Messaging Service SID (MG…) also works."),
            SetupField::new("account_sid", "Account SID", FieldType::Text)
                .help("Twilio: the account's SID (AC…).")
                .for_provider("twilio"),
            SetupField::new("auth_token", "Auth token", FieldType::Password)
                .help("Twilio: the account's auth token; it also signs Twilio's webhooks.")
                .for_provider("twilio"),
            SetupField::new("application_id", "Application ID", FieldType::Text)
                .help("Vonage: the Messages application's id.")
                .for_provider("vonage"),
            private_key,
            SetupField::new("signature_secret", "Signature secret", FieldType::Password)
                .help("Vonage: the account's signature secret, which signs its webhooks.")
                .for_provider("vonage"),
        ]
    }

    fn set_up(&self, env: &SetupEnv<'_>, input: &SetupInput) -> Result<InboxSetup, ChannelError> {
        let name = input.text("provider")?.unwrap_or_default();
        let chosen = provider(&name).ok_or_else(|| {
            ChannelError::Invalid(format!(
                "`provider` must be \"twilio\" or \"vonage\", not {name:?}"
            ))
        })?;
        // A field of the other provider is a mistake worth naming, not something to drop.
        for other in PROVIDERS.into_iter().filter(|p| p.name() != chosen.name()) {
            if let Some(field) = other
                .fields()
                .iter()
                .find(|f| input.text(f).ok().flatten().is_some())
            {
                return Err(ChannelError::Invalid(format!(
                    "`{field}` is a {} setting; {} inboxes take {}",
                    other.name(),
                    chosen.name(),
                    chosen.fields().join(", ")
                )));
            }
        }
        chosen.set_up(env, input)
    }

    /// Only the sender can change: the provider and its account go with the sealed secrets, so
    /// moving to another is a new inbox (whose webhook URL the provider must be given anyway).
    fn change_settings(
        &self,
        _env: &SetupEnv<'_>,
        inbox: &Inbox,
        settings: serde_json::Value,
    ) -> Result<serde_json::Value, ChannelError> {
        let chosen = provider_of(inbox)
            .ok_or_else(|| ChannelError::Internal("the inbox names no SMS provider".into()))?;
        let serde_json::Value::Object(given) = settings else {
            return Err(ChannelError::Invalid(
                "SMS settings must be an object".into(),
            ));
        };
        let mut changed = inbox.settings.as_object().cloned().unwrap_or_default();
        for (key, value) in given {
            match key.as_str() {
                "from" => {
                    let from = value.as_str().unwrap_or_default().trim().to_string();
                    chosen.check_from(&from)?;
                    changed.insert(key, from.into());
                }
                "provider" | "account_sid" | "application_id"
                    if inbox.settings.get(&key) == Some(&value) => {}
                "provider" | "account_sid" | "application_id" => {
                    return Err(ChannelError::Invalid(format!(
                        "`{key}` cannot change: set up a new inbox for another {}",
                        if key == "provider" {
                            "provider"
                        } else {
                            "account"
                        }
                    )))
                }
                other => {
                    return Err(ChannelError::Invalid(format!(
                        "SMS inboxes cannot change `{other}` here (secrets are set at setup)"
                    )))
                }
            }
        }
        Ok(serde_json::Value::Object(changed))
    }

    fn webhook_url(&self, env: &SetupEnv<'_>, inbox: &Inbox) -> Option<String> {
        Some(hooks::webhook_url(env, inbox))
    }

    fn test_recipient(&self, _inbox: &Inbox, to: &str) -> Result<Vec<Identity>, ChannelError> {
        phone_recipient(to)
    }

    fn sender(
        &self,
        ctx: &ChannelContext,
        claimed: &ClaimedDelivery,
    ) -> Result<Box<dyn Outbound>, DeliveryError> {
        provider_of(&claimed.inbox)
            .ok_or_else(|| DeliveryError::Permanent("the inbox names no SMS provider".into()))?
            .sender(ctx, claimed)
    }

    fn routes(&self) -> Vec<(Route, MethodRouter<ChannelContext>)> {
        vec![(
            Route {
                method: Method::POST,
                path: "/hooks/sms/{inbox_id}",
                access: Access::Public,
                scope: Scope::Inbox,
            },
            post(webhook),
        )]
    }
}

/// A test send's recipient: an E.164 number.
pub fn phone_recipient(to: &str) -> Result<Vec<Identity>, ChannelError> {
    let to = to.trim();
    if !switchboard_connector_twilio::is_e164(to) {
        return Err(ChannelError::Invalid(format!(
            "{to:?} is not a phone number in E.164 (+14155550100)"
        )));
    }
    Ok(vec![Identity::phone(to)])
}

/// The URL a provider called, as it called it: the hub's public URL and the request's path and
/// query (a proxy in front may have rewritten the host the hub sees).
pub fn called_url(ctx: &ChannelContext, uri: &axum::http::Uri) -> String {
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    format!("{}{path}", hooks::public_base(&ctx.setup_env()))
}

/// The SMS inbox's webhook: Twilio's and Vonage's inbound messages and delivery statuses.
#[utoipa::path(post, path = "/hooks/sms/{inbox_id}", tag = "webhooks",
    params(("inbox_id" = i64, Path)),
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
        description = "Twilio's form, signed with `X-Twilio-Signature`; or Vonage's JSON, signed with an `Authorization: Bearer` JWT"),
    responses(
        (status = 200, description = "Stored (Twilio gets empty TwiML)"),
        (status = 400, description = "The inbox id is not a number"),
        (status = 401, description = "The provider's signature is missing or wrong: nothing was stored"),
        (status = 404, description = "No SMS inbox under this id"),
        (status = 413, description = "The body is larger than the hub takes"),
        (status = 415, description = "Not answered here: a body is read as its provider writes it, whatever its type"),
        (status = 422, description = "Not a message or status the provider sends: nothing was stored"),
        (status = 500, description = "Not stored: the provider delivers it again")))]
pub async fn webhook(
    State(ctx): State<ChannelContext>,
    ApiPath(inbox_id): ApiPath<Id>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let answer = async {
        let hook =
            hooks::webhook_inbox::<serde_json::Value>(&ctx, inbox_id, ChannelKind::Sms).await?;
        let provider = provider_of(&hook.inbox).ok_or(HookError::NotFound)?;
        let request = HookRequest {
            url: called_url(&ctx, &uri),
            headers,
            body,
        };
        provider.webhook(&ctx, hook, request).await
    };
    answer.await.unwrap_or_else(IntoResponse::into_response)
}

/// The customer's phone identity from a provider's sender address; an address with no digits
/// in it (an alphanumeric sender) names nobody the hub can answer.
pub fn customer_phone(from: &str) -> Result<Identity, HookError> {
    crate::limits::text("from", from, crate::limits::PHONE)
        .map_err(|e| HookError::Invalid(e.to_string()))?;
    let identity = Identity::phone(from);
    if !identity.identifier.chars().any(|c| c.is_ascii_digit()) {
        return Err(HookError::Invalid(format!(
            "{from:?} is not a phone number"
        )));
    }
    Ok(identity)
}

/// Media files a message brought, with those that could not be kept (too large, at a refused
/// address) set apart: the customer's message is stored without them and says so, rather
/// than refused and lost. A failure on our side or the provider's (500) is returned, so the
/// provider delivers again.
#[derive(Default)]
pub struct MediaKept {
    pub attachments: Vec<switchboard_connector_core::InboundAttachment>,
    pub not_kept: Vec<serde_json::Value>,
}

impl MediaKept {
    pub fn add(
        &mut self,
        fetched: Result<switchboard_connector_core::InboundAttachment, HookError>,
        url: &str,
    ) -> Result<(), HookError> {
        match fetched {
            Ok(attachment) => self.attachments.push(attachment),
            Err(e @ (HookError::Internal(_) | HookError::NotFound)) => return Err(e),
            Err(why) => {
                tracing::warn!(error = %why, "a media file was not kept");
                self.not_kept
                    .push(serde_json::json!({ "url": url, "reason": why.to_string() }));
            }
        }
        Ok(())
    }

    /// The message text, saying what was left out when there is nothing else to show.
    pub fn text(&self, text: String) -> String {
        if text.trim().is_empty() && self.attachments.is_empty() && !self.not_kept.is_empty() {
            format!("({} media file(s) could not be kept)", self.not_kept.len())
        } else {
            text
        }
    }
}

/// What ingest refused as bad input is the provider's body being wrong (422, not retried);
/// anything else is ours (500, retried).
pub fn ingest_error(e: crate::store::StoreError) -> HookError {
    match e {
        crate::store::StoreError::Invalid(why) => HookError::Invalid(why),
        other => HookError::from(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_test_send_goes_to_an_e164_number_only() {
        assert_eq!(
            phone_recipient(" +14155550100 ").unwrap(),
            vec![Identity::phone("+14155550100")]
        );
        for bad in ["4155550100", "+1 415 555 0100", "whatsapp:+14155550100", ""] {
            assert!(phone_recipient(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_sender_without_digits_names_nobody() {
        assert_eq!(
            customer_phone("+447700900001").unwrap(),
            Identity::phone("+447700900001")
        );
        assert!(matches!(customer_phone("ACME"), Err(HookError::Invalid(_))));
        assert!(customer_phone(&"1".repeat(100)).is_err());
    }

    #[test]
    fn media_that_cannot_be_kept_is_noted_but_our_failures_are_retried() {
        let mut media = MediaKept::default();
        media
            .add(Err(HookError::Invalid("too large".into())), "https://m/1")
            .unwrap();
        assert!(media
            .add(Err(HookError::Internal("down".into())), "https://m/2")
            .is_err());
        assert_eq!(media.not_kept.len(), 1);
        assert_eq!(
            media.text(String::new()),
            "(1 media file(s) could not be kept)"
        );
        assert_eq!(media.text("look".into()), "look");
    }
}
