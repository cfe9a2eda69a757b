//! The WhatsApp channel on Meta's WhatsApp Cloud API: an inbox is one business phone number.
//! Its setup (the number's id, the business account's id for templates, the access token and
//! app secret, sealed with the verify token the hub makes), its webhook (`webhook.rs`), the
//! customer-service window and the templates that may go outside it (`window.rs`), and its
//! sender (the connector's `WhatsappSender`).

pub mod webhook;
pub mod window;

use axum::http::Method;
use axum::routing::{get, MethodRouter};
use serde::{Deserialize, Serialize};
use switchboard_connector_core::{DeliveryError, Identity, Outbound};
use switchboard_connector_meta::whatsapp::WhatsappSender;
use switchboard_connector_meta::Graph;

use super::{
    hooks, Channel, ChannelContext, ChannelError, FieldType, InboxSetup, SetupEnv, SetupField,
    SetupInput,
};
use crate::domain::{Conversation, Inbox};
use crate::edge::route::{Access, Route, Scope};
use crate::limits;
use crate::store::ClaimedDelivery;

pub use window::{window_open, WINDOW_MS};

use crate::channels::sms::twilio::{self, Prefix};

/// Who carries an inbox's messages.
const PROVIDERS: [&str; 2] = ["meta", "twilio"];

pub struct WhatsappChannel;

/// What a WhatsApp inbox shows and keeps in its settings: nothing secret.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WhatsappSettings {
    pub provider: String,
    /// Meta's id for the business phone number (not the number itself).
    pub phone_number_id: String,
    /// The WhatsApp Business Account, whose templates agents may send.
    pub business_account_id: String,
}

/// Sealed at setup; opened by the webhook (app secret, verify token) and the sender (token).
#[derive(Serialize, Deserialize)]
pub(crate) struct WhatsappSecrets {
    pub access_token: String,
    pub app_secret: String,
    pub verify_token: String,
}

impl WhatsappSettings {
    fn of(inbox: &Inbox) -> Result<WhatsappSettings, String> {
        serde_json::from_value(inbox.settings.clone())
            .map_err(|e| format!("inbox {}'s WhatsApp settings: {e}", inbox.id))
    }

    fn check(&self) -> Result<(), ChannelError> {
        match self.provider.as_str() {
            "meta" => {}
            other => {
                return Err(ChannelError::Invalid(format!(
                    "`provider` must be one of {PROVIDERS:?}, not {other:?}"
                )))
            }
        }
        for (field, value) in [
            ("phone_number_id", &self.phone_number_id),
            ("business_account_id", &self.business_account_id),
        ] {
            limits::text(field, value, limits::IDENTIFIER)?;
            if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ChannelError::Invalid(format!(
                    "`{field}` is the numeric id Meta's WhatsApp Manager shows"
                )));
            }
        }
        Ok(())
    }
}

/// Whether the inbox's WhatsApp goes through Twilio rather than Meta's Cloud API.
pub(crate) fn is_twilio(inbox: &Inbox) -> bool {
    inbox.settings.get("provider").and_then(|p| p.as_str()) == Some("twilio")
}

/// The Graph API as the hub's settings place it.
fn graph(ctx: &ChannelContext) -> Graph {
    let providers = &ctx.settings.providers;
    Graph::new(
        ctx.http.clone(),
        &providers.graph_api_url,
        &providers.graph_api_version,
    )
}

fn required_text(input: &SetupInput, key: &str, max: usize) -> Result<String, ChannelError> {
    input.required_text(key, max, || {
        format!("WhatsApp inboxes on Meta need `{key}`")
    })
}

#[async_trait::async_trait]
impl Channel for WhatsappChannel {
    fn kind(&self) -> &'static str {
        "whatsapp"
    }

    fn label(&self) -> &'static str {
        "WhatsApp"
    }

    fn setup_fields(&self) -> Vec<SetupField> {
        vec![
            SetupField::new("provider", "Provider", FieldType::Choice)
                .required()
                .options(&PROVIDERS)
                .help("`meta` for the WhatsApp Cloud API; `twilio` for a Twilio WhatsApp sender."),
            SetupField::new("phone_number_id", "Phone number ID", FieldType::Text)
                .help("Meta: WhatsApp Manager → API Setup → Phone number ID.")
                .for_provider("meta"),
            SetupField::new(
                "business_account_id",
                "WhatsApp Business Account ID",
                FieldType::Text,
            )
            .help("Meta: the account whose approved message templates agents may send.")
            .for_provider("meta"),
            SetupField::new("access_token", "Access token", FieldType::Password)
                .help("Meta: a system user's permanent token with whatsapp_business_messaging.")
                .for_provider("meta"),
            SetupField::new("app_secret", "App secret", FieldType::Password)
                .help("Meta: App settings → Basic; checks the webhook's X-Hub-Signature-256.")
                .for_provider("meta"),
            SetupField::new("account_sid", "Account SID", FieldType::Text)
                .help("Twilio: the account's SID (AC…).")
                .for_provider("twilio"),
            SetupField::new("auth_token", "Auth token", FieldType::Password)
                .help("Twilio: the account's auth token; it also signs Twilio's webhooks.")
                .for_provider("twilio"),
            SetupField::new("from", "Sender", FieldType::Text)
                .help("Twilio: the WhatsApp sender's number in E.164 (+14155550100).")
                .for_provider("twilio"),
        ]
    }

    fn set_up(&self, env: &SetupEnv<'_>, input: &SetupInput) -> Result<InboxSetup, ChannelError> {
        let provider = input.text("provider")?.unwrap_or_default();
        if provider == "twilio" {
            // Twilio carries WhatsApp as it carries SMS, with `whatsapp:` addresses: one code.
            return twilio::set_up(env, input, Prefix::WHATSAPP);
        }
        if provider != "meta" {
            return Err(ChannelError::Invalid(format!(
                "`provider` must be one of {PROVIDERS:?}, not {provider:?}"
            )));
        }
        let settings = WhatsappSettings {
            provider: "meta".into(),
            phone_number_id: required_text(input, "phone_number_id", limits::IDENTIFIER)?,
            business_account_id: required_text(input, "business_account_id", limits::IDENTIFIER)?,
        };
        settings.check()?;
        let secrets = WhatsappSecrets {
            access_token: required_text(input, "access_token", limits::TOKEN)?,
            app_secret: required_text(input, "app_secret", limits::TOKEN)?,
            verify_token: crate::auth::random_token(32),
        };
        let mut setup = InboxSetup::default();
        setup.add_settings(&settings)?;
        hooks::seal_json(&mut setup, env, &secrets)?;
        // Pasted at Meta with the webhook URL, so shown this once.
        setup.shown_once = Some(secrets.verify_token);
        Ok(setup)
    }

    fn change_settings(
        &self,
        _env: &SetupEnv<'_>,
        _inbox: &Inbox,
        settings: serde_json::Value,
    ) -> Result<serde_json::Value, ChannelError> {
        if is_twilio(_inbox) {
            return Err(ChannelError::Invalid(
                "a Twilio WhatsApp inbox's settings are set when it is made".into(),
            ));
        }
        let changed: WhatsappSettings = serde_json::from_value(settings).map_err(|e| {
            ChannelError::Invalid(format!(
                "WhatsApp settings are `provider`, `phone_number_id` and `business_account_id` \
                 (secrets are set when the inbox is made): {e}"
            ))
        })?;
        changed.check()?;
        serde_json::to_value(changed).map_err(|e| ChannelError::Internal(e.to_string()))
    }

    fn webhook_url(&self, env: &SetupEnv<'_>, inbox: &Inbox) -> Option<String> {
        Some(hooks::webhook_url(env, inbox))
    }

    async fn check_reply(
        &self,
        ctx: &ChannelContext,
        inbox: &Inbox,
        conversation: &Conversation,
        meta: Option<&serde_json::Value>,
    ) -> Result<(), ChannelError> {
        if is_twilio(inbox) {
            return window::check_twilio_reply(ctx, conversation, meta).await;
        }
        window::check_reply(ctx, inbox, conversation, meta).await
    }

    async fn reply_text(
        &self,
        ctx: &ChannelContext,
        inbox: &Inbox,
        meta: Option<&serde_json::Value>,
    ) -> Result<Option<String>, ChannelError> {
        if is_twilio(inbox) {
            return Ok(None);
        }
        window::template_text(ctx, inbox, meta).await
    }

    fn test_recipient(&self, _inbox: &Inbox, to: &str) -> Result<Vec<Identity>, ChannelError> {
        let digits: String = to.chars().filter(char::is_ascii_digit).collect();
        let only_number_chars = to
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')' | '.'));
        // E.164: at most 15 digits, country code included.
        if !only_number_chars || !(7..=15).contains(&digits.len()) {
            return Err(ChannelError::Invalid(format!(
                "{to:?} is not a phone number with its country code (like +14155550100)"
            )));
        }
        Ok(vec![Identity::phone(&format!("+{digits}"))])
    }

    fn sender(
        &self,
        ctx: &ChannelContext,
        claimed: &ClaimedDelivery,
    ) -> Result<Box<dyn Outbound>, DeliveryError> {
        if is_twilio(&claimed.inbox) {
            return twilio::sender(ctx, claimed, Prefix::WHATSAPP);
        }
        let settings = WhatsappSettings::of(&claimed.inbox).map_err(DeliveryError::Permanent)?;
        let secrets: WhatsappSecrets = hooks::delivery_secrets(ctx, claimed, "access token")?;
        Ok(Box::new(WhatsappSender::new(
            graph(ctx),
            secrets.access_token,
            settings.phone_number_id,
        )))
    }

    fn routes(&self) -> Vec<(Route, MethodRouter<ChannelContext>)> {
        let hook = |method| Route {
            method,
            path: "/hooks/whatsapp/{inbox_id}",
            access: Access::Public,
            scope: Scope::Inbox,
        };
        vec![
            (hook(Method::GET), get(webhook::handshake)),
            (
                hook(Method::POST),
                axum::routing::post(webhook::notification),
            ),
            (
                Route {
                    method: Method::GET,
                    path: "/api/v1/inboxes/{inbox_id}/templates",
                    // Agents pick a template when the window has closed: members of the inbox.
                    access: Access::Member,
                    scope: Scope::Inbox,
                },
                get(window::list_templates),
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inbox() -> Inbox {
        Inbox {
            id: 1,
            workspace_id: 1,
            name: "WA".into(),
            kind: switchboard_connector_core::ChannelKind::Whatsapp,
            settings: serde_json::json!({}),
            conversation_scope: crate::domain::ConversationScope::Inbox,
            created_at: 0,
        }
    }

    #[test]
    fn a_test_send_goes_to_a_phone_number_with_its_country_code() {
        let to = WhatsappChannel
            .test_recipient(&inbox(), "+1 (415) 555-0100")
            .unwrap();
        assert_eq!(to, [Identity::new("phone", "+14155550100")]);
        let to = WhatsappChannel
            .test_recipient(&inbox(), "14155550100")
            .unwrap();
        assert_eq!(to, [Identity::new("phone", "+14155550100")]);
        assert!(WhatsappChannel.test_recipient(&inbox(), "mina").is_err());
        assert!(WhatsappChannel.test_recipient(&inbox(), "+1234").is_err());
    }
}
