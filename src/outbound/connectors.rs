//! Which connector sends for an inbox, built from the inbox's settings and its sealed secret.

use switchboard_connector_api::CallbackOutbound;
use switchboard_connector_core::{
    ChannelKind, DeliveryError, DeliveryReceipt, Outbound, OutboundDelivery,
};

use std::sync::Arc;

use crate::crypto::SecretBox;
use crate::email::{EmailChannel, EmailOutbound};
use crate::store::ClaimedDelivery;

pub fn outbound_for(
    claimed: &ClaimedDelivery,
    secrets: &SecretBox,
    http: &switchboard_egress::GuardedClient,
    email: &Arc<EmailChannel>,
) -> Result<Box<dyn Outbound>, DeliveryError> {
    match claimed.inbox.kind {
        ChannelKind::Email => Ok(Box::new(EmailOutbound::for_delivery(email, claimed)?)),
        ChannelKind::Api => {
            let url = claimed
                .inbox
                .settings
                .get("callback_url")
                .and_then(|v| v.as_str())
                .filter(|u| !u.is_empty())
                .ok_or_else(|| DeliveryError::Permanent("the inbox has no callback URL".into()))?;
            let secret = match &claimed.sealed_secret {
                Some(sealed) => secrets
                    .open(sealed)
                    .map_err(|e| DeliveryError::Permanent(e.to_string()))?,
                None => Vec::new(),
            };
            Ok(Box::new(CallbackOutbound::new(
                http.clone(),
                url.to_string(),
                secret,
            )))
        }
        // Visitors receive replies live over their socket (and see them on return), so the
        // widget needs no provider call: delivery is the reply being in the store.
        ChannelKind::WebChat => Ok(Box::new(VisitorSocketOutbound)),
        other => Err(DeliveryError::Permanent(format!(
            "{other} inboxes have no sending connector yet"
        ))),
    }
}

struct VisitorSocketOutbound;

#[async_trait::async_trait]
impl Outbound for VisitorSocketOutbound {
    async fn deliver(&self, _: &OutboundDelivery) -> Result<DeliveryReceipt, DeliveryError> {
        Ok(DeliveryReceipt::default())
    }
}
