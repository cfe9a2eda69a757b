//! Routes live events and typing to the console sockets that may see them. One task reads the
//! bus; each event is serialised into its frame once and the same bytes go to every socket of the
//! workspace allowed to see it (admins, members of its inbox; a read marker only to its reader).
//! Each socket has a bounded queue: one that falls behind is dropped and told to resync, so a
//! slow console never holds memory hostage.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::ws::Utf8Bytes;
use tokio::sync::mpsc;

pub use super::audience::{admins_only, reader_of, Audience, MissingReader, Visibility};
use super::recent::{RecentEvents, Recorded, Replay};
use crate::desk::Desk;
use crate::domain::{Event, Id};
use crate::signals::{Signals, Typing, Typist};

/// What the hub hands a console socket: a frame ready to send, and for events their sequence
/// number (the socket drops what its replay already sent). Queued behind one shared pointer
/// ([`Queued`]): tokio's channel allocates a socket's slots up front, 32 at a time, so an idle
/// console's queue costs 32 pointers rather than 32 of these.
#[derive(Clone, Debug)]
pub enum Push {
    Event {
        seq: i64,
        frame: Utf8Bytes,
    },
    Typing(Utf8Bytes),
    /// The user's sessions or tokens changed (signed out, disabled, password reset): check the
    /// socket's token now rather than at the next periodic check.
    Recheck,
}

/// A push as it waits in a socket's queue; one allocation per event, shared by every socket.
pub type Queued = Arc<Push>;

struct Socket {
    id: u64,
    audience: Audience,
    tx: mpsc::Sender<Queued>,
}

struct Registry {
    next_id: u64,
    by_workspace: HashMap<Id, Vec<Socket>>,
    /// Under the same lock as the sockets: an event is recorded and fanned out in one go, so a
    /// console registering finds it in the window or in its queue, never in neither.
    recent: RecentEvents,
}

pub struct ConsoleHub {
    registry: Mutex<Registry>,
    queue: usize,
    /// One console at a time reads a gap in front of the replay window from the store; the
    /// others wait and then find it filled.
    backfill: tokio::sync::Mutex<()>,
}

/// Events kept in memory per workspace for resuming consoles when not configured.
pub const DEFAULT_REPLAY_WINDOW: usize = 10_000;

/// A socket's place in the hub; dropping it unregisters the socket.
pub struct Registration {
    hub: Arc<ConsoleHub>,
    workspace_id: Id,
    socket_id: u64,
    pub rx: mpsc::Receiver<Queued>,
}

impl Registration {
    /// The hub this socket is registered with (for replaying from its memory).
    pub fn hub(&self) -> Arc<ConsoleHub> {
        self.hub.clone()
    }

    /// Membership changed (an inbox added or removed): hear about the new set from now on.
    pub fn set_audience(&self, audience: Audience) {
        let mut registry = self.hub.lock();
        if let Some(socket) = registry
            .by_workspace
            .get_mut(&self.workspace_id)
            .and_then(|sockets| sockets.iter_mut().find(|s| s.id == self.socket_id))
        {
            socket.audience = audience;
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut registry = self.hub.lock();
        if let Some(sockets) = registry.by_workspace.get_mut(&self.workspace_id) {
            sockets.retain(|s| s.id != self.socket_id);
            if sockets.is_empty() {
                registry.by_workspace.remove(&self.workspace_id);
            }
        }
        metrics::gauge!("switchboard_console_sockets").decrement(1.0);
    }
}

/// The frame of an event, the same bytes for every console (live and replayed from memory).
pub fn event_frame(event: &Event) -> Utf8Bytes {
    serde_json::json!({"v": 1, "type": "event", "event": event})
        .to_string()
        .into()
}

impl ConsoleHub {
    pub fn new(queue: usize) -> Arc<Self> {
        Self::with_replay_window(queue, DEFAULT_REPLAY_WINDOW)
    }

    /// A hub that keeps up to `window` recent events per workspace in memory for resuming
    /// consoles (0: every resume reads the store).
    pub fn with_replay_window(queue: usize, window: usize) -> Arc<Self> {
        Arc::new(ConsoleHub {
            registry: Mutex::new(Registry {
                next_id: 0,
                by_workspace: HashMap::new(),
                recent: RecentEvents::new(window),
            }),
            queue: queue.max(1),
            backfill: tokio::sync::Mutex::new(()),
        })
    }

    /// What a console that last saw `after` gets from memory (see [`RecentEvents::replay`]).
    pub fn replay(&self, workspace_id: Id, after: i64, audience: &Audience) -> Replay {
        self.lock().recent.replay(workspace_id, after, audience)
    }

    /// Waits for the turn to read a gap in front of the replay window from the store.
    pub async fn backfill_turn(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.backfill.lock().await
    }

    /// Puts events read from the store in front of the replay window (see
    /// [`RecentEvents::prepend`]).
    pub fn prepend(
        &self,
        workspace_id: Id,
        floor: i64,
        new_floor: i64,
        older: Vec<Recorded>,
    ) -> bool {
        self.lock()
            .recent
            .prepend(workspace_id, floor, new_floor, older)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn register(self: &Arc<Self>, workspace_id: Id, audience: Audience) -> Registration {
        let (tx, rx) = mpsc::channel(self.queue);
        let mut registry = self.lock();
        registry.next_id += 1;
        let socket_id = registry.next_id;
        registry
            .by_workspace
            .entry(workspace_id)
            .or_default()
            .push(Socket {
                id: socket_id,
                audience,
                tx,
            });
        metrics::gauge!("switchboard_console_sockets").increment(1.0);
        Registration {
            hub: self.clone(),
            workspace_id,
            socket_id,
            rx,
        }
    }

    /// How many console sockets a user has open here (presence: the last one closing means
    /// offline).
    pub fn sockets_of(&self, workspace_id: Id, user_id: Id) -> usize {
        self.lock().by_workspace.get(&workspace_id).map_or(0, |s| {
            s.iter().filter(|s| s.audience.user_id == user_id).count()
        })
    }

    /// Makes every console socket of the user check its token at once, so one whose session
    /// just ended stops hearing the workspace now.
    pub fn recheck_user(&self, workspace_id: Id, user_id: Id) {
        self.fan_out(workspace_id, Push::Recheck, |a| a.user_id == user_id);
    }

    fn fan_out(&self, workspace_id: Id, push: Push, wants: impl Fn(&Audience) -> bool) {
        Self::deliver(&mut self.lock(), workspace_id, push, wants);
    }

    /// Hands `push` to every socket of the workspace that `wants`, under the registry's lock.
    fn deliver(
        registry: &mut Registry,
        workspace_id: Id,
        push: Push,
        wants: impl Fn(&Audience) -> bool,
    ) {
        let push: Queued = Arc::new(push);
        let Some(sockets) = registry.by_workspace.get_mut(&workspace_id) else {
            return;
        };
        sockets.retain(|s| {
            if !wants(&s.audience) {
                return true;
            }
            match s.tx.try_send(push.clone()) {
                Ok(()) => {
                    metrics::counter!("switchboard_console_frames_total").increment(1);
                    true
                }
                // Too far behind: let it go; its receiver ends and it sends `resync`.
                Err(mpsc::error::TrySendError::Full(_)) => {
                    metrics::counter!("switchboard_console_resyncs_total").increment(1);
                    false
                }
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            }
        });
    }

    pub fn route_event(&self, event: &Event) {
        let frame = event_frame(event);
        // Recorded and fanned out under one lock: a console registering now finds the event
        // either in the window or in its queue.
        let recorded = Recorded::new(event, frame.clone());
        let visibility = recorded.visibility;
        let mut registry = self.lock();
        let connected = registry.by_workspace.contains_key(&event.workspace_id);
        // Recorded even when nobody may hear it: the window stays dense.
        registry
            .recent
            .record(event.workspace_id, recorded, connected);
        let Some(visibility) = visibility else {
            return;
        };
        let push = Push::Event {
            seq: event.seq,
            frame,
        };
        Self::deliver(&mut registry, event.workspace_id, push, |a| {
            a.sees_visibility(&visibility)
        });
    }

    pub fn route_typing(&self, typing: &Typing) {
        let (user_id, name) = match &typing.typist {
            Typist::Agent { user_id, name } => (Some(*user_id), Some(name.as_str())),
            Typist::Contact => (None, None),
        };
        let frame: Utf8Bytes = serde_json::json!({
            "v": 1, "type": "typing", "conversation_id": typing.conversation_id,
            "user_id": user_id, "name": name, "contact": user_id.is_none(), "on": typing.on,
        })
        .to_string()
        .into();
        self.fan_out(typing.workspace_id, Push::Typing(frame), |a| {
            a.sees_inbox(typing.inbox_id) && Some(a.user_id) != user_id
        });
    }

    /// Routes committed events in sequence order, whatever order their publishers reached the
    /// bus in: the next expected event goes straight out; an event past a gap makes the hub read
    /// the log from where it stands (committed sequence numbers never have gaps, see
    /// store::shared), so no console ever misses or reorders one.
    pub async fn run(self: Arc<Self>, desk: Desk, signals: Arc<Signals>) {
        use tokio::sync::broadcast::error::RecvError;
        let store = desk.store().clone();
        let mut events = desk.subscribe();
        let mut typing = signals.subscribe_typing();
        let mut order = SeqOrder::default();
        for workspace in store.list_workspaces().await.unwrap_or_default() {
            let seq = store.gateway().current_seq(workspace.id).await.unwrap_or(0);
            order.start(workspace.id, seq);
            self.lock().recent.start(workspace.id, seq);
        }
        loop {
            tokio::select! {
                event = events.recv() => match event {
                    Ok(event) => match order.accept(event.workspace_id, event.seq) {
                        Next::Route => self.route_event(&event),
                        Next::Duplicate => {}
                        Next::Gap { after } => {
                            match store.events_after(event.workspace_id, after, 10_000).await {
                                Ok(missing) => {
                                    for e in missing.iter().filter(|e| e.seq > after) {
                                        order.start(e.workspace_id, e.seq);
                                        self.route_event(e);
                                    }
                                }
                                Err(e) => {
                                    tracing::error!(error = %e, "cannot read the event log; consoles resync");
                                    let mut registry = self.lock();
                                    registry.by_workspace.remove(&event.workspace_id);
                                    registry.recent.forget(event.workspace_id);
                                    drop(registry);
                                    order.start(event.workspace_id, event.seq);
                                }
                            }
                        }
                    },
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "console hub lagged behind the bus; every console resyncs");
                        {
                            let mut registry = self.lock();
                            registry.by_workspace.clear();
                            registry.recent.clear();
                        }
                        order = SeqOrder::default();
                        for workspace in store.list_workspaces().await.unwrap_or_default() {
                            let seq = store.gateway().current_seq(workspace.id).await.unwrap_or(0);
                            order.start(workspace.id, seq);
                            self.lock().recent.start(workspace.id, seq);
                        }
                    }
                    Err(RecvError::Closed) => return,
                },
                signal = typing.recv() => match signal {
                    Ok(t) => self.route_typing(&t),
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return,
                },
            }
        }
    }
}

/// What to do with an event from the bus, given how far a workspace's events have been routed.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    Route,
    Duplicate,
    /// Events between `after` and this one have not come by yet: read them from the log.
    Gap {
        after: i64,
    },
}

/// The last routed sequence number of each workspace.
#[derive(Default)]
pub struct SeqOrder {
    routed: HashMap<Id, i64>,
}

impl SeqOrder {
    pub fn start(&mut self, workspace_id: Id, seq: i64) {
        self.routed.insert(workspace_id, seq);
    }

    pub fn accept(&mut self, workspace_id: Id, seq: i64) -> Next {
        let routed = self.routed.entry(workspace_id).or_insert(0);
        if seq <= *routed {
            Next::Duplicate
        } else if seq == *routed + 1 {
            *routed = seq;
            Next::Route
        } else {
            Next::Gap { after: *routed }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: i64, kind: &str, inbox: Option<Id>, payload: serde_json::Value) -> Event {
        Event {
            id: seq,
            workspace_id: 1,
            seq,
            kind: kind.parse().unwrap(),
            inbox_id: inbox,
            conversation_id: Some(9),
            payload,
            created_at: 0,
        }
    }

    fn agent(user_id: Id, inboxes: &[Id]) -> Audience {
        Audience {
            user_id,
            admin: false,
            inboxes: inboxes.into(),
        }
    }

    #[tokio::test]
    async fn each_console_hears_only_what_it_may_see() {
        let hub = ConsoleHub::new(16);
        let mut inbox_a = hub.register(1, agent(1, &[10]));
        let mut inbox_b = hub.register(1, agent(2, &[20]));
        let mut admin = hub.register(
            1,
            Audience {
                user_id: 3,
                admin: true,
                inboxes: Arc::from([]),
            },
        );
        let mut other_workspace = hub.register(
            2,
            Audience {
                user_id: 4,
                admin: true,
                inboxes: Arc::from([]),
            },
        );

        hub.route_event(&event(
            1,
            "message.created",
            Some(10),
            serde_json::json!({}),
        ));
        hub.route_event(&event(2, "presence.updated", None, serde_json::json!({})));
        hub.route_event(&event(
            3,
            "conversation.read",
            Some(10),
            serde_json::json!({"user_id": 3}),
        ));
        hub.route_event(&event(
            5,
            "contact.created",
            None,
            serde_json::json!({"name": "Made by hand"}),
        ));

        let seqs = |r: &mut Registration| {
            let mut out = Vec::new();
            while let Ok(push) = r.rx.try_recv() {
                if let Push::Event { seq, .. } = *push {
                    out.push(seq);
                }
            }
            out
        };
        assert_eq!(seqs(&mut inbox_a), vec![1, 2], "no contact outside inboxes");
        assert_eq!(seqs(&mut inbox_b), vec![2], "nothing of inbox 10");
        assert_eq!(
            seqs(&mut admin),
            vec![1, 2, 3, 5],
            "admins see all; a read marker only its reader"
        );
        assert!(seqs(&mut other_workspace).is_empty());

        inbox_b.set_audience(agent(2, &[20, 10]));
        hub.route_event(&event(
            4,
            "message.created",
            Some(10),
            serde_json::json!({}),
        ));
        assert_eq!(
            seqs(&mut inbox_b),
            vec![4],
            "membership changes apply at once"
        );
    }

    #[test]
    fn a_read_marker_without_its_reader_is_heard_by_nobody() {
        let marker = event(7, "conversation.read", Some(10), serde_json::json!({}));
        assert_eq!(reader_of(&marker), Err(MissingReader { seq: 7 }));
        let admin = Audience {
            user_id: 0,
            admin: true,
            inboxes: Arc::from([]),
        };
        assert!(!admin.sees(&marker), "not even a user 0");
        let message = event(8, "message.created", Some(10), serde_json::json!({}));
        assert_eq!(reader_of(&message), Ok(None));
    }

    #[tokio::test]
    async fn a_console_that_falls_behind_is_let_go_with_a_bounded_queue() {
        let hub = ConsoleHub::new(4);
        let mut slow = hub.register(1, agent(1, &[10]));
        for seq in 1..=10 {
            hub.route_event(&event(
                seq,
                "message.created",
                Some(10),
                serde_json::json!({}),
            ));
        }
        let mut received = 0;
        while slow.rx.recv().await.is_some() {
            received += 1;
        }
        assert_eq!(received, 4);
        assert_eq!(
            hub.sockets_of(1, 1),
            0,
            "it no longer counts as the agent's socket"
        );
    }

    #[test]
    fn events_published_out_of_order_are_routed_in_order() {
        let mut order = SeqOrder::default();
        order.start(1, 4);
        assert_eq!(order.accept(1, 5), Next::Route);
        // 7 was published before 6: the hub reads 6 and 7 from the log.
        assert_eq!(order.accept(1, 7), Next::Gap { after: 5 });
        order.start(1, 7);
        assert_eq!(
            order.accept(1, 6),
            Next::Duplicate,
            "6 came late and was already routed"
        );
        assert_eq!(order.accept(1, 8), Next::Route);
        assert_eq!(
            order.accept(2, 1),
            Next::Route,
            "a new workspace starts at 1"
        );
    }

    #[tokio::test]
    async fn typing_reaches_other_agents_of_the_inbox_but_not_the_typist() {
        let hub = ConsoleHub::new(4);
        let mut typist = hub.register(1, agent(1, &[10]));
        let mut colleague = hub.register(1, agent(2, &[10]));
        let mut outsider = hub.register(1, agent(3, &[20]));
        hub.route_typing(&Typing {
            workspace_id: 1,
            inbox_id: 10,
            conversation_id: 9,
            typist: Typist::Agent {
                user_id: 1,
                name: "Ana".into(),
            },
            on: true,
        });
        assert!(typist.rx.try_recv().is_err());
        assert!(
            matches!(colleague.rx.try_recv().as_deref(), Ok(Push::Typing(f)) if f.as_str().contains("Ana"))
        );
        assert!(outsider.rx.try_recv().is_err());
    }
}
