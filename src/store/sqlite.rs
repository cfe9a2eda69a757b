//! The embedded engine: SQLite in WAL mode. Reads go through a pool of read-only connections;
//! every write goes to one writer task that folds whatever writes are queued into a single
//! transaction (group commit), each inside its own savepoint, so a burst of messages pays one
//! fsync instead of one each and one failing write never takes its neighbours down with it.

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use super::{inbox_cache, Engine, InboxCache, PrincipalCache, Result, StoreError, StoreOptions};

type Db = sqlx::Sqlite;
type EngineStore = SqliteStore;

// Deliberately compiled once per engine: the same SQL with this engine's concrete types.
#[allow(clippy::duplicate_mod)]
#[path = "sql.rs"]
mod sql;

/// Runs after the batch's commit with whether it held: hands the write's result to its caller.
type Settle = Box<dyn FnOnce(std::result::Result<(), String>) + Send>;
type Job =
    Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, (bool, Settle)> + Send>;

pub struct SqliteStore {
    readers: SqlitePool,
    writer: mpsc::Sender<Job>,
    stats: Arc<WriterStats>,
    principals: PrincipalCache,
    inboxes: InboxCache,
}

/// What the writer has done, for tests and metrics: how many writes and how many commits.
#[derive(Debug, Default)]
pub struct WriterStats {
    pub writes: AtomicU64,
    pub commits: AtomicU64,
}

impl SqliteStore {
    const ENGINE: Engine = Engine::Sqlite;

    pub async fn connect(url: &str, options: &StoreOptions) -> Result<SqliteStore> {
        let synchronous = match options.sqlite_synchronous.as_str() {
            "normal" => SqliteSynchronous::Normal,
            "full" => SqliteSynchronous::Full,
            other => {
                return Err(StoreError::Invalid(format!(
                    "sqlite synchronous must be `full` or `normal`, not {other:?}"
                )))
            }
        };
        let base = SqliteConnectOptions::from_str(url)?
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(synchronous)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        // The writer's savepoints (one per queued write) journal the pages they change; in
        // memory rather than in a temporary file, which profiling showed as a tenth of ingest.
        let mut writer = sqlx::ConnectOptions::connect(
            &base
                .clone()
                .create_if_missing(true)
                .pragma("temp_store", "memory"),
        )
        .await?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&mut writer)
            .await?;
        // Without planner statistics SQLite can pick a bad plan for the inbox list on a large
        // store (measured: 207 ms p99 at 1 M conversations instead of 2 ms). `optimize` gathers
        // them where they are missing or stale, with a bounded sample, so it stays fast.
        sqlx::query("PRAGMA optimize=0x10002")
            .execute(&mut writer)
            .await?;
        // Every reader is opened now and kept for the life of the process: a server that runs
        // short of file descriptors (thousands of sockets) must never need a new one to read.
        let readers = options.max_connections.max(1);
        let readers = SqlitePoolOptions::new()
            .max_connections(readers)
            .min_connections(readers)
            .idle_timeout(None)
            .max_lifetime(None)
            // A file's connection cannot go stale the way a server's can: asking it whether it
            // is alive before each read is a round trip to its thread (seen in the profile).
            .test_before_acquire(false)
            .connect_with(base.read_only(true).pragma("temp_store", "memory"))
            .await?;
        let (tx, rx) = mpsc::channel(options.group_commit_max.max(1) * 4);
        let stats = Arc::new(WriterStats::default());
        tokio::spawn(run_writer(
            writer,
            rx,
            options.group_commit_max.max(1),
            stats.clone(),
        ));
        Ok(SqliteStore {
            readers,
            writer: tx,
            stats,
            principals: PrincipalCache::default(),
            inboxes: inbox_cache(),
        })
    }

    pub fn writer_stats(&self) -> &WriterStats {
        &self.stats
    }

    async fn reader(&self) -> Result<sqlx::pool::PoolConnection<Db>> {
        Ok(self.readers.acquire().await?)
    }

    /// Queues a write for the writer task and waits until the commit that carries it.
    async fn write<T, F>(&self, op: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T>> + Send + 'static,
    {
        let (done, result) = oneshot::channel::<Result<T>>();
        let job: Job = Box::new(move |conn| {
            Box::pin(async move {
                match op(conn).await {
                    Ok(value) => {
                        let settle: Settle = Box::new(move |commit| {
                            let _ = done.send(match commit {
                                Ok(()) => Ok(value),
                                Err(e) => Err(StoreError::Invalid(format!("commit failed: {e}"))),
                            });
                        });
                        (true, settle)
                    }
                    Err(e) => {
                        let settle: Settle = Box::new(move |_| {
                            let _ = done.send(Err(e));
                        });
                        (false, settle)
                    }
                }
            })
        });
        self.writer
            .send(job)
            .await
            .map_err(|_| StoreError::WriterGone)?;
        result.await.map_err(|_| StoreError::WriterGone)?
    }
}

async fn run_writer(
    mut conn: SqliteConnection,
    mut jobs: mpsc::Receiver<Job>,
    max_batch: usize,
    stats: Arc<WriterStats>,
) {
    let mut batch = Vec::with_capacity(max_batch);
    while jobs.recv_many(&mut batch, max_batch).await > 0 {
        let size = batch.len();
        let mut settles = Vec::with_capacity(size);
        let outcome = run_batch(&mut conn, std::mem::take(&mut batch), &mut settles).await;
        metrics::histogram!("switchboard_store_group_commit_size").record(size as f64);
        stats.writes.fetch_add(size as u64, Ordering::Relaxed);
        stats.commits.fetch_add(1, Ordering::Relaxed);
        let commit = outcome.map_err(|e| e.to_string());
        if let Err(e) = &commit {
            tracing::error!(error = %e, writes = size, "group commit failed");
        }
        for settle in settles {
            settle(commit.clone());
        }
    }
}

async fn run_batch(
    conn: &mut SqliteConnection,
    mut jobs: Vec<Job>,
    settles: &mut Vec<Settle>,
) -> std::result::Result<(), sqlx::Error> {
    // IMMEDIATE: the write lock is taken (waiting up to busy_timeout) before anything is read.
    // A deferred transaction would read first, and if another process (the command line beside
    // a running hub) committed meanwhile, SQLite refuses its write at once, whatever the timeout.
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    // A write alone in its commit (the intake's batch of messages, usually) needs no savepoint:
    // when it fails, the whole transaction is rolled back instead, which undoes the same.
    if jobs.len() == 1 {
        let job = jobs.pop().expect("one job");
        let (ok, settle) = job(&mut tx).await;
        settles.push(settle);
        return if ok {
            tx.commit().await
        } else {
            tx.rollback().await
        };
    }
    for job in jobs {
        let mut savepoint = tx.begin().await?;
        let (ok, settle) = job(&mut savepoint).await;
        if ok {
            savepoint.commit().await?;
        } else {
            savepoint.rollback().await?;
        }
        settles.push(settle);
    }
    tx.commit().await
}
