//! Routes events and typing signals to the visitor sockets they concern. One task reads the bus;
//! each event goes only to the sockets of the contact whose conversation it is, so 50,000 idle
//! visitors cost nothing per event (no socket wakes up for someone else's message), and routing
//! needs no database: a connected visitor registers its conversations, and new ones are learnt
//! from `conversation.created`.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use crate::desk::Desk;
use crate::domain::{Event, EventKind, Id};
use crate::signals::{Signals, Typing, Typist};

/// What the hub hands a visitor socket.
#[derive(Clone, Debug)]
pub enum Push {
    Event(Arc<Event>),
    Typing(Arc<Typing>),
    /// Something changed in the socket's inbox queue: its position may have moved.
    QueueMoved,
}

/// Room for bursts; a socket that falls further behind is dropped and told to resync.
const SOCKET_QUEUE: usize = 64;

struct Socket {
    id: u64,
    tx: mpsc::Sender<Push>,
}

#[derive(Default)]
struct Registry {
    next_id: u64,
    by_contact: HashMap<Id, Vec<Socket>>,
    contact_of_conversation: HashMap<Id, Id>,
    /// Contacts with at least one conversation, per inbox: who may care about queue moves.
    waiting_in_inbox: HashMap<Id, HashSet<Id>>,
}

#[derive(Default)]
pub struct VisitorHub {
    registry: Mutex<Registry>,
}

/// A socket's place in the hub; dropping it unregisters the socket.
pub struct Registration {
    hub: Arc<VisitorHub>,
    contact_id: Id,
    socket_id: u64,
    pub rx: mpsc::Receiver<Push>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.hub.unregister(self.contact_id, self.socket_id);
    }
}

impl VisitorHub {
    pub fn new() -> Arc<Self> {
        Arc::new(VisitorHub::default())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn register(
        self: &Arc<Self>,
        contact_id: Id,
        inbox_id: Id,
        conversations: &[Id],
    ) -> Registration {
        let (tx, rx) = mpsc::channel(SOCKET_QUEUE);
        let mut registry = self.lock();
        registry.next_id += 1;
        let socket_id = registry.next_id;
        registry
            .by_contact
            .entry(contact_id)
            .or_default()
            .push(Socket { id: socket_id, tx });
        for conversation in conversations {
            registry
                .contact_of_conversation
                .insert(*conversation, contact_id);
        }
        if !conversations.is_empty() {
            registry
                .waiting_in_inbox
                .entry(inbox_id)
                .or_default()
                .insert(contact_id);
        }
        metrics::gauge!("switchboard_visitor_sockets").increment(1.0);
        Registration {
            hub: self.clone(),
            contact_id,
            socket_id,
            rx,
        }
    }

    fn unregister(&self, contact_id: Id, socket_id: u64) {
        let mut registry = self.lock();
        let now_empty = match registry.by_contact.get_mut(&contact_id) {
            Some(sockets) => {
                sockets.retain(|s| s.id != socket_id);
                sockets.is_empty()
            }
            None => false,
        };
        if now_empty {
            registry.by_contact.remove(&contact_id);
            registry
                .contact_of_conversation
                .retain(|_, c| *c != contact_id);
            for contacts in registry.waiting_in_inbox.values_mut() {
                contacts.remove(&contact_id);
            }
            registry.waiting_in_inbox.retain(|_, c| !c.is_empty());
        }
        metrics::gauge!("switchboard_visitor_sockets").decrement(1.0);
    }

    /// Hands `push` to every socket of `contact_id`; a socket whose queue is full is dropped
    /// (its receiver then ends and the socket tells the widget to resync).
    fn deliver(registry: &mut Registry, contact_id: Id, push: &Push) {
        if let Some(sockets) = registry.by_contact.get_mut(&contact_id) {
            sockets.retain(|s| match s.tx.try_send(push.clone()) {
                Ok(()) => true,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    metrics::counter!("switchboard_visitor_resyncs_total").increment(1);
                    false
                }
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            });
        }
    }

    pub fn route_event(&self, event: &Arc<Event>) {
        let mut registry = self.lock();
        let Some(conversation_id) = event.conversation_id else {
            return;
        };
        if event.kind == EventKind::ConversationCreated {
            let contact = event.payload.get("contact_id").and_then(|v| v.as_i64());
            if let Some(contact) = contact.filter(|c| registry.by_contact.contains_key(c)) {
                registry
                    .contact_of_conversation
                    .insert(conversation_id, contact);
                if let Some(inbox) = event.inbox_id {
                    registry
                        .waiting_in_inbox
                        .entry(inbox)
                        .or_default()
                        .insert(contact);
                }
            }
        }
        if let Some(contact) = registry
            .contact_of_conversation
            .get(&conversation_id)
            .copied()
        {
            Self::deliver(&mut registry, contact, &Push::Event(event.clone()));
        }
        if event.kind.is_conversation() {
            if let Some(inbox) = event.inbox_id {
                let waiting: Vec<Id> = registry
                    .waiting_in_inbox
                    .get(&inbox)
                    .map(|c| c.iter().copied().collect())
                    .unwrap_or_default();
                for contact in waiting {
                    Self::deliver(&mut registry, contact, &Push::QueueMoved);
                }
            }
        }
    }

    pub fn route_typing(&self, typing: &Arc<Typing>) {
        if matches!(typing.typist, Typist::Contact) {
            return;
        }
        let mut registry = self.lock();
        if let Some(contact) = registry
            .contact_of_conversation
            .get(&typing.conversation_id)
            .copied()
        {
            Self::deliver(&mut registry, contact, &Push::Typing(typing.clone()));
        }
    }

    /// Reads the desk's events and the typing signals until both close.
    pub async fn run(self: Arc<Self>, desk: Desk, signals: Arc<Signals>) {
        let mut events = desk.subscribe();
        let mut typing = signals.subscribe_typing();
        loop {
            tokio::select! {
                event = events.recv() => match event {
                    Ok(event) => self.route_event(&event),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        // Visitors refetch on resync; tell every socket rather than lose events.
                        tracing::warn!(missed = n, "visitor hub lagged behind the bus");
                        let mut registry = self.lock();
                        registry.by_contact.clear();
                        registry.contact_of_conversation.clear();
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                },
                signal = typing.recv() => match signal {
                    Ok(t) => self.route_typing(&t),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                },
            }
        }
    }

    #[cfg(test)]
    fn sockets(&self) -> usize {
        self.lock().by_contact.values().map(Vec::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, inbox: Id, conversation: Id, payload: serde_json::Value) -> Arc<Event> {
        Arc::new(Event {
            id: 1,
            workspace_id: 1,
            seq: 1,
            kind: kind.parse().unwrap(),
            inbox_id: Some(inbox),
            conversation_id: Some(conversation),
            payload,
            created_at: 0,
        })
    }

    /// The next push that is not a queue notice.
    fn next_event(registration: &mut Registration) -> Option<Push> {
        loop {
            match registration.rx.try_recv() {
                Ok(Push::QueueMoved) => continue,
                Ok(push) => return Some(push),
                Err(_) => return None,
            }
        }
    }

    #[tokio::test]
    async fn a_visitor_gets_events_of_its_own_conversations_only() {
        let hub = VisitorHub::new();
        let mut ana = hub.register(10, 1, &[100]);
        let mut bob = hub.register(20, 1, &[]);
        hub.route_event(&event("message.created", 1, 100, serde_json::json!({})));
        assert!(matches!(ana.rx.try_recv(), Ok(Push::Event(_))));
        assert!(bob.rx.try_recv().is_err(), "Bob has no conversation yet");

        // Bob's first conversation is learnt from its creation event.
        hub.route_event(&event(
            "conversation.created",
            1,
            200,
            serde_json::json!({"contact_id": 20}),
        ));
        assert!(matches!(next_event(&mut bob), Some(Push::Event(_))));
        hub.route_event(&event("message.created", 1, 200, serde_json::json!({})));
        assert!(matches!(next_event(&mut bob), Some(Push::Event(_))));
        assert!(next_event(&mut bob).is_none());
        // Ana hears that the queue moved, never Bob's message.
        while let Ok(push) = ana.rx.try_recv() {
            assert!(matches!(push, Push::QueueMoved), "{push:?}");
        }
    }

    #[tokio::test]
    async fn a_visitor_that_does_not_read_is_dropped_not_buffered_forever() {
        let hub = VisitorHub::new();
        let mut slow = hub.register(10, 1, &[100]);
        for _ in 0..(SOCKET_QUEUE + 10) {
            hub.route_event(&event("message.created", 1, 100, serde_json::json!({})));
        }
        let mut received = 0;
        while let Some(push) = slow.rx.recv().await {
            assert!(matches!(push, Push::Event(_)));
            received += 1;
        }
        assert_eq!(
            received, SOCKET_QUEUE,
            "the queue is bounded, then the socket is let go"
        );
    }

    #[tokio::test]
    async fn closing_a_socket_unregisters_it() {
        let hub = VisitorHub::new();
        let registration = hub.register(10, 1, &[100]);
        assert_eq!(hub.sockets(), 1);
        drop(registration);
        assert_eq!(hub.sockets(), 0);
        assert!(hub.lock().contact_of_conversation.is_empty());
    }
}
