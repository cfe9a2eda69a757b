//! The echo channel: a channel that exists only in the tests, registered with one line, to
//! show that a channel is a folder. Customers "write" by POSTing to its webhook with the token
//! the inbox was set up with; agents' replies are kept in a list the test reads.

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::routing::{post, MethodRouter};
use axum::Json;
use serde::Deserialize;
use switchboard::channels::{
    Channel, ChannelContext, ChannelError, FieldType, InboxSetup, SetupEnv, SetupField, SetupInput,
};
use switchboard::edge::route::{Access, Route, Scope};
use switchboard::store::ClaimedDelivery;
use switchboard_connector_core::{
    DeliveryError, DeliveryReceipt, Identity, InboundMessage, InboundSender, Outbound,
    OutboundDelivery,
};

/// What the echo channel's sender was handed, in order.
pub type Sent = Arc<Mutex<Vec<OutboundDelivery>>>;

#[derive(Default)]
pub struct EchoChannel {
    sent: Sent,
}

impl EchoChannel {
    /// The channel, and the list its sender fills.
    pub fn new() -> (EchoChannel, Sent) {
        let channel = EchoChannel::default();
        let sent = channel.sent.clone();
        (channel, sent)
    }
}

#[async_trait::async_trait]
impl Channel for EchoChannel {
    fn kind(&self) -> &'static str {
        "echo"
    }

    fn label(&self) -> &'static str {
        "Echo"
    }

    fn setup_fields(&self) -> Vec<SetupField> {
        vec![SetupField::new("room", "Room", FieldType::Text)
            .required()
            .help("Lower-case letters only, at most 12.")]
    }

    fn set_up(&self, env: &SetupEnv<'_>, input: &SetupInput) -> Result<InboxSetup, ChannelError> {
        let room = input.text("room")?.unwrap_or_default();
        if room.is_empty() || room.len() > 12 || !room.chars().all(|c| c.is_ascii_lowercase()) {
            return Err(ChannelError::Invalid(
                "`room` must be 1 to 12 lower-case letters".into(),
            ));
        }
        let token = format!("echo-{}", switchboard::auth::random_token(12));
        let mut setup = InboxSetup::default();
        setup.settings.insert("room".into(), room.into());
        setup.sealed_secret = Some(env.secrets.seal(token.as_bytes()));
        setup.shown_once = Some(token);
        Ok(setup)
    }

    /// A test goes to whoever the admin names: echo people are known by name.
    fn test_recipient(
        &self,
        _inbox: &switchboard::domain::Inbox,
        to: &str,
    ) -> Result<Vec<Identity>, ChannelError> {
        Ok(vec![Identity::new("echo", to)])
    }

    fn sender(
        &self,
        _ctx: &ChannelContext,
        _claimed: &ClaimedDelivery,
    ) -> Result<Box<dyn Outbound>, DeliveryError> {
        Ok(Box::new(EchoSender {
            sent: self.sent.clone(),
        }))
    }

    fn routes(&self) -> Vec<(Route, MethodRouter<ChannelContext>)> {
        vec![(
            Route {
                method: Method::POST,
                path: "/hooks/echo/{inbox_id}",
                access: Access::Public,
                scope: Scope::Inbox,
            },
            post(webhook),
        )]
    }
}

struct EchoSender {
    sent: Sent,
}

#[async_trait::async_trait]
impl Outbound for EchoSender {
    async fn deliver(&self, delivery: &OutboundDelivery) -> Result<DeliveryReceipt, DeliveryError> {
        let mut sent = self.sent.lock().unwrap();
        sent.push(delivery.clone());
        Ok(DeliveryReceipt {
            provider_message_id: Some(format!("echo-out-{}", sent.len())),
        })
    }
}

#[derive(Deserialize)]
struct EchoMessage {
    id: String,
    from: String,
    text: String,
}

/// The provider's side: proves itself with the inbox's token, then hands the message to ingest.
async fn webhook(
    State(ctx): State<ChannelContext>,
    Path(inbox_id): Path<i64>,
    headers: HeaderMap,
    Json(body): Json<EchoMessage>,
) -> Result<(StatusCode, Json<serde_json::Value>), StatusCode> {
    let (inbox, sealed) = ctx
        .desk
        .store()
        .webhook_inbox(inbox_id)
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?
        .filter(|(inbox, _)| inbox.kind.as_str() == "echo")
        .ok_or(StatusCode::NOT_FOUND)?;
    let token = sealed
        .and_then(|s| ctx.secrets.open(&s).ok())
        .unwrap_or_default();
    let given = headers
        .get("x-echo-token")
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if token.is_empty() || given != token.as_slice() {
        return Err(StatusCode::UNAUTHORIZED);
    }
    let message = InboundMessage {
        external_id: body.id,
        sender: InboundSender {
            identities: vec![Identity::new("echo", body.from.clone())],
            name: Some(body.from),
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
        })),
    ))
}
