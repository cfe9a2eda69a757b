//! Channels: each kind of inbox as one folder that describes and owns its setup form, settings
//! checks, sealed secrets, outbound sender, background tasks and webhook routes, and the
//! registry (`ChannelRegistry`) that lists them. Adding a channel is a folder and one
//! `ChannelRegistry::with` line.

pub mod api;
mod context;
pub mod email;
pub mod hooks;
pub mod messenger;
mod registry;
mod setup;
pub mod sms;
pub mod telegram;
pub mod web_chat;
pub mod whatsapp;

use axum::routing::MethodRouter;
use switchboard_connector_core::{DeliveryError, Outbound};
use tokio::sync::watch;

use crate::domain::{Conversation, Inbox};
use crate::edge::route::Route;
use crate::store::ClaimedDelivery;
use switchboard_connector_core::Identity;

pub use context::{ChannelContext, ChannelTasks, SetupEnv};
pub use registry::{ChannelForm, ChannelRegistry};
pub use setup::{ChannelError, FieldType, InboxSetup, SetupField, SetupInput};

/// One kind of inbox. The registry keys channels by `kind()`; every other method has a default
/// so that a channel implements only what it does.
#[async_trait::async_trait]
pub trait Channel: Send + Sync + 'static {
    /// The kind's name as stored and shown (`email`, `web_chat`…): the inbox's `kind`.
    fn kind(&self) -> &'static str;

    /// What the console calls it.
    fn label(&self) -> &'static str;

    /// The setup form, in the order the console shows it.
    fn setup_fields(&self) -> Vec<SetupField> {
        Vec::new()
    }

    /// Checks what the creator gave (only the fields of `setup_fields`, the registry has seen to
    /// that) and makes the inbox's stored settings and sealed secret. No I/O: the registry's
    /// caller writes the result in one transaction.
    fn set_up(&self, env: &SetupEnv<'_>, input: &SetupInput) -> Result<InboxSetup, ChannelError>;

    /// Checks a whole new set of settings for an existing inbox and answers what to store.
    fn change_settings(
        &self,
        _env: &SetupEnv<'_>,
        inbox: &Inbox,
        _settings: serde_json::Value,
    ) -> Result<serde_json::Value, ChannelError> {
        Err(ChannelError::Invalid(format!(
            "{} inboxes have no settings to change here yet",
            inbox.kind
        )))
    }

    /// The inbox's sealed secret after a settings change: `typed` holds the secret fields the
    /// admin typed now (`imap_password`…; an empty one means "keep"), `saved` the sealed secret
    /// as stored. `None` leaves the stored one as it is. A channel without secrets to change
    /// refuses typed ones rather than dropping them.
    fn change_secrets(
        &self,
        _env: &SetupEnv<'_>,
        inbox: &Inbox,
        _settings: &serde_json::Value,
        _saved: Option<&[u8]>,
        typed: &SetupInput,
    ) -> Result<Option<Vec<u8>>, ChannelError> {
        match typed.keys().next() {
            None => Ok(None),
            Some(key) => Err(ChannelError::Invalid(format!(
                "`secrets.{key}`: {} inboxes have no secrets to change here",
                inbox.kind
            ))),
        }
    }

    /// What a site owner pastes to use the inbox, where the channel has such a thing.
    fn embed_snippet(&self, _env: &SetupEnv<'_>, _inbox: &Inbox) -> Option<String> {
        None
    }

    /// Where the provider must send this inbox's webhooks, for channels that take them: the
    /// hub's public URL and `/hooks/{kind}/{inbox_id}` (see `hooks::webhook_url`). Shown when the
    /// inbox is created, for the admin to paste at the provider.
    fn webhook_url(&self, _env: &SetupEnv<'_>, _inbox: &Inbox) -> Option<String> {
        None
    }

    /// Whether an agent's reply may go out on this conversation now. WhatsApp refuses free text
    /// outside the customer-service window, naming the templates that may be sent instead.
    /// `meta` is the reply's channel details (a template to send, say).
    async fn check_reply(
        &self,
        _ctx: &ChannelContext,
        _inbox: &Inbox,
        _conversation: &Conversation,
        _meta: Option<&serde_json::Value>,
    ) -> Result<(), ChannelError> {
        Ok(())
    }

    /// The text a reply stores when what goes out is the channel's own content rather than the
    /// author's words (a WhatsApp template, its body filled in); `None` keeps the author's
    /// text. Asked after `check_reply` allowed the reply, with the same `meta`.
    async fn reply_text(
        &self,
        _ctx: &ChannelContext,
        _inbox: &Inbox,
        _meta: Option<&serde_json::Value>,
    ) -> Result<Option<String>, ChannelError> {
        Ok(None)
    }

    /// Who a test send (the console's "send test" button) goes to, from what the admin typed
    /// (a phone number, a chat id). Channels without test sends refuse.
    fn test_recipient(&self, _inbox: &Inbox, _to: &str) -> Result<Vec<Identity>, ChannelError> {
        Err(ChannelError::Invalid(format!(
            "{} inboxes cannot send a test message",
            self.label()
        )))
    }

    /// The connector that delivers this claimed outbox row.
    fn sender(
        &self,
        ctx: &ChannelContext,
        claimed: &ClaimedDelivery,
    ) -> Result<Box<dyn Outbound>, DeliveryError>;

    /// Starts the channel's background work (mailbox sync, listeners); the tasks stop when
    /// `shutdown` turns true or are aborted when the hub stops.
    async fn start(
        &self,
        _ctx: &ChannelContext,
        _shutdown: watch::Receiver<bool>,
    ) -> anyhow::Result<ChannelTasks> {
        Ok(ChannelTasks::default())
    }

    /// Routes the channel serves (webhooks, an inbound endpoint), with their access rules, in
    /// the route table like every other route.
    fn routes(&self) -> Vec<(Route, MethodRouter<ChannelContext>)> {
        Vec::new()
    }
}
