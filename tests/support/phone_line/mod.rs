//! A phone channel that exists only in the tests: customers "text" its webhook from a phone
//! number (spelled as a provider spells it, `whatsapp:+49…` or `+49 151…`), which ingest keys
//! by `Identity::phone` like SMS and WhatsApp. Two of them under different kinds stand in for
//! SMS and WhatsApp, which are other branches' work. Its sender records what it was handed.

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::{post, MethodRouter};
use axum::Json;
use serde::Deserialize;
use switchboard::channels::{
    Channel, ChannelContext, ChannelError, InboxSetup, SetupEnv, SetupInput,
};
use switchboard::edge::route::{Access, Route, Scope};
use switchboard::store::ClaimedDelivery;
use switchboard_connector_core::{
    DeliveryError, DeliveryReceipt, Identity, InboundMessage, InboundSender, Outbound,
    OutboundDelivery,
};

/// What a phone line's sender was handed, in order.
pub type Sent = Arc<Mutex<Vec<OutboundDelivery>>>;

pub struct PhoneLine {
    kind: &'static str,
    path: &'static str,
    sent: Sent,
}

impl PhoneLine {
    /// A line of this kind whose webhook is `path` (`/hooks/{kind}/{inbox_id}`), and the list
    /// its sender fills.
    pub fn new(kind: &'static str, path: &'static str) -> (PhoneLine, Sent) {
        let sent = Sent::default();
        (
            PhoneLine {
                kind,
                path,
                sent: sent.clone(),
            },
            sent,
        )
    }
}

#[async_trait::async_trait]
impl Channel for PhoneLine {
    fn kind(&self) -> &'static str {
        self.kind
    }

    fn label(&self) -> &'static str {
        "Phone line"
    }

    fn set_up(&self, _env: &SetupEnv<'_>, _input: &SetupInput) -> Result<InboxSetup, ChannelError> {
        Ok(InboxSetup::default())
    }

    fn sender(
        &self,
        _ctx: &ChannelContext,
        _claimed: &ClaimedDelivery,
    ) -> Result<Box<dyn Outbound>, DeliveryError> {
        Ok(Box::new(LineSender {
            sent: self.sent.clone(),
        }))
    }

    fn routes(&self) -> Vec<(Route, MethodRouter<ChannelContext>)> {
        let kind = self.kind;
        vec![(
            Route {
                method: Method::POST,
                path: self.path,
                access: Access::Public,
                scope: Scope::Inbox,
            },
            post(move |ctx, path, body| webhook(kind, ctx, path, body)),
        )]
    }
}

struct LineSender {
    sent: Sent,
}

#[async_trait::async_trait]
impl Outbound for LineSender {
    async fn deliver(&self, delivery: &OutboundDelivery) -> Result<DeliveryReceipt, DeliveryError> {
        let mut sent = self.sent.lock().unwrap();
        sent.push(delivery.clone());
        Ok(DeliveryReceipt {
            provider_message_id: Some(format!("line-out-{}", sent.len())),
        })
    }
}

#[derive(Deserialize)]
struct Text {
    id: String,
    from: String,
    text: String,
}

async fn webhook(
    kind: &'static str,
    State(ctx): State<ChannelContext>,
    Path(inbox_id): Path<i64>,
    Json(body): Json<Text>,
) -> Result<(StatusCode, Json<serde_json::Value>), StatusCode> {
    let (inbox, _) = ctx
        .desk
        .store()
        .webhook_inbox(inbox_id)
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?
        .filter(|(inbox, _)| inbox.kind.as_str() == kind)
        .ok_or(StatusCode::NOT_FOUND)?;
    let message = InboundMessage {
        external_id: body.id,
        sender: InboundSender {
            identities: vec![Identity::phone(&body.from)],
            ..Default::default()
        },
        text: body.text,
        ..Default::default()
    };
    let outcome = ctx
        .desk
        .ingest(inbox.workspace_id, inbox.id, message)
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({
            "message_id": outcome.message.id,
            "conversation_id": outcome.conversation.id,
            "contact_id": outcome.conversation.contact_id,
        })),
    ))
}
