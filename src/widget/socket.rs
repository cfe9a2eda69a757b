//! `/widget/v1/ws`: a visitor's live line. The hub pushes what concerns the visitor; this turns it
//! into visitor frames (no private notes, no internal activity), relays typing both ways, takes
//! read receipts, and keeps the connection cheap while idle (small buffers, no polling).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value};

use super::hub::Push;
use super::visitor::{AgentNames, Visitor, VisitorMessage};
use super::VisitorClaims;
use super::WidgetState;
use crate::domain::{now_millis, Conversation, ConversationStatus, EventKind, Id, Message};
use crate::signals::{Typing, Typist};

/// A socket with nothing heard for this long (not even a pong) is closed.
const SILENCE_LIMIT: Duration = Duration::from_secs(90);
const PING_EVERY: Duration = Duration::from_secs(30);
/// Queue positions are recomputed at most this often per socket.
const QUEUE_CHECK_EVERY: Duration = Duration::from_secs(2);

/// Messages a returning widget is sent over its socket per conversation; with more it is told to
/// resync (reload over REST).
const CATCH_UP_LIMIT: usize = 1000;

#[derive(Deserialize)]
pub struct SocketQuery {
    /// A widget coming back: the last message id it has. Everything after it that the visitor
    /// may see is sent over the socket first, so it needs no REST round trip to catch up.
    after: Option<Id>,
}

#[utoipa::path(get, path = "/widget/v1/ws", tag = "widget",
    params(("token" = String, Query, description = "The visitor token"),
        ("after" = Option<i64>, Query, description = "Resume: the last message id the widget has; what came after is sent first")),
    responses((status = 101, description = "Switching to the visitor protocol"), (status = 401)))]
pub async fn upgrade(
    State(state): State<WidgetState>,
    visitor: Visitor,
    Query(query): Query<SocketQuery>,
    ws: WebSocketUpgrade,
) -> Response {
    // tungstenite's default read buffer is 128 KiB, allocated up front: idle sockets would cost
    // 30 times what they need.
    ws.read_buffer_size(1024)
        .write_buffer_size(0)
        .max_write_buffer_size(256 * 1024)
        .max_message_size(64 * 1024)
        .max_frame_size(64 * 1024)
        .on_upgrade(move |socket| async move {
            if let Err(e) = serve(state, visitor, query.after, socket).await {
                tracing::debug!(error = %e, "visitor socket ended");
            }
        })
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientFrame {
    Ping,
    Typing { conversation_id: Id, on: bool },
    Read { conversation_id: Id, message_id: Id },
}

fn frame(mut value: Value) -> WsMessage {
    value["v"] = json!(1);
    WsMessage::Text(value.to_string().into())
}

/// What a socket keeps for its whole life: ids, not the inbox and its settings (checked once at
/// the upgrade), because every byte here is paid by every idle visitor.
struct Session {
    state: WidgetState,
    claims: VisitorClaims,
    /// The visitor's conversations and their status.
    conversations: HashMap<Id, ConversationStatus>,
    names: AgentNames,
    queue_sent: HashMap<Id, i64>,
    queue_checked: Option<Instant>,
    /// A queue move arrived inside the throttle window: check again when it ends.
    queue_due: Option<tokio::time::Instant>,
}

impl Session {
    /// When the socket's token expires, as a deadline on tokio's clock.
    fn expires_at(&self) -> tokio::time::Instant {
        let at = self.state.visitor_tokens.expires_at(&self.claims);
        // Capped at 49 days: tokio's clock takes no deadline centuries away.
        let left = u64::try_from(at.saturating_sub(now_millis())).unwrap_or(0);
        let left = Duration::from_millis(left.min(u64::from(u32::MAX)));
        tokio::time::Instant::now() + left
    }

    fn owns(&self, conversation_id: Id) -> bool {
        self.conversations.contains_key(&conversation_id)
    }

    /// Frames for one push from the hub.
    async fn on_push(&mut self, push: Push) -> Vec<WsMessage> {
        match push {
            Push::Event(event) => {
                let mut out = Vec::new();
                if event.kind.is_conversation() && event.kind != EventKind::ConversationRated {
                    if let Ok(conversation) =
                        serde_json::from_value::<Conversation>(event.payload.clone())
                    {
                        // One contact may be a visitor of several web chat inboxes (a person
                        // the sites verified by email); each widget hears only its own.
                        if conversation.contact_id == self.claims.contact_id
                            && conversation.inbox_id == self.claims.inbox_id
                        {
                            out.push(frame(json!({"type": "conversation", "conversation": {
                                "id": conversation.id, "status": conversation.status}})));
                            self.conversations
                                .insert(conversation.id, conversation.status);
                        }
                    }
                } else if event.kind.is_message() {
                    if let Ok(message) = serde_json::from_value::<Message>(event.payload.clone()) {
                        if self.owns(message.conversation_id) && VisitorMessage::visible(&message) {
                            let name = self
                                .names
                                .name(&self.state, self.claims.workspace_id, &message)
                                .await;
                            out.push(frame(json!({"type": "message", "message": VisitorMessage::new(&message, name)})));
                        }
                    }
                }
                out
            }
            Push::Typing(typing) => match &typing.typist {
                Typist::Agent { name, .. } if self.owns(typing.conversation_id) => {
                    vec![frame(json!({
                        "type": "typing", "conversation_id": typing.conversation_id, "on": typing.on, "agent_name": name
                    }))]
                }
                _ => Vec::new(),
            },
            Push::QueueMoved => self.queue_frames().await,
        }
    }

    /// Where the visitor's waiting conversations stand, when that changed.
    async fn queue_frames(&mut self) -> Vec<WsMessage> {
        if let Some(checked) = self
            .queue_checked
            .filter(|t| t.elapsed() < QUEUE_CHECK_EVERY)
        {
            self.queue_due = Some(tokio::time::Instant::from_std(checked + QUEUE_CHECK_EVERY));
            return Vec::new();
        }
        self.queue_checked = Some(Instant::now());
        self.queue_due = None;
        let waiting: Vec<Id> = self
            .conversations
            .iter()
            .filter(|(_, status)| **status == ConversationStatus::Open)
            .map(|(id, _)| *id)
            .collect();
        let mut out = Vec::new();
        for id in waiting {
            let Ok(position) = self
                .state
                .store()
                .widget()
                .queue_position(self.claims.workspace_id, id)
                .await
            else {
                continue;
            };
            if self.queue_sent.insert(id, position) != Some(position) {
                out.push(frame(
                    json!({"type": "queue", "conversation_id": id, "position": position}),
                ));
            }
        }
        out
    }

    async fn on_client(&mut self, text: &str) -> Option<WsMessage> {
        let parsed: ClientFrame = match serde_json::from_str(text) {
            Ok(f) => f,
            Err(e) => {
                return Some(frame(
                    json!({"type": "error", "code": "bad_frame", "message": e.to_string()}),
                ))
            }
        };
        match parsed {
            ClientFrame::Ping => Some(frame(json!({"type": "pong"}))),
            ClientFrame::Typing {
                conversation_id,
                on,
            } => {
                if !self.owns(conversation_id) {
                    return Some(frame(
                        json!({"type": "error", "code": "not_found", "message": "no such conversation"}),
                    ));
                }
                self.state.signals.typing(Typing {
                    workspace_id: self.claims.workspace_id,
                    inbox_id: self.claims.inbox_id,
                    conversation_id,
                    typist: Typist::Contact,
                    on,
                });
                None
            }
            ClientFrame::Read {
                conversation_id,
                message_id,
            } => {
                if !self.owns(conversation_id) {
                    return Some(frame(
                        json!({"type": "error", "code": "not_found", "message": "no such conversation"}),
                    ));
                }
                match self
                    .state
                    .desk
                    .mark_read_by_contact(self.claims.workspace_id, conversation_id, message_id)
                    .await
                {
                    Ok(()) => None,
                    Err(e) => Some(frame(
                        json!({"type": "error", "code": "internal", "message": e.to_string()}),
                    )),
                }
            }
        }
    }
}

/// The frames a returning widget missed: its conversations' messages after `after`, in the
/// order they were written (as they would have arrived live), or `resync` when there are more
/// than the socket sends (or they cannot be read now).
async fn catch_up(
    state: &WidgetState,
    visitor: &Visitor,
    conversations: &[Id],
    after: Id,
) -> Vec<WsMessage> {
    let mut missed = Vec::new();
    for &conversation in conversations {
        match visitor
            .messages_after(state, conversation, after, CATCH_UP_LIMIT)
            .await
        {
            Ok((messages, true)) => missed.extend(messages),
            Ok((_, false)) | Err(_) => {
                return vec![frame(
                    json!({"type": "resync", "reason": "too much to catch up"}),
                )]
            }
        }
    }
    missed.sort_by_key(|message| message.id);
    missed
        .into_iter()
        .map(|message| frame(json!({"type": "message", "message": message})))
        .collect()
}

async fn serve(
    state: WidgetState,
    visitor: Visitor,
    after: Option<Id>,
    mut socket: WebSocket,
) -> Result<(), axum::Error> {
    let conversations = visitor.conversations(&state).await.unwrap_or_default();
    let ids: Vec<Id> = conversations.iter().map(|c| c.id).collect();
    let mut registration =
        state
            .visitor_hub
            .register(visitor.claims.contact_id, visitor.inbox.id, &ids);
    // Registered first: a message committed from here on arrives live, and one that also shows
    // up in the catch-up below is the same id twice, which the widget keeps once.
    let missed = match after {
        Some(after) => catch_up(&state, &visitor, &ids, after).await,
        None => Vec::new(),
    };
    let Visitor { claims, .. } = visitor;
    let mut session = Session {
        state,
        claims,
        conversations: conversations
            .into_iter()
            .map(|c| (c.id, c.status))
            .collect(),
        names: AgentNames::default(),
        queue_sent: HashMap::new(),
        queue_checked: None,
        queue_due: None,
    };
    socket.send(frame(json!({"type": "ready"}))).await?;
    for f in missed {
        socket.send(f).await?;
    }
    for f in session.queue_frames().await {
        socket.send(f).await?;
    }
    let expires = session.expires_at();
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
    let mut heard = Instant::now();
    loop {
        tokio::select! {
            incoming = socket.recv() => {
                heard = Instant::now();
                match incoming {
                    Some(Ok(WsMessage::Text(text))) => {
                        if let Some(answer) = session.on_client(text.as_str()).await {
                            socket.send(answer).await?;
                        }
                    }
                    Some(Ok(WsMessage::Binary(_))) => {
                        socket.send(frame(json!({"type": "error", "code": "bad_frame", "message": "frames are JSON text"}))).await?;
                    }
                    Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => {}
                    Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => return Ok(()),
                }
            }
            push = registration.rx.recv() => match push {
                Some(push) => {
                    for f in session.on_push(push).await {
                        socket.send(f).await?;
                    }
                }
                None => {
                    // The hub let this socket go (it fell behind): the widget reconnects and
                    // refetches what it missed.
                    socket.send(frame(json!({"type": "resync", "reason": "fell behind"}))).await?;
                    return futures::SinkExt::close(&mut socket).await;
                }
            },
            _ = tokio::time::sleep_until(expires) => {
                // The token this socket was opened with names nobody any more (its verification
                // ran out): the widget starts a new session before it reconnects.
                socket.send(frame(json!({"type": "expired"}))).await?;
                return futures::SinkExt::close(&mut socket).await;
            }
            _ = sleep_until_due(session.queue_due) => {
                for f in session.queue_frames().await {
                    socket.send(f).await?;
                }
            }
            _ = ping.tick() => {
                if heard.elapsed() > SILENCE_LIMIT {
                    return futures::SinkExt::close(&mut socket).await;
                }
                socket.send(WsMessage::Ping(Default::default())).await?;
            }
        }
    }
}

/// Sleeps until `due`, or forever when nothing is due.
async fn sleep_until_due(due: Option<tokio::time::Instant>) {
    match due {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
