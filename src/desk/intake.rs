//! The intake: ingests that arrive together are stored together. Every `Desk::ingest` waits in
//! one queue; a few workers each take what is waiting (up to a batch), store it in one
//! transaction through `IngestStore::ingest_batch`, hand the bus the batch's events in one call
//! and only then answer each caller. A hundred webhook calls in the same millisecond so pay one
//! commit and one lock of the workspace's event counter instead of a hundred, and a caller
//! alone pays nothing extra: a batch is whatever is waiting when a worker is free, never a
//! timer.
//!
//! A batch commits whole or not at all. When it fails, its messages are stored one by one, so
//! a bad message gets its own error and its neighbours are stored as if it had not been there.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use tokio::sync::{mpsc, oneshot, Mutex};

use super::publish_to;
use crate::bus::EventBus;
use crate::store::{only, Engine, IngestOutcome, IngestRequest, Store, StoreError};

/// The most messages stored in one transaction: large enough that a burst shares its commit,
/// small enough that the last of a batch waits a few milliseconds, not a second.
pub const MAX_BATCH: usize = 128;

type Answer = oneshot::Sender<Result<IngestOutcome, StoreError>>;

struct Waiting {
    request: IngestRequest,
    answer: Answer,
}

pub(super) struct Intake {
    queue: mpsc::Sender<Waiting>,
}

impl Intake {
    /// Starts the workers on the current runtime. They stop when the intake is dropped.
    pub(super) fn start(store: Arc<dyn Store>, bus: Arc<dyn EventBus>) -> Intake {
        // SQLite has one writer, and one worker keeps what was queued in order (IMAP sync
        // queues a mailbox's mails in UID order, and a reply must not be stored before what it
        // answers). PostgreSQL runs batches side by side, each holding the event counter only
        // from its last statement to its commit; there a sync queues one mail at a time.
        let workers = match store.engine() {
            Engine::Sqlite => 1,
            Engine::Postgres => 4,
        };
        let (queue, waiting) = mpsc::channel(MAX_BATCH * workers * 4);
        let waiting = Arc::new(Mutex::new(waiting));
        for _ in 0..workers {
            tokio::spawn(work(store.clone(), bus.clone(), waiting.clone()));
        }
        Intake { queue }
    }

    /// Queues `request` and waits until it is committed and published (or refused).
    pub(super) async fn ingest(&self, request: IngestRequest) -> Result<IngestOutcome, StoreError> {
        let (answer, answered) = oneshot::channel();
        self.queue
            .send(Waiting { request, answer })
            .await
            .map_err(|_| StoreError::WriterGone)?;
        // A worker that panicked drops the answer: the caller hears of it, the intake goes on.
        answered.await.map_err(|_| StoreError::WriterGone)?
    }
}

/// One worker: takes what is waiting, stores it, answers, again, until the queue closes.
async fn work(
    store: Arc<dyn Store>,
    bus: Arc<dyn EventBus>,
    waiting: Arc<Mutex<mpsc::Receiver<Waiting>>>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        let taken = waiting.lock().await.recv_many(&mut batch, MAX_BATCH).await;
        if taken == 0 {
            return;
        }
        // A panic drops the batch's answers (each caller hears of it); the worker goes on.
        let stored = AssertUnwindSafe(store_batch(&*store, &*bus, &mut batch))
            .catch_unwind()
            .await;
        if stored.is_err() {
            tracing::error!(
                messages = taken,
                "storing a batch of inbound messages panicked"
            );
        }
        batch.clear();
    }
}

async fn store_batch(store: &dyn Store, bus: &dyn EventBus, batch: &mut Vec<Waiting>) {
    let (requests, answers): (Vec<_>, Vec<_>) =
        batch.drain(..).map(|w| (w.request, w.answer)).unzip();
    let outcomes = store_together(store, bus, requests).await;
    for (outcome, answer) in outcomes.into_iter().zip(answers) {
        // A caller that went away (a webhook client that timed out) is not an error: its
        // message is committed, and its retry will be answered with it.
        let _ = answer.send(outcome);
    }
}

/// Stores `requests` in one transaction and publishes their events in one call; when the batch
/// is refused, stores and publishes them one by one. The outcomes are in the requests' order.
pub(super) async fn store_together(
    store: &dyn Store,
    bus: &dyn EventBus,
    requests: Vec<IngestRequest>,
) -> Vec<Result<IngestOutcome, StoreError>> {
    if requests.is_empty() {
        return Vec::new();
    }
    metrics::histogram!("switchboard_ingest_batch_size").record(requests.len() as f64);
    let requests = Arc::new(requests);
    let outcomes = match store.ingest_batch(requests.clone()).await {
        Ok(outcomes) => {
            let events: Vec<_> = outcomes.iter().flat_map(|o| o.events.clone()).collect();
            publish_to(bus, &events);
            outcomes.into_iter().map(Ok).collect()
        }
        Err(e) if requests.len() == 1 => {
            let outcome = again_if_raced(store, requests, e).await;
            if let Ok(outcome) = &outcome {
                publish_to(bus, &outcome.events);
            }
            vec![outcome]
        }
        Err(e) => {
            tracing::debug!(error = %e, messages = requests.len(), "batch refused: storing its messages one by one");
            let mut outcomes = Vec::with_capacity(requests.len());
            for request in Arc::unwrap_or_clone(requests) {
                let one = Arc::new(vec![request]);
                let outcome = match store.ingest_batch(one.clone()).await {
                    Ok(stored) => only(stored),
                    Err(e) => again_if_raced(store, one, e).await,
                };
                // Each one is committed on its own: told at once, in commit order.
                if let Ok(outcome) = &outcome {
                    publish_to(bus, &outcome.events);
                }
                outcomes.push(outcome);
            }
            outcomes
        }
    };
    for outcome in &outcomes {
        let result = match outcome {
            Ok(o) if o.created => "created",
            Ok(_) => "duplicate",
            Err(_) => "refused",
        };
        metrics::counter!("switchboard_ingested_messages_total", "result" => result).increment(1);
    }
    outcomes
}

/// A batch of one that lost a race with a concurrent delivery of the same external id is tried
/// once more: the second try finds the stored message (or stores this one beside it). One that
/// PostgreSQL refused to break a deadlock (with another batch) is tried again, a few times.
async fn again_if_raced(
    store: &dyn Store,
    one: Arc<Vec<IngestRequest>>,
    error: StoreError,
) -> Result<IngestOutcome, StoreError> {
    let mut error = error;
    for _ in 0..RETRIES {
        match error {
            StoreError::Conflict(_) => {}
            ref e if e.is_transient() => {}
            other => return Err(other),
        }
        match store.ingest_batch(one.clone()).await {
            Ok(stored) => return only(stored),
            Err(e) => error = e,
        }
    }
    Err(error)
}

/// How many times a message alone is tried again after a race or a deadlock.
const RETRIES: usize = 3;
