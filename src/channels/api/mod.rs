//! The API channel: any system hands the hub customer messages through a documented endpoint,
//! and agents' replies go back to it as signed callbacks (HMAC-SHA256 with the inbox's secret).

pub mod inbound;
pub mod statuses;

use axum::http::Method;
use axum::routing::{post, MethodRouter};
use serde::Deserialize;
use switchboard_connector_api::CallbackOutbound;
use switchboard_connector_core::{DeliveryError, Identity, Outbound};

use super::{
    Channel, ChannelContext, ChannelError, FieldType, InboxSetup, SetupEnv, SetupField, SetupInput,
};
use crate::domain::Inbox;
use crate::edge::route::{Access, Route, Scope};
use crate::limits;
use crate::store::ClaimedDelivery;

pub struct ApiChannel;

/// The settings an API inbox keeps.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiSettings {
    callback_url: Option<String>,
}

#[async_trait::async_trait]
impl Channel for ApiChannel {
    fn kind(&self) -> &'static str {
        "api"
    }

    fn label(&self) -> &'static str {
        "API"
    }

    fn setup_fields(&self) -> Vec<SetupField> {
        vec![
            SetupField::new("callback_url", "Callback URL", FieldType::Url).help(
                "Where agents' replies are POSTed, signed with the inbox's secret (shown once).",
            ),
        ]
    }

    fn set_up(&self, env: &SetupEnv<'_>, input: &SetupInput) -> Result<InboxSetup, ChannelError> {
        let mut setup = InboxSetup::default();
        if let Some(url) = input.text("callback_url")? {
            check_callback_url(env, &url)?;
            setup.settings.insert("callback_url".into(), url.into());
        }
        setup.generate_secret(env);
        Ok(setup)
    }

    fn change_settings(
        &self,
        env: &SetupEnv<'_>,
        _inbox: &Inbox,
        settings: serde_json::Value,
    ) -> Result<serde_json::Value, ChannelError> {
        let api: ApiSettings = serde_json::from_value(settings.clone())
            .map_err(|e| ChannelError::Invalid(format!("invalid API inbox settings: {e}")))?;
        if let Some(url) = api.callback_url.as_deref().filter(|u| !u.is_empty()) {
            check_callback_url(env, url)?;
        }
        Ok(settings)
    }

    /// A test goes to the callback like a reply would, addressed to the contact identifier
    /// the admin typed (as the inbound endpoint names contacts), so the receiver can tell it apart.
    fn test_recipient(&self, inbox: &Inbox, to: &str) -> Result<Vec<Identity>, ChannelError> {
        if callback_url(inbox).is_none() {
            return Err(ChannelError::Invalid(
                "this API inbox has no callback URL to send a test to".into(),
            ));
        }
        limits::text("to", to, limits::IDENTIFIER)?;
        Ok(vec![Identity::new(format!("api:{}", inbox.id), to.trim())])
    }

    fn sender(
        &self,
        ctx: &ChannelContext,
        claimed: &ClaimedDelivery,
    ) -> Result<Box<dyn Outbound>, DeliveryError> {
        let url = callback_url(&claimed.inbox)
            .ok_or_else(|| DeliveryError::Permanent("the inbox has no callback URL".into()))?;
        let secret = match &claimed.sealed_secret {
            Some(sealed) => ctx
                .secrets
                .open(sealed)
                .map_err(|e| DeliveryError::Permanent(e.to_string()))?,
            None => Vec::new(),
        };
        Ok(Box::new(CallbackOutbound::new(
            ctx.http.clone(),
            url.to_string(),
            secret,
        )))
    }

    fn routes(&self) -> Vec<(Route, MethodRouter<ChannelContext>)> {
        vec![
            (
                Route {
                    method: Method::POST,
                    path: "/api/v1/inboxes/{inbox_id}/messages",
                    // Speaking for customers is an integration's job, done with an admin's token:
                    // an agent could otherwise name any address and attach itself to that contact.
                    access: Access::Admin,
                    scope: Scope::Inbox,
                },
                post(inbound::inbound_message),
            ),
            (
                Route {
                    method: Method::POST,
                    path: "/api/v1/inboxes/{inbox_id}/statuses",
                    // Like the inbound endpoint: the integration's admin token speaks for it.
                    access: Access::Admin,
                    scope: Scope::Inbox,
                },
                post(statuses::report_status),
            ),
        ]
    }
}

/// Where the inbox's replies go, if it has somewhere.
fn callback_url(inbox: &Inbox) -> Option<&str> {
    inbox
        .settings
        .get("callback_url")
        .and_then(|v| v.as_str())
        .filter(|u| !u.is_empty())
}

/// The API inbox an integration names in an endpoint's path: one the caller may see (404, 403)
/// and of the API kind (422 saying which endpoint takes `what`).
async fn api_inbox(
    ctx: &ChannelContext,
    who: &crate::store::Principal,
    inbox_id: crate::domain::Id,
    what: &str,
) -> crate::edge::error::ApiResult<Inbox> {
    let inbox = crate::edge::visible::inbox(ctx.desk.store().as_ref(), who, inbox_id).await?;
    if inbox.kind != switchboard_connector_core::ChannelKind::Api {
        return Err(crate::edge::error::ApiError::Unprocessable(format!(
            "this endpoint takes {what} for API inboxes; inbox {} is {}",
            inbox.id, inbox.kind
        )));
    }
    Ok(inbox)
}

/// A callback URL must be http(s) and must not name an internal address outright (unless the
/// operator allows it). Names are checked again when each callback resolves: DNS can change.
fn check_callback_url(env: &SetupEnv<'_>, url: &str) -> Result<(), ChannelError> {
    limits::text("callback_url", url, limits::URL)?;
    let parsed = url::Url::parse(url)
        .map_err(|e| ChannelError::Invalid(format!("`callback_url` is not a URL: {e}")))?;
    let policy = env
        .settings
        .outbound
        .policy()
        .map_err(|e| ChannelError::Internal(e.to_string()))?;
    policy
        .check_url(&parsed)
        .map_err(|e| ChannelError::Invalid(format!("`callback_url` is not allowed: {e}")))
}
