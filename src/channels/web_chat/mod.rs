//! The website chat channel: an inbox a site embeds with one script tag. Visitors talk to it
//! over the widget's own socket and endpoints (src/widget), so replies need no provider call.

use switchboard_connector_core::{DeliveryError, DeliveryReceipt, Outbound, OutboundDelivery};

use super::{Channel, ChannelContext, ChannelError, InboxSetup, SetupEnv, SetupInput};
use crate::domain::Inbox;
use crate::store::ClaimedDelivery;
use crate::widget::WebChatSettings;

pub struct WebChatChannel;

#[async_trait::async_trait]
impl Channel for WebChatChannel {
    fn kind(&self) -> &'static str {
        "web_chat"
    }

    fn label(&self) -> &'static str {
        "Website chat"
    }

    /// Nothing to fill in: the widget's look and hours are settings changed later; the website
    /// token and the identity-signing secret are made here.
    fn set_up(&self, env: &SetupEnv<'_>, _input: &SetupInput) -> Result<InboxSetup, ChannelError> {
        let website_token = format!("wt_{}", crate::auth::random_token(18));
        let mut setup = InboxSetup::default();
        setup.add_settings(WebChatSettings {
            website_token: website_token.clone(),
            ..Default::default()
        })?;
        setup.website_token = Some(website_token);
        // The key the host site signs visitor identities with.
        setup.generate_secret(env);
        Ok(setup)
    }

    fn change_settings(
        &self,
        _env: &SetupEnv<'_>,
        inbox: &Inbox,
        settings: serde_json::Value,
    ) -> Result<serde_json::Value, ChannelError> {
        let mut chat: WebChatSettings = serde_json::from_value(settings)
            .map_err(|e| ChannelError::Invalid(format!("invalid web chat settings: {e}")))?;
        // Sites already embed the token: it cannot be changed here.
        chat.website_token = WebChatSettings::from_inbox(&inbox.settings).website_token;
        chat.validate().map_err(|e| ChannelError::InvalidField {
            field: format!("settings.{}", e.field),
            message: e.message,
        })?;
        serde_json::to_value(chat).map_err(|e| ChannelError::Internal(e.to_string()))
    }

    /// The one tag a site owner pastes to get the widget.
    fn embed_snippet(&self, env: &SetupEnv<'_>, inbox: &Inbox) -> Option<String> {
        let token = inbox.settings.get("website_token")?.as_str()?;
        let server = &env.settings.server;
        let base = if server.public_url.is_empty() {
            format!("http://{}", server.addr)
        } else {
            server.public_url.trim_end_matches('/').to_string()
        };
        Some(format!(
            r#"<script src="{base}/widget.js" data-website-token="{token}" async></script>"#
        ))
    }

    fn sender(
        &self,
        _ctx: &ChannelContext,
        _claimed: &ClaimedDelivery,
    ) -> Result<Box<dyn Outbound>, DeliveryError> {
        Ok(Box::new(VisitorSocketOutbound))
    }
}

/// Visitors receive replies live over their socket (and see them on return), so the widget
/// needs no provider call: delivery is the reply being in the store.
struct VisitorSocketOutbound;

#[async_trait::async_trait]
impl Outbound for VisitorSocketOutbound {
    async fn deliver(&self, _: &OutboundDelivery) -> Result<DeliveryReceipt, DeliveryError> {
        Ok(DeliveryReceipt::default())
    }
}
