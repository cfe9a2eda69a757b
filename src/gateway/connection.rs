//! One console connection: resume from the last event the console saw, then live events in
//! order and once, heartbeats, presence, typing and read markers. Written over any frame
//! `Sink`/`Stream`, so tests drive it with channels and the server with a WebSocket.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::Utf8Bytes;
use futures::{Sink, SinkExt, Stream, StreamExt};
use serde::Deserialize;
use serde_json::json;

use super::hub::{event_frame, Audience, ConsoleHub, Push, Registration};
use super::recent::{Recorded, Replay};
use crate::desk::Desk;
use crate::domain::{now_millis, Id, PresenceStatus};
use crate::signals::{Signals, Typing, Typist};
use crate::store::{Principal, Store};

/// A frame to the console.
#[derive(Clone, Debug, PartialEq)]
pub enum Outgoing {
    Text(Utf8Bytes),
    Ping,
    Close,
}

/// What the console sent.
#[derive(Clone, Debug, PartialEq)]
pub enum Incoming {
    Text(String),
    /// A pong or any other sign of life.
    Alive,
}

#[derive(Clone, Debug)]
pub struct Limits {
    /// A console further behind than this many events reloads instead of replaying.
    pub replay_limit: i64,
    pub ping_every: Duration,
    /// Nothing heard for this long closes the socket.
    pub silence_limit: Duration,
    /// Heartbeats refresh the agent's presence at most this often.
    pub presence_touch_every: Duration,
    /// How often the caller's token and inbox memberships are checked again.
    pub refresh_every: Duration,
}

/// Everything a connection needs from the hub around it.
#[derive(Clone)]
pub struct Context {
    pub desk: Desk,
    pub signals: Arc<Signals>,
    pub limits: Limits,
}

impl Context {
    fn store(&self) -> &Arc<dyn Store> {
        self.desk.store()
    }
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientFrame {
    Ping,
    Resume { after: i64 },
    Presence { status: PresenceStatus },
    Typing { conversation_id: Id, on: bool },
    Read { conversation_id: Id, message_id: Id },
}

pub fn audience(principal: &Principal) -> Audience {
    Audience {
        user_id: principal.user.id,
        admin: principal.is_admin(),
        inboxes: principal.member_inboxes.as_slice().into(),
    }
}

fn text(value: serde_json::Value) -> Outgoing {
    let mut value = value;
    value["v"] = json!(1);
    Outgoing::Text(value.to_string().into())
}

fn error(code: &str, message: impl std::fmt::Display) -> Outgoing {
    text(json!({"type": "error", "code": code, "message": message.to_string()}))
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    #[error("the console went away")]
    Gone,
    #[error("store: {0}")]
    Store(#[from] crate::store::StoreError),
}

struct Connection<S> {
    ctx: Context,
    principal: Principal,
    token_hash: Vec<u8>,
    sink: S,
    /// The hub's memory of recent events: resumes are served from it when it reaches back far
    /// enough.
    hub: Arc<ConsoleHub>,
    /// The newest event this console has been sent (or told it need not replay).
    last_sent: i64,
    last_touch: Instant,
}

impl<S: Sink<Outgoing> + Unpin> Connection<S> {
    async fn send(&mut self, frame: Outgoing) -> Result<(), ConnectionError> {
        self.sink
            .send(frame)
            .await
            .map_err(|_| ConnectionError::Gone)
    }

    /// Sends every event after `after` the console may see, in order, unless that is more
    /// than the replay limit, in which case the console is told to reload.
    async fn replay(&mut self, after: i64, audience: &Audience) -> Result<bool, ConnectionError> {
        let workspace_id = self.principal.workspace_id();
        let current = self.ctx.store().gateway().current_seq(workspace_id).await?;
        if current - after > self.ctx.limits.replay_limit {
            self.send(text(
                json!({"type": "resync", "reason": "too far behind to replay"}),
            ))
            .await?;
            return Ok(false);
        }
        if self.replay_from_memory(after, audience).await? {
            return Ok(true);
        }
        metrics::counter!("switchboard_console_replays_total", "source" => "log").increment(1);
        let mut cursor = after.max(0);
        loop {
            let batch = self
                .ctx
                .store()
                .events_after(workspace_id, cursor, 500)
                .await?;
            let Some(last) = batch.last().map(|e| e.seq) else {
                break;
            };
            for event in batch.iter().filter(|e| audience.sees(e)) {
                self.send(Outgoing::Text(event_frame(event))).await?;
            }
            cursor = last;
        }
        self.last_sent = self.last_sent.max(cursor);
        Ok(true)
    }

    /// Replays from the hub's window of recent events when it holds, or can be made to hold,
    /// everything after `after`; false when the log must be read for this console alone.
    async fn replay_from_memory(
        &mut self,
        after: i64,
        audience: &Audience,
    ) -> Result<bool, ConnectionError> {
        let workspace_id = self.principal.workspace_id();
        // Bounded: each round serves, gives up, or fills a gap in front of the window (which
        // moves only backwards, and never past the window's capacity).
        for _ in 0..8 {
            match self.hub.replay(workspace_id, after, audience) {
                Replay::Frames { frames, newest } => {
                    metrics::counter!("switchboard_console_replays_total", "source" => "memory")
                        .increment(1);
                    for frame in frames {
                        self.send(Outgoing::Text(frame)).await?;
                    }
                    self.last_sent = self.last_sent.max(newest);
                    return Ok(true);
                }
                Replay::Unavailable => return Ok(false),
                Replay::Missing { .. } => {
                    let hub = self.hub.clone();
                    let _turn = hub.backfill_turn().await;
                    // Whoever had the turn before may have read this gap already.
                    if let Replay::Missing { floor } = hub.replay(workspace_id, after, audience) {
                        metrics::counter!("switchboard_console_backfills_total").increment(1);
                        let older = self.read_log(workspace_id, after, floor).await?;
                        hub.prepend(workspace_id, floor, after, older);
                    }
                }
            }
        }
        Ok(false)
    }

    /// The log's events `(after, until]`, as the replay window keeps them.
    async fn read_log(
        &self,
        workspace_id: Id,
        after: i64,
        until: i64,
    ) -> Result<Vec<Recorded>, ConnectionError> {
        let mut older = Vec::new();
        let mut cursor = after;
        while cursor < until {
            let batch = self
                .ctx
                .store()
                .events_after(workspace_id, cursor, 500)
                .await?;
            let Some(last) = batch.last().map(|e| e.seq) else {
                break;
            };
            older.extend(
                batch
                    .iter()
                    .filter(|e| e.seq <= until)
                    .map(|e| Recorded::new(e, event_frame(e))),
            );
            cursor = last;
        }
        Ok(older)
    }

    async fn on_client(&mut self, raw: &str, audience: &Audience) -> Result<bool, ConnectionError> {
        let frame: ClientFrame = match serde_json::from_str(raw) {
            Ok(f) => f,
            Err(e) => {
                self.send(error("bad_frame", e)).await?;
                return Ok(true);
            }
        };
        let workspace_id = self.principal.workspace_id();
        let user_id = self.principal.user.id;
        match frame {
            ClientFrame::Ping => {
                self.send(text(json!({"type": "pong"}))).await?;
                if self.last_touch.elapsed() >= self.ctx.limits.presence_touch_every {
                    self.last_touch = Instant::now();
                    self.ctx
                        .store()
                        .touch_presence(user_id, now_millis())
                        .await?;
                }
            }
            ClientFrame::Resume { after } => return self.replay(after, audience).await,
            ClientFrame::Presence { status } => {
                self.ctx
                    .desk
                    .set_presence(workspace_id, user_id, status)
                    .await?;
            }
            ClientFrame::Typing {
                conversation_id,
                on,
            } => {
                match self
                    .ctx
                    .store()
                    .get_conversation(workspace_id, conversation_id)
                    .await?
                {
                    Some(c) if self.principal.can_see_inbox(c.inbox_id) => {
                        self.ctx.signals.typing(Typing {
                            workspace_id,
                            inbox_id: c.inbox_id,
                            conversation_id,
                            typist: Typist::Agent {
                                user_id,
                                name: self.principal.user.name.clone(),
                            },
                            on,
                        })
                    }
                    _ => {
                        self.send(error("not_found", "no such conversation"))
                            .await?
                    }
                }
            }
            ClientFrame::Read {
                conversation_id,
                message_id,
            } => match self
                .ctx
                .store()
                .get_conversation(workspace_id, conversation_id)
                .await?
            {
                Some(c) if self.principal.can_see_inbox(c.inbox_id) => {
                    self.ctx
                        .desk
                        .mark_read(workspace_id, user_id, conversation_id, message_id)
                        .await?;
                }
                _ => {
                    self.send(error("not_found", "no such conversation"))
                        .await?
                }
            },
        }
        Ok(true)
    }
}

/// Serves one console until it leaves, its token stops working, or it falls behind.
pub async fn run<S, R>(
    ctx: Context,
    principal: Principal,
    token_hash: Vec<u8>,
    mut registration: Registration,
    after: Option<i64>,
    sink: S,
    mut stream: R,
) -> Result<(), ConnectionError>
where
    S: Sink<Outgoing> + Unpin,
    R: Stream<Item = Incoming> + Unpin,
{
    let workspace_id = principal.workspace_id();
    let mut audience = audience(&principal);
    // Registered before reading where the log stands, so no event falls between the two.
    let current = ctx.store().gateway().current_seq(workspace_id).await?;
    let mut conn = Connection {
        ctx: ctx.clone(),
        principal,
        token_hash,
        sink,
        hub: registration.hub(),
        last_sent: current,
        last_touch: Instant::now(),
    };
    conn.send(text(
        json!({"type": "ready", "user_id": conn.principal.user.id, "last_seq": current}),
    ))
    .await?;
    if let Some(after) = after {
        conn.last_sent = after;
        if !conn.replay(after, &audience).await? {
            return Ok(());
        }
    }
    let limits = ctx.limits.clone();
    let mut ping = tokio::time::interval_at(
        tokio::time::Instant::now() + limits.ping_every,
        limits.ping_every,
    );
    let mut refresh = tokio::time::interval_at(
        tokio::time::Instant::now() + limits.refresh_every,
        limits.refresh_every,
    );
    let mut heard = Instant::now();
    loop {
        tokio::select! {
            push = registration.rx.recv() => match push.as_deref() {
                Some(Push::Event { seq, frame }) => {
                    if *seq > conn.last_sent {
                        conn.last_sent = *seq;
                        conn.send(Outgoing::Text(frame.clone())).await?;
                    }
                }
                Some(Push::Typing(frame)) => conn.send(Outgoing::Text(frame.clone())).await?,
                Some(Push::Recheck) => refresh.reset_immediately(),
                None => {
                    conn.send(text(json!({"type": "resync", "reason": "fell behind"}))).await?;
                    let _ = conn.send(Outgoing::Close).await;
                    return Ok(());
                }
            },
            incoming = stream.next() => {
                heard = Instant::now();
                match incoming {
                    Some(Incoming::Text(raw)) => {
                        if !conn.on_client(&raw, &audience).await? {
                            return Ok(());
                        }
                    }
                    Some(Incoming::Alive) => {}
                    None => return Ok(()),
                }
            }
            _ = ping.tick() => {
                if heard.elapsed() > limits.silence_limit {
                    let _ = conn.send(Outgoing::Close).await;
                    return Ok(());
                }
                conn.send(Outgoing::Ping).await?;
            }
            _ = refresh.tick() => {
                match ctx.store().principal_by_token(&conn.token_hash, now_millis()).await? {
                    Some(fresh) => {
                        audience = self::audience(&fresh);
                        registration.set_audience(audience.clone());
                        conn.principal = fresh;
                    }
                    None => {
                        conn.send(error("unauthorized", "the session ended")).await?;
                        let _ = conn.send(Outgoing::Close).await;
                        return Ok(());
                    }
                }
            }
        }
    }
}
