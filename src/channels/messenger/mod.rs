//! Facebook Messenger and Instagram Messaging: one channel type serving both kinds, because
//! Meta's Messenger Platform carries both (one webhook shape, one Send API on the page, one
//! signature scheme). An inbox is one page, and for Instagram the professional account linked
//! to it. Webhooks are in `webhook.rs`, the sender in `outbound.rs`.

mod outbound;
pub mod webhook;

use axum::http::Method;
use axum::routing::{get, post, MethodRouter};
use serde::{Deserialize, Serialize};
use switchboard_connector_core::{ChannelKind, DeliveryError, Identity, Outbound};
use switchboard_connector_meta::messenger::ReplyWindow;

use super::{
    hooks, Channel, ChannelContext, ChannelError, FieldType, InboxSetup, SetupEnv, SetupField,
    SetupInput,
};
use crate::domain::{now_millis, Conversation, Inbox};
use crate::edge::route::{Access, Route, Scope};
use crate::limits;
use crate::store::ClaimedDelivery;

/// Which of Meta's two messaging products an inbox speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Product {
    Messenger,
    Instagram,
}

/// The Messenger Platform channel, constructed once per product.
pub struct MetaMessaging {
    product: Product,
}

impl MetaMessaging {
    pub fn messenger() -> MetaMessaging {
        MetaMessaging {
            product: Product::Messenger,
        }
    }

    pub fn instagram() -> MetaMessaging {
        MetaMessaging {
            product: Product::Instagram,
        }
    }

    fn channel_kind(&self) -> ChannelKind {
        match self.product {
            Product::Messenger => ChannelKind::Messenger,
            Product::Instagram => ChannelKind::Instagram,
        }
    }
}

/// What a Messenger or Instagram inbox shows of itself.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MetaSettings {
    provider: String,
    page_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    instagram_account_id: Option<String>,
}

impl MetaSettings {
    /// The id Meta's webhooks name as `entry[].id` and as the page's side of each event.
    fn own_id(&self) -> &str {
        self.instagram_account_id
            .as_deref()
            .unwrap_or(&self.page_id)
    }
}

/// What is sealed: the page's token (sends), the app secret (signatures) and the verify token
/// the hub made for the subscription handshake.
#[derive(Serialize, Deserialize)]
struct MetaSecrets {
    page_access_token: String,
    app_secret: String,
    verify_token: String,
}

/// A Graph id: digits only (page ids, Instagram account ids, PSIDs and IGSIDs all are).
fn graph_id(field: &str, value: &str) -> Result<(), ChannelError> {
    limits::text(field, value, 64)?;
    if value.is_empty() || !value.chars().all(|c| c.is_ascii_digit()) {
        return Err(ChannelError::Invalid(format!(
            "`{field}` must be Meta's numeric id"
        )));
    }
    Ok(())
}

fn required_text(input: &SetupInput, key: &str, max: usize) -> Result<String, ChannelError> {
    input.required_text(key, max, || format!("`{key}` is required"))
}

impl MetaMessaging {
    fn check_settings(&self, settings: &MetaSettings) -> Result<(), ChannelError> {
        if settings.provider != "meta" {
            return Err(ChannelError::Invalid(format!(
                "`provider` must be \"meta\", not {:?}",
                settings.provider
            )));
        }
        graph_id("page_id", &settings.page_id)?;
        match (self.product, &settings.instagram_account_id) {
            (Product::Instagram, Some(id)) => graph_id("instagram_account_id", id),
            (Product::Instagram, None) => Err(ChannelError::Invalid(
                "instagram inboxes need `instagram_account_id`".into(),
            )),
            (Product::Messenger, Some(_)) => Err(ChannelError::Invalid(
                "`instagram_account_id` is for instagram inboxes".into(),
            )),
            (Product::Messenger, None) => Ok(()),
        }
    }
}

fn settings_of(inbox: &Inbox) -> Result<MetaSettings, String> {
    serde_json::from_value(inbox.settings.clone())
        .map_err(|e| format!("inbox {}'s settings are not a Meta inbox's: {e}", inbox.id))
}

#[async_trait::async_trait]
impl Channel for MetaMessaging {
    fn kind(&self) -> &'static str {
        self.channel_kind().as_str()
    }

    fn label(&self) -> &'static str {
        match self.product {
            Product::Messenger => "Facebook Messenger",
            Product::Instagram => "Instagram",
        }
    }

    fn setup_fields(&self) -> Vec<SetupField> {
        let mut fields = vec![
            SetupField::new("provider", "Provider", FieldType::Choice).options(&["meta"]),
            SetupField::new("page_id", "Facebook Page ID", FieldType::Text)
                .required()
                .help("The page's numeric id (Page settings, About, Page transparency)."),
        ];
        if self.product == Product::Instagram {
            fields.push(
                SetupField::new(
                    "instagram_account_id",
                    "Instagram account ID",
                    FieldType::Text,
                )
                .required()
                .help("The id of the Instagram professional account linked to the page."),
            );
        }
        fields.extend([
            SetupField::new(
                "page_access_token",
                "Page access token",
                FieldType::Password,
            )
            .required()
            .help("A page access token with pages_messaging (and instagram_manage_messages)."),
            SetupField::new("app_secret", "App secret", FieldType::Password)
                .required()
                .help("Your Meta app's secret: webhooks are checked against it."),
        ]);
        fields
    }

    fn set_up(&self, env: &SetupEnv<'_>, input: &SetupInput) -> Result<InboxSetup, ChannelError> {
        let settings = MetaSettings {
            provider: input.text("provider")?.unwrap_or_else(|| "meta".into()),
            page_id: required_text(input, "page_id", 64)?,
            instagram_account_id: input.text("instagram_account_id")?,
        };
        self.check_settings(&settings)?;
        let secrets = MetaSecrets {
            page_access_token: required_text(input, "page_access_token", limits::TOKEN)?,
            app_secret: required_text(input, "app_secret", limits::PASSWORD)?,
            verify_token: crate::auth::random_token(32),
        };
        let mut setup = InboxSetup::default();
        setup.add_settings(&settings)?;
        hooks::seal_json(&mut setup, env, &secrets)?;
        // Pasted into Meta's webhook form beside the callback URL; shown this once.
        setup.shown_once = Some(secrets.verify_token);
        Ok(setup)
    }

    fn change_settings(
        &self,
        _env: &SetupEnv<'_>,
        _inbox: &Inbox,
        settings: serde_json::Value,
    ) -> Result<serde_json::Value, ChannelError> {
        let parsed: MetaSettings = serde_json::from_value(settings)
            .map_err(|e| ChannelError::Invalid(format!("invalid {} settings: {e}", self.kind())))?;
        self.check_settings(&parsed)?;
        serde_json::to_value(parsed).map_err(|e| ChannelError::Internal(e.to_string()))
    }

    fn webhook_url(&self, env: &SetupEnv<'_>, inbox: &Inbox) -> Option<String> {
        Some(hooks::webhook_url(env, inbox))
    }

    /// Meta takes a reply within 24 hours of the customer's last message, and a person's reply
    /// (the `HUMAN_AGENT` tag) within 7 days; after that nothing may go out until they write.
    async fn check_reply(
        &self,
        ctx: &ChannelContext,
        _inbox: &Inbox,
        conversation: &Conversation,
        _meta: Option<&serde_json::Value>,
    ) -> Result<(), ChannelError> {
        let last = ctx
            .desk
            .store()
            .last_customer_message_at(conversation.workspace_id, conversation.id)
            .await
            .map_err(|e| ChannelError::Internal(e.to_string()))?;
        match outbound::window_at(last, now_millis()) {
            ReplyWindow::Closed => Err(ChannelError::Invalid(format!(
                "{} allows replies only within 7 days of the customer's last message \
                 (24 hours, then a person's reply with the human-agent tag): wait until \
                 they write again",
                self.label()
            ))),
            _ => Ok(()),
        }
    }

    fn test_recipient(&self, _inbox: &Inbox, to: &str) -> Result<Vec<Identity>, ChannelError> {
        let id = to.trim();
        let what = match self.product {
            Product::Messenger => "a page-scoped id (PSID)",
            Product::Instagram => "an Instagram-scoped id (IGSID)",
        };
        graph_id("to", id).map_err(|_| {
            ChannelError::Invalid(format!(
                "a test message goes to {what}: a customer who has written to the page"
            ))
        })?;
        Ok(vec![Identity::new(self.kind(), id)])
    }

    fn sender(
        &self,
        ctx: &ChannelContext,
        claimed: &ClaimedDelivery,
    ) -> Result<Box<dyn Outbound>, DeliveryError> {
        let settings = settings_of(&claimed.inbox).map_err(DeliveryError::Permanent)?;
        let secrets: MetaSecrets = hooks::delivery_secrets(ctx, claimed, "page token")?;
        Ok(Box::new(outbound::MetaOutbound::new(
            ctx,
            self.channel_kind(),
            settings.page_id,
            secrets.page_access_token,
            claimed.workspace_id,
        )))
    }

    fn routes(&self) -> Vec<(Route, MethodRouter<ChannelContext>)> {
        let path = match self.product {
            Product::Messenger => "/hooks/messenger/{inbox_id}",
            Product::Instagram => "/hooks/instagram/{inbox_id}",
        };
        let route = |method| Route {
            method,
            path,
            // Meta proves itself by the verify token (GET) and the app secret's signature
            // (POST), checked by the handlers.
            access: Access::Public,
            scope: Scope::Inbox,
        };
        match self.product {
            Product::Messenger => vec![
                (route(Method::GET), get(webhook::messenger_handshake)),
                (route(Method::POST), post(webhook::messenger_events)),
            ],
            Product::Instagram => vec![
                (route(Method::GET), get(webhook::instagram_handshake)),
                (route(Method::POST), post(webhook::instagram_events)),
            ],
        }
    }
}
