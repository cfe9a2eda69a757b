//! An agent's reply on its way to Messenger or Instagram: the Send API, with the messaging
//! type the reply window allows at the moment it goes (a reply queued inside the 24 hours but
//! sent after them goes with the human-agent tag; one past 7 days is not sent at all).

use std::time::Duration;

use switchboard_connector_core::{
    ChannelKind, DeliveryError, DeliveryReceipt, Outbound, OutboundDelivery,
};
use switchboard_connector_meta::messenger::{
    ReplyWindow, SendApi, SendError, INSTAGRAM_MAX_TEXT_BYTES, MESSENGER_MAX_TEXT_CHARS,
};
use switchboard_connector_meta::Graph;

use crate::channels::ChannelContext;
use crate::domain::{now_millis, Id, Millis};

/// The window at `now` for a customer who last wrote at `last` (never: `None`).
pub(super) fn window_at(last: Option<Millis>, now: Millis) -> ReplyWindow {
    let since = last.map(|at| Duration::from_millis(now.saturating_sub(at).max(0) as u64));
    ReplyWindow::after(since)
}

pub(super) struct MetaOutbound {
    ctx: ChannelContext,
    kind: ChannelKind,
    send_api: SendApi,
    workspace_id: Id,
}

impl MetaOutbound {
    pub(super) fn new(
        ctx: &ChannelContext,
        kind: ChannelKind,
        page_id: String,
        page_access_token: String,
        workspace_id: Id,
    ) -> MetaOutbound {
        let providers = &ctx.settings.providers;
        let graph = Graph::new(
            ctx.http.clone(),
            &providers.graph_api_url,
            &providers.graph_api_version,
        );
        MetaOutbound {
            ctx: ctx.clone(),
            kind,
            send_api: SendApi::new(graph, page_id, page_access_token),
            workspace_id,
        }
    }

    fn check_length(&self, text: &str) -> Result<(), DeliveryError> {
        let too_long = match self.kind {
            ChannelKind::Instagram => (text.len() > INSTAGRAM_MAX_TEXT_BYTES)
                .then(|| format!("Instagram takes at most {INSTAGRAM_MAX_TEXT_BYTES} bytes")),
            _ => (text.chars().count() > MESSENGER_MAX_TEXT_CHARS)
                .then(|| format!("Messenger takes at most {MESSENGER_MAX_TEXT_CHARS} characters")),
        };
        match too_long {
            Some(why) => Err(DeliveryError::Permanent(format!(
                "the reply is too long: {why} in one message"
            ))),
            None => Ok(()),
        }
    }
}

#[async_trait::async_trait]
impl Outbound for MetaOutbound {
    async fn deliver(&self, delivery: &OutboundDelivery) -> Result<DeliveryReceipt, DeliveryError> {
        let recipient = delivery
            .recipient
            .iter()
            .find(|i| i.namespace == self.kind.as_str())
            .ok_or_else(|| {
                DeliveryError::Permanent(format!("the contact has no {} id", self.kind))
            })?;
        if delivery.text.trim().is_empty() {
            return Err(DeliveryError::Permanent(
                "only text replies can go to this channel yet".into(),
            ));
        }
        self.check_length(&delivery.text)?;
        let last = self
            .ctx
            .desk
            .store()
            .last_customer_message_at(self.workspace_id, delivery.conversation_id)
            .await
            .map_err(|e| DeliveryError::Transient(e.to_string()))?;
        let window = window_at(last, now_millis());
        match self
            .send_api
            .send_text(&recipient.identifier, &delivery.text, window)
            .await
        {
            Ok(mid) => Ok(DeliveryReceipt {
                provider_message_id: Some(mid),
            }),
            // Meta took it but named no id: it went, so it must not go again.
            Err(SendError::NoMessageId) => Ok(DeliveryReceipt::default()),
            Err(SendError::Graph(e)) => Err(e.into()),
            Err(e @ SendError::WindowClosed) => Err(DeliveryError::Permanent(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_counts_from_the_customers_last_message() {
        let hour = 3600 * 1000;
        let now = 1_000 * hour;
        assert_eq!(window_at(Some(now - 2 * hour), now), ReplyWindow::Open);
        assert_eq!(
            window_at(Some(now - 30 * hour), now),
            ReplyWindow::HumanAgent
        );
        assert_eq!(
            window_at(Some(now - 8 * 24 * hour), now),
            ReplyWindow::Closed
        );
        assert_eq!(window_at(None, now), ReplyWindow::Closed);
        // A clock that stepped back: the customer wrote "in the future", the window is open.
        assert_eq!(window_at(Some(now + hour), now), ReplyWindow::Open);
    }
}
