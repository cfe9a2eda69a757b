//! The desk: the application layer where conversations are worked. It owns the store and the
//! bus; every operation (ingest, reply, assign, change status, mark read, rate, presence, a
//! routing pass…) commits through the store and then publishes what it committed, here and
//! nowhere else. HTTP handlers, the widget and console sockets, the CLI, email sync, the
//! dispatcher and the router's loop are adapters that call these doors.

mod contacts;
mod conversations;
mod delivery;
mod health;
mod ingest;
mod intake;
mod presence;
mod routing;
mod setup;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use switchboard_connector_core::phone::PhoneRegion;
use tokio::sync::{broadcast, Notify};

use crate::bus::EventBus;
use crate::domain::{Event, Id, InboxPart};
use crate::store::Store;

pub use conversations::Replied;
pub use ingest::MAX_TEXT_BYTES;

/// The application layer; cheap to clone (one shared inside).
#[derive(Clone)]
pub struct Desk {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    bus: Arc<dyn EventBus>,
    /// Wakes the dispatcher when a reply has been queued, so it goes out at once.
    dispatch_wake: Arc<Notify>,
    /// Whether changes of routing settings start a routing pass (routing can be off).
    routing: bool,
    /// Where ingest reads phone numbers without a country code (`[contacts] default_region`).
    phone_region: PhoneRegion,
    /// The health last recorded per inbox part (None: working) and when, so repeats write
    /// nothing (see health.rs).
    health: Mutex<HashMap<(Id, InboxPart), health::Recorded>>,
    /// Where ingests wait to be stored in batches; started by the first ingest, on its runtime.
    intake: OnceLock<intake::Intake>,
}

impl Desk {
    /// A desk over `store` and `bus`, with routing passes on settings changes off.
    pub fn new(store: Arc<dyn Store>, bus: Arc<dyn EventBus>) -> Desk {
        Desk::with(store, bus, Arc::new(Notify::new()), false)
    }

    /// A desk that wakes `dispatch_wake` for queued replies and, when `routing` is on, routes a
    /// workspace again after its routing settings change.
    pub fn with(
        store: Arc<dyn Store>,
        bus: Arc<dyn EventBus>,
        dispatch_wake: Arc<Notify>,
        routing: bool,
    ) -> Desk {
        Desk {
            inner: Arc::new(Inner {
                store,
                bus,
                dispatch_wake,
                routing,
                phone_region: PhoneRegion::NONE,
                health: Mutex::default(),
                intake: OnceLock::new(),
            }),
        }
    }

    /// This desk, reading phone numbers without a country code in `region`. Called while the
    /// desk is being built, before it is shared.
    pub fn with_phone_region(mut self, region: PhoneRegion) -> Desk {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => inner.phone_region = region,
            None => tracing::warn!("the desk is already shared; its phone region stays as it is"),
        }
        self
    }

    /// The region phone numbers without a country code are read in.
    pub fn phone_region(&self) -> PhoneRegion {
        self.inner.phone_region
    }

    /// The store, for reading. Writes that make events go through the desk's operations.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// Every event the desk publishes from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.inner.bus.subscribe()
    }

    /// The notifier the dispatcher waits on.
    pub fn dispatch_wake(&self) -> &Arc<Notify> {
        &self.inner.dispatch_wake
    }

    fn intake(&self) -> &intake::Intake {
        self.inner
            .intake
            .get_or_init(|| intake::Intake::start(self.inner.store.clone(), self.inner.bus.clone()))
    }

    /// Stores `requests` in one transaction now (not queued behind other callers' ingests) and
    /// publishes what it committed.
    async fn store_together(
        &self,
        requests: Vec<crate::store::IngestRequest>,
    ) -> Vec<Result<crate::store::IngestOutcome, crate::store::StoreError>> {
        intake::store_together(&*self.inner.store, &*self.inner.bus, requests).await
    }

    /// Hands committed events to the bus.
    fn publish(&self, events: &[Event]) {
        publish_to(&*self.inner.bus, events);
    }
}

/// Hands committed events to `bus`, when there are any (a duplicate has none): the one place
/// that does (tests/architecture.rs); the intake, which holds the bus without a desk, uses it too.
fn publish_to(bus: &dyn EventBus, events: &[Event]) {
    if !events.is_empty() {
        bus.publish(events);
    }
}
