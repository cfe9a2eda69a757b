//! The channel registry: the one list of channels the hub runs, keyed by kind. Setup, settings
//! changes, senders, background tasks, webhook routes and the console's setup forms are all
//! asked of it, so no other layer matches on a channel kind.

use std::any::Any;
use std::sync::Arc;

use axum::routing::MethodRouter;
use serde::Serialize;
use switchboard_connector_core::{ChannelKind, DeliveryError, Outbound};
use tokio::sync::watch;
use utoipa::ToSchema;

use super::{
    api, email, messenger, sms, web_chat, whatsapp, Channel, ChannelContext, ChannelError,
    ChannelTasks, InboxSetup, SetupEnv, SetupField, SetupInput,
};
use crate::domain::Inbox;
use crate::edge::route::Route;
use crate::store::ClaimedDelivery;

/// The channels of one hub. Built once at start-up and shared read-only after that.
#[derive(Clone, Default)]
pub struct ChannelRegistry {
    channels: Vec<Arc<dyn Channel>>,
    /// The same channels as `Any`, in the same order, so that `find` can hand one back as its
    /// own type (the email channel's mail side, say).
    typed: Vec<Arc<dyn Any + Send + Sync>>,
}

/// A channel's setup form, as `GET /api/v1/channels` lists it for the console.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ChannelForm {
    /// The inbox kind to create with `POST /api/v1/inboxes`.
    pub kind: &'static str,
    pub label: &'static str,
    /// Sent as the create body's `settings` (dots nest); the older top-level fields
    /// (`callback_url`, `email`, `imap_password`, `smtp_password`) are read the same way.
    pub fields: Vec<SetupField>,
}

impl ChannelRegistry {
    /// No channels at all; `with` adds them.
    pub fn empty() -> Self {
        ChannelRegistry::default()
    }

    /// The channels the hub ships.
    pub fn standard() -> Self {
        ChannelRegistry::empty()
            .with(email::EmailChannel::default())
            .with(web_chat::WebChatChannel)
            .with(api::ApiChannel)
            .with(sms::SmsChannel)
            .with(whatsapp::WhatsappChannel)
            .with(messenger::MetaMessaging::messenger())
            .with(messenger::MetaMessaging::instagram())
            .with(super::telegram::TelegramChannel)
    }

    /// Adds a channel. A channel of a kind already listed replaces that one (a deployment, or a
    /// test, can swap a standard channel for its own). Its kind becomes known to
    /// `ChannelKind::parse`, so inboxes of it read back from the store.
    pub fn with(mut self, channel: impl Channel) -> Self {
        let kind = channel.kind();
        ChannelKind::register(kind);
        if let Some(at) = self.channels.iter().position(|c| c.kind() == kind) {
            self.channels.remove(at);
            self.typed.remove(at);
        }
        let channel = Arc::new(channel);
        self.channels.push(channel.clone());
        self.typed.push(channel);
        self
    }

    /// The registered channel of type `C`, if there is one.
    pub fn find<C: Channel>(&self) -> Option<&C> {
        self.typed.iter().find_map(|c| c.downcast_ref::<C>())
    }

    pub fn channel(&self, kind: ChannelKind) -> Option<&dyn Channel> {
        self.channels
            .iter()
            .find(|c| c.kind() == kind.as_str())
            .map(|c| c.as_ref())
    }

    pub fn forms(&self) -> Vec<ChannelForm> {
        self.channels
            .iter()
            .map(|c| ChannelForm {
                kind: c.kind(),
                label: c.label(),
                fields: c.setup_fields(),
            })
            .collect()
    }

    /// Checks a new inbox's setup against its channel's form and lets the channel make its
    /// settings. A kind this hub runs no channel for is refused: an inbox nothing could ever
    /// deliver from or to would only collect customers' messages to lose them.
    #[tracing::instrument(skip_all, fields(kind = kind))]
    pub fn set_up(
        &self,
        env: &SetupEnv<'_>,
        kind: &str,
        input: &SetupInput,
    ) -> Result<(ChannelKind, InboxSetup), ChannelError> {
        let parsed =
            ChannelKind::parse(kind).ok_or_else(|| ChannelError::UnknownKind(kind.to_string()))?;
        let channel = self
            .channel(parsed)
            .ok_or_else(|| ChannelError::UnknownKind(kind.to_string()))?;
        let fields = channel.setup_fields();
        for key in input.keys() {
            if !fields.iter().any(|f| f.key() == key) {
                return Err(self.not_a_field_of(parsed, key));
            }
        }
        for field in fields.iter().filter(|f| f.required) {
            if input_value(input, field.name).is_none() {
                return Err(ChannelError::Invalid(format!(
                    "{parsed} inboxes need `{}`",
                    field.name
                )));
            }
        }
        let setup = channel.set_up(env, input)?;
        // The form says which fields are secret; none of them may reach the shown settings.
        if let Some(leak) = fields
            .iter()
            .filter(|f| f.secret)
            .find(|f| path_value(&setup.settings, f.name).is_some())
        {
            return Err(ChannelError::Internal(format!(
                "the {parsed} channel put its secret `{}` in the shown settings",
                leak.name
            )));
        }
        Ok((parsed, setup))
    }

    fn not_a_field_of(&self, kind: ChannelKind, key: &str) -> ChannelError {
        let owner = self
            .channels
            .iter()
            .find(|c| c.setup_fields().iter().any(|f| f.key() == key));
        ChannelError::Invalid(match owner {
            Some(owner) => format!("only {} inboxes take `{key}`", owner.label()),
            None => format!("{kind} inboxes take no `{key}`"),
        })
    }

    pub fn change_settings(
        &self,
        env: &SetupEnv<'_>,
        inbox: &Inbox,
        settings: serde_json::Value,
    ) -> Result<serde_json::Value, ChannelError> {
        match self.channel(inbox.kind) {
            Some(channel) => channel.change_settings(env, inbox, settings),
            None => Err(ChannelError::Invalid(format!(
                "{} inboxes have no settings to change here yet",
                inbox.kind
            ))),
        }
    }

    pub fn change_secrets(
        &self,
        env: &SetupEnv<'_>,
        inbox: &Inbox,
        settings: &serde_json::Value,
        saved: Option<&[u8]>,
        typed: &super::SetupInput,
    ) -> Result<Option<Vec<u8>>, ChannelError> {
        match self.channel(inbox.kind) {
            Some(channel) => channel.change_secrets(env, inbox, settings, saved, typed),
            None if typed.is_empty() => Ok(None),
            None => Err(ChannelError::Invalid(format!(
                "{} inboxes have no secrets to change here",
                inbox.kind
            ))),
        }
    }

    pub fn embed_snippet(&self, env: &SetupEnv<'_>, inbox: &Inbox) -> Option<String> {
        self.channel(inbox.kind)?.embed_snippet(env, inbox)
    }

    pub fn webhook_url(&self, env: &SetupEnv<'_>, inbox: &Inbox) -> Option<String> {
        self.channel(inbox.kind)?.webhook_url(env, inbox)
    }

    /// Whether a reply may go out on the conversation now (its channel's rule, if it has one).
    pub async fn check_reply(
        &self,
        ctx: &ChannelContext,
        inbox: &Inbox,
        conversation: &crate::domain::Conversation,
        meta: Option<&serde_json::Value>,
    ) -> Result<(), ChannelError> {
        match self.channel(inbox.kind) {
            Some(channel) => channel.check_reply(ctx, inbox, conversation, meta).await,
            None => Ok(()),
        }
    }

    /// The text a reply stores when its channel sends content of its own (a template).
    pub async fn reply_text(
        &self,
        ctx: &ChannelContext,
        inbox: &Inbox,
        meta: Option<&serde_json::Value>,
    ) -> Result<Option<String>, ChannelError> {
        match self.channel(inbox.kind) {
            Some(channel) => channel.reply_text(ctx, inbox, meta).await,
            None => Ok(None),
        }
    }

    pub fn test_recipient(
        &self,
        inbox: &Inbox,
        to: &str,
    ) -> Result<Vec<switchboard_connector_core::Identity>, ChannelError> {
        match self.channel(inbox.kind) {
            Some(channel) => channel.test_recipient(inbox, to),
            None => Err(ChannelError::Invalid(format!(
                "{} inboxes cannot send a test message",
                inbox.kind
            ))),
        }
    }

    /// The connector that delivers a claimed outbox row, from its inbox's channel.
    pub fn sender(
        &self,
        ctx: &ChannelContext,
        claimed: &ClaimedDelivery,
    ) -> Result<Box<dyn Outbound>, DeliveryError> {
        match self.channel(claimed.inbox.kind) {
            Some(channel) => channel.sender(ctx, claimed),
            None => Err(DeliveryError::Permanent(format!(
                "{} inboxes have no sending connector yet",
                claimed.inbox.kind
            ))),
        }
    }

    /// Starts every channel's background work.
    #[tracing::instrument(skip_all)]
    pub async fn start(
        &self,
        ctx: &ChannelContext,
        shutdown: &watch::Receiver<bool>,
    ) -> anyhow::Result<ChannelTasks> {
        let mut all = ChannelTasks::default();
        for channel in &self.channels {
            all.extend(channel.start(ctx, shutdown.clone()).await?);
        }
        Ok(all)
    }

    /// Every channel's routes for an adapter's route table, each handler given the channel
    /// context as its state (so channels never name an adapter's state).
    pub fn routes<S>(&self, ctx: &ChannelContext) -> Vec<(Route, MethodRouter<S>)>
    where
        S: Clone + Send + Sync + 'static,
    {
        self.channels
            .iter()
            .flat_map(|c| c.routes())
            .map(|(route, handler)| (route, handler.with_state(ctx.clone())))
            .collect()
    }

    /// Every channel's routes without their handlers, for documentation and tests.
    pub fn described_routes(&self) -> Vec<Route> {
        self.channels
            .iter()
            .flat_map(|c| c.routes())
            .map(|(route, _)| route)
            .collect()
    }
}

/// The input's value at a dotted path, ignoring nulls.
fn input_value(input: &SetupInput, path: &str) -> Option<serde_json::Value> {
    let (key, rest) = path.split_once('.').unwrap_or((path, ""));
    let value = input.get::<serde_json::Value>(key).ok().flatten()?;
    if rest.is_empty() {
        return Some(value);
    }
    match value {
        serde_json::Value::Object(map) => path_value(&map, rest).cloned(),
        _ => None,
    }
}

fn path_value<'a>(
    map: &'a serde_json::Map<String, serde_json::Value>,
    path: &str,
) -> Option<&'a serde_json::Value> {
    let mut parts = path.split('.');
    let mut value = map.get(parts.next()?)?;
    for part in parts {
        value = value.as_object()?.get(part)?;
    }
    (!value.is_null()).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::FieldType;

    /// A channel that breaks the rule the registry guards: its secret lands in the settings.
    struct Leaky;

    impl Channel for Leaky {
        fn kind(&self) -> &'static str {
            "leaky_test"
        }
        fn label(&self) -> &'static str {
            "Leaky"
        }
        fn setup_fields(&self) -> Vec<SetupField> {
            vec![
                SetupField::new("room", "Room", FieldType::Text).required(),
                SetupField::new("token", "Token", FieldType::Password),
            ]
        }
        fn set_up(&self, _: &SetupEnv<'_>, input: &SetupInput) -> Result<InboxSetup, ChannelError> {
            let mut setup = InboxSetup::default();
            if let Some(token) = input.text("token")? {
                setup.settings.insert("token".into(), token.into());
            }
            Ok(setup)
        }
        fn sender(
            &self,
            _: &ChannelContext,
            _: &ClaimedDelivery,
        ) -> Result<Box<dyn Outbound>, DeliveryError> {
            Err(DeliveryError::Permanent("never sends".into()))
        }
    }

    fn set_up(kind: &str, input: serde_json::Value) -> Result<InboxSetup, ChannelError> {
        let settings = crate::config::Settings::load(None).unwrap();
        let secrets =
            crate::crypto::SecretBox::from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
                .unwrap();
        let env = SetupEnv {
            settings: &settings,
            secrets: &secrets,
        };
        let input = SetupInput::new(input.as_object().unwrap().clone());
        ChannelRegistry::standard()
            .with(Leaky)
            .set_up(&env, kind, &input)
            .map(|(_, setup)| setup)
    }

    #[test]
    fn a_field_the_form_does_not_list_is_refused_naming_the_channel_that_takes_it() {
        let err = set_up(
            "web_chat",
            serde_json::json!({"callback_url": "https://x.example"}),
        );
        let err = err.unwrap_err().to_string();
        assert_eq!(err, "only API inboxes take `callback_url`");
        let err = set_up("api", serde_json::json!({"colour": "red"})).unwrap_err();
        assert_eq!(err.to_string(), "api inboxes take no `colour`");
    }

    #[test]
    fn required_fields_are_required_and_unknown_kinds_unknown() {
        let err = set_up("leaky_test", serde_json::json!({})).unwrap_err();
        assert_eq!(err.to_string(), "leaky_test inboxes need `room`");
        let err = set_up("email", serde_json::json!({})).unwrap_err();
        assert_eq!(err.to_string(), "email inboxes need `email.address`");
        assert!(matches!(
            set_up("carrier_pigeon", serde_json::json!({})),
            Err(ChannelError::UnknownKind(_))
        ));
    }

    #[test]
    fn a_secret_field_never_reaches_the_shown_settings() {
        let leaked = set_up(
            "leaky_test",
            serde_json::json!({"room": "a", "token": "s3cret"}),
        );
        assert!(
            matches!(leaked, Err(ChannelError::Internal(_))),
            "{leaked:?}"
        );
    }

    #[test]
    fn a_kind_the_hub_runs_no_channel_for_takes_no_inbox() {
        let settings = crate::config::Settings::load(None).unwrap();
        let secrets =
            crate::crypto::SecretBox::from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
                .unwrap();
        let env = SetupEnv {
            settings: &settings,
            secrets: &secrets,
        };
        let without_sms = ChannelRegistry::empty().with(api::ApiChannel);
        let refused = without_sms.set_up(&env, "sms", &SetupInput::default());
        assert!(
            matches!(refused, Err(ChannelError::UnknownKind(ref k)) if k == "sms"),
            "{refused:?}"
        );
    }

    #[test]
    fn api_and_web_chat_secrets_are_sealed_and_shown_once() {
        let api = set_up(
            "api",
            serde_json::json!({"callback_url": "https://crm.example/hook"}),
        );
        let api = api.unwrap();
        assert_eq!(api.settings["callback_url"], "https://crm.example/hook");
        let shown = api.shown_once.unwrap();
        assert_ne!(api.sealed_secret.unwrap(), shown.as_bytes());
        let chat = set_up("web_chat", serde_json::json!({})).unwrap();
        assert_eq!(
            chat.settings["website_token"].as_str(),
            chat.website_token.as_deref()
        );
        assert!(chat.shown_once.is_some());
    }

    #[test]
    fn the_standard_registry_lists_the_channels_the_hub_ships() {
        let kinds: Vec<_> = ChannelRegistry::standard()
            .forms()
            .into_iter()
            .map(|f| f.kind)
            .collect();
        assert_eq!(
            kinds,
            [
                "email",
                "web_chat",
                "api",
                "sms",
                "whatsapp",
                "messenger",
                "instagram",
                "telegram"
            ]
        );
    }

    #[test]
    fn dotted_paths_reach_into_nested_settings() {
        let map = serde_json::json!({"email": {"imap": {"host": "mail"}, "signature": null}});
        let map = map.as_object().unwrap();
        assert_eq!(path_value(map, "email.imap.host").unwrap(), "mail");
        assert!(path_value(map, "email.signature").is_none());
        assert!(path_value(map, "email.smtp.host").is_none());
    }
}
