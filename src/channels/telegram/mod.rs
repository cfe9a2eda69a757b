//! The Telegram channel: a bot's chats as an inbox. Updates arrive by webhook (the hub calls
//! `setWebhook` with a secret token it generated) or, for hubs without a public URL, by long
//! polling `getUpdates`; replies go out with `sendMessage`. The Bot API side is
//! `switchboard_connector_telegram`; this folder joins it to the hub.

mod polling;
mod updates;
pub mod webhook;

use std::time::Duration;

use axum::http::Method;
use axum::routing::{post, MethodRouter};
use serde::{Deserialize, Serialize};
use switchboard_connector_core::{
    DeliveryError, DeliveryReceipt, Identity, Outbound, OutboundDelivery,
};
use switchboard_connector_telegram::{BotApi, BotToken, OutgoingFile, TelegramOutbound};
use tokio::sync::watch;

use super::{
    hooks, Channel, ChannelContext, ChannelError, ChannelTasks, FieldType, InboxSetup, SetupEnv,
    SetupField, SetupInput,
};
use crate::domain::Inbox;
use crate::edge::route::{Access, Route, Scope};
use crate::store::ClaimedDelivery;

/// A reply with its files: read from the store when it goes out (the sender is made without
/// I/O), then handed to the connector.
struct TelegramReply {
    ctx: ChannelContext,
    api: BotApi,
}

#[async_trait::async_trait]
impl Outbound for TelegramReply {
    async fn deliver(&self, delivery: &OutboundDelivery) -> Result<DeliveryReceipt, DeliveryError> {
        let files = self
            .ctx
            .desk
            .store()
            .email()
            .attachment_data(delivery.message_id)
            .await
            .map_err(|e| DeliveryError::Transient(format!("cannot read the reply's files: {e}")))?
            .into_iter()
            .map(|f| OutgoingFile {
                filename: f.filename,
                content_type: f.content_type,
                data: f.data,
            })
            .collect();
        TelegramOutbound::new(self.api.clone())
            .with_files(files)
            .deliver(delivery)
            .await
    }
}

/// How often the channel looks for Telegram inboxes created, changed or removed since.
const SUPERVISE_EVERY: Duration = Duration::from_secs(2);

pub struct TelegramChannel;

/// What a Telegram inbox keeps sealed.
#[derive(Serialize, Deserialize)]
pub(crate) struct TelegramSecrets {
    pub bot_token: String,
    /// Telegram echoes it in `X-Telegram-Bot-Api-Secret-Token` on every webhook call. Made at
    /// setup whatever the mode, so an inbox can move from polling to webhook later.
    pub secret_token: String,
}

/// How the inbox hears of new messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Mode {
    Webhook,
    Polling,
}

/// A Telegram inbox's shown settings.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TelegramSettings {
    provider: String,
    mode: Mode,
    /// The bot's id (the token's part before the colon): not secret, tells bots apart.
    bot_id: String,
}

pub(crate) fn mode_of(inbox: &Inbox) -> Option<Mode> {
    serde_json::from_value(inbox.settings.get("mode")?.clone()).ok()
}

/// The Bot API as this inbox's bot, at the configured address.
pub(crate) fn bot_api(ctx: &ChannelContext, secrets: &TelegramSecrets) -> anyhow::Result<BotApi> {
    let token = BotToken::parse(&secrets.bot_token)?;
    Ok(BotApi::new(
        ctx.http.clone(),
        &ctx.settings.providers.telegram_api_url,
        token,
    ))
}

fn parse_mode(value: Option<String>) -> Result<Mode, ChannelError> {
    match value.as_deref() {
        None | Some("webhook") => Ok(Mode::Webhook),
        Some("polling") => Ok(Mode::Polling),
        Some(other) => Err(ChannelError::Invalid(format!(
            "`mode` is `webhook` or `polling`, not {other:?}"
        ))),
    }
}

/// Telegram delivers webhooks only to HTTPS addresses: without a public HTTPS URL the webhook
/// could never be set, and the inbox would stay silent.
fn check_webhook_reachable(env: &SetupEnv<'_>) -> Result<(), ChannelError> {
    if hooks::public_base(env).starts_with("https://") {
        Ok(())
    } else {
        Err(ChannelError::Invalid(
            "Telegram sends webhooks only to HTTPS: set the hub's `server.public_url` to an \
             https:// address Telegram can reach, or use `mode` `polling`"
                .into(),
        ))
    }
}

fn check_provider(value: Option<String>) -> Result<(), ChannelError> {
    match value.as_deref() {
        None | Some("telegram") => Ok(()),
        Some(other) => Err(ChannelError::Invalid(format!(
            "Telegram inboxes are carried by `telegram`, not {other:?}"
        ))),
    }
}

#[async_trait::async_trait]
impl Channel for TelegramChannel {
    fn kind(&self) -> &'static str {
        "telegram"
    }

    fn label(&self) -> &'static str {
        "Telegram"
    }

    fn setup_fields(&self) -> Vec<SetupField> {
        vec![
            SetupField::new("provider", "Provider", FieldType::Choice).options(&["telegram"]),
            SetupField::new("bot_token", "Bot token", FieldType::Password)
                .required()
                .help("The token BotFather gave the bot, e.g. 123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11."),
            SetupField::new("mode", "How updates arrive", FieldType::Choice)
                .options(&["webhook", "polling"])
                .help("webhook: Telegram calls the hub's public URL (set for you). polling: the hub asks Telegram, for hubs without a public URL."),
        ]
    }

    fn set_up(&self, env: &SetupEnv<'_>, input: &SetupInput) -> Result<InboxSetup, ChannelError> {
        check_provider(input.text("provider")?)?;
        let mode = parse_mode(input.text("mode")?)?;
        if mode == Mode::Webhook {
            check_webhook_reachable(env)?;
        }
        let given = input.text("bot_token")?.unwrap_or_default();
        crate::limits::text("bot_token", &given, crate::limits::IDENTIFIER)?;
        let token = BotToken::parse(&given).map_err(|e| ChannelError::Invalid(e.to_string()))?;
        let mut setup = InboxSetup::default();
        setup.add_settings(TelegramSettings {
            provider: "telegram".into(),
            mode,
            bot_id: token.bot_id().to_string(),
        })?;
        let secrets = TelegramSecrets {
            bot_token: token.expose().to_string(),
            secret_token: crate::auth::random_token(32),
        };
        hooks::seal_json(&mut setup, env, &secrets)?;
        Ok(setup)
    }

    /// The mode may change (the channel follows within seconds); the bot may not, its token
    /// is sealed with the inbox.
    fn change_settings(
        &self,
        env: &SetupEnv<'_>,
        inbox: &Inbox,
        settings: serde_json::Value,
    ) -> Result<serde_json::Value, ChannelError> {
        let mut wanted = settings;
        if let Some(map) = wanted.as_object_mut() {
            map.entry("provider").or_insert("telegram".into());
            if let Some(bot_id) = inbox.settings.get("bot_id") {
                map.entry("bot_id").or_insert(bot_id.clone());
            }
        }
        let wanted: TelegramSettings = serde_json::from_value(wanted)
            .map_err(|e| ChannelError::Invalid(format!("invalid Telegram inbox settings: {e}")))?;
        check_provider(Some(wanted.provider.clone()))?;
        if wanted.mode == Mode::Webhook {
            check_webhook_reachable(env)?;
        }
        if inbox.settings.get("bot_id").and_then(|v| v.as_str()) != Some(wanted.bot_id.as_str()) {
            return Err(ChannelError::Invalid(
                "a Telegram inbox keeps its bot: make a new inbox for another one".into(),
            ));
        }
        serde_json::to_value(wanted).map_err(|e| ChannelError::Internal(e.to_string()))
    }

    fn webhook_url(&self, env: &SetupEnv<'_>, inbox: &Inbox) -> Option<String> {
        (mode_of(inbox) == Some(Mode::Webhook)).then(|| hooks::webhook_url(env, inbox))
    }

    /// A chat id: a user's (positive) or a group's (negative). The customer must have written
    /// to the bot first; Telegram refuses bots that write first.
    fn test_recipient(&self, _inbox: &Inbox, to: &str) -> Result<Vec<Identity>, ChannelError> {
        let to = to.trim();
        to.parse::<i64>().map_err(|_| {
            ChannelError::Invalid(format!(
                "a Telegram chat id is a number (such as 1111111, or -100123 for a group), not {to:?}"
            ))
        })?;
        Ok(vec![Identity::new(
            switchboard_connector_telegram::IDENTITY_NAMESPACE,
            to,
        )])
    }

    fn sender(
        &self,
        ctx: &ChannelContext,
        claimed: &ClaimedDelivery,
    ) -> Result<Box<dyn Outbound>, DeliveryError> {
        let secrets: TelegramSecrets = hooks::delivery_secrets(ctx, claimed, "bot token")?;
        let api = bot_api(ctx, &secrets).map_err(|e| DeliveryError::Permanent(e.to_string()))?;
        Ok(Box::new(TelegramReply {
            ctx: ctx.clone(),
            api,
        }))
    }

    /// One supervisor that follows the Telegram inboxes: it registers each webhook inbox's
    /// webhook and runs a long-poll task per polling inbox.
    async fn start(
        &self,
        ctx: &ChannelContext,
        shutdown: watch::Receiver<bool>,
    ) -> anyhow::Result<ChannelTasks> {
        let task = tokio::spawn(polling::supervise(ctx.clone(), SUPERVISE_EVERY, shutdown));
        Ok(ChannelTasks {
            tasks: vec![task],
            listeners: Vec::new(),
        })
    }

    fn routes(&self) -> Vec<(Route, MethodRouter<ChannelContext>)> {
        vec![(
            Route {
                method: Method::POST,
                path: "/hooks/telegram/{inbox_id}",
                // Telegram proves itself with the inbox's secret token, checked by the handler.
                access: Access::Public,
                scope: Scope::Inbox,
            },
            post(webhook::receive_update),
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inbox(settings: serde_json::Value) -> Inbox {
        Inbox {
            id: 1,
            workspace_id: 1,
            name: "Bot".into(),
            kind: switchboard_connector_core::ChannelKind::Telegram,
            settings,
            conversation_scope: crate::domain::ConversationScope::Inbox,
            created_at: 0,
        }
    }

    #[test]
    fn a_test_send_goes_to_a_numeric_chat_id() {
        let inbox = inbox(serde_json::json!({}));
        let to = TelegramChannel.test_recipient(&inbox, " -100123 ").unwrap();
        assert_eq!(to, [Identity::new("telegram", "-100123")]);
        assert!(TelegramChannel.test_recipient(&inbox, "@someone").is_err());
    }

    #[test]
    fn settings_may_change_the_mode_but_not_the_bot() {
        let mut settings = crate::config::Settings::load(None).unwrap();
        settings.server.public_url = "https://hub.example".into();
        let secrets =
            crate::crypto::SecretBox::from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
                .unwrap();
        let env = SetupEnv {
            settings: &settings,
            secrets: &secrets,
        };
        let inbox = inbox(
            serde_json::json!({"provider": "telegram", "mode": "webhook", "bot_id": "123456"}),
        );
        let changed = TelegramChannel
            .change_settings(&env, &inbox, serde_json::json!({"mode": "polling"}))
            .unwrap();
        assert_eq!(
            changed,
            serde_json::json!({"provider": "telegram", "mode": "polling", "bot_id": "123456"})
        );
        for bad in [
            serde_json::json!({"mode": "polling", "bot_id": "999"}),
            serde_json::json!({"mode": "carrier"}),
            serde_json::json!({"mode": "polling", "bot_token": "x"}),
        ] {
            assert!(TelegramChannel.change_settings(&env, &inbox, bad).is_err());
        }
    }
}
