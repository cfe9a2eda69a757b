//! The event bus: committed events fan out to whoever listens in this process (the gateway, the
//! router). Behind a trait so cluster mode can carry events between nodes (NATS) instead.

use std::sync::Arc;

use tokio::sync::broadcast;

use crate::domain::Event;

pub trait EventBus: Send + Sync + 'static {
    /// Called only after the events' transaction has committed.
    fn publish(&self, events: &[Event]);
    fn subscribe(&self) -> broadcast::Receiver<Arc<Event>>;
}

/// One process, one broadcast channel. A subscriber that falls more than `capacity` events behind
/// is told it lagged and catches up from the event log, so memory stays bounded.
pub struct InProcessBus {
    sender: broadcast::Sender<Arc<Event>>,
}

impl InProcessBus {
    pub fn new(capacity: usize) -> Self {
        InProcessBus {
            sender: broadcast::channel(capacity).0,
        }
    }
}

impl EventBus for InProcessBus {
    fn publish(&self, events: &[Event]) {
        for event in events {
            // No subscriber is not an error: the log keeps everything for later readers.
            let _ = self.sender.send(Arc::new(event.clone()));
        }
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.sender.subscribe()
    }
}
