//! `loadgen raw-sqlite`: the limit for ingest on SQLite. The rows an ingested message leaves
//! (the message and its event), inserted straight into a WAL-mode file with synchronous=FULL, in
//! batches of one transaction each, as Switchboard's group commit does at best.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use serde_json::json;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection};

use crate::stats::now_nanos;

#[derive(clap::Args, Debug)]
pub struct RawArgs {
    /// The database file (created; it must not hold other tables of these names).
    #[arg(long)]
    pub path: PathBuf,
    /// Messages to insert.
    #[arg(long, default_value_t = 30_000)]
    pub rows: usize,
    /// Messages per transaction (Switchboard's `group_commit_max` is 256).
    #[arg(long, default_value_t = 256)]
    pub batch: usize,
}

/// Tables shaped like Switchboard's `messages` and `events`, without the foreign keys.
const SCHEMA: &[&str] = &[
    "CREATE TABLE messages (
        id INTEGER PRIMARY KEY, workspace_id BIGINT NOT NULL, conversation_id BIGINT NOT NULL,
        inbox_id BIGINT NOT NULL, direction TEXT NOT NULL, sender_kind TEXT NOT NULL,
        sender_id BIGINT, text TEXT NOT NULL, html TEXT, external_id TEXT, status TEXT NOT NULL,
        error TEXT, created_at BIGINT NOT NULL,
        CONSTRAINT messages_external_id_key UNIQUE (inbox_id, external_id))",
    "CREATE INDEX messages_by_conversation ON messages (conversation_id, id)",
    "CREATE TABLE events (
        id INTEGER PRIMARY KEY, workspace_id BIGINT NOT NULL, seq BIGINT NOT NULL,
        kind TEXT NOT NULL, inbox_id BIGINT, conversation_id BIGINT, payload TEXT NOT NULL,
        created_at BIGINT NOT NULL, CONSTRAINT events_seq_key UNIQUE (workspace_id, seq))",
];

/// Inserted messages per second.
pub struct Raw {
    pub rows: usize,
    pub secs: f64,
}

impl Raw {
    pub fn per_sec(&self) -> f64 {
        self.rows as f64 / self.secs.max(1e-9)
    }
}

pub async fn insert(args: &RawArgs) -> Result<Raw> {
    let mut conn = SqliteConnectOptions::new()
        .filename(&args.path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .connect()
        .await?;
    for statement in SCHEMA {
        sqlx::query(statement).execute(&mut conn).await?;
    }
    let started = Instant::now();
    let mut next = 0;
    while next < args.rows {
        let end = (next + args.batch.max(1)).min(args.rows);
        let mut tx = conn.begin().await?;
        for i in next..end {
            let i = i as i64;
            let text = format!(
                "bench-t={} message {i} Hello, I have a question about my order.",
                now_nanos()
            );
            let created_at = (now_nanos() / 1_000_000) as i64;
            let id = sqlx::query(
                "INSERT INTO messages (workspace_id, conversation_id, inbox_id, direction, sender_kind,
                 sender_id, text, external_id, status, created_at)
                 VALUES (1, ?1, 1, 'incoming', 'contact', ?2, ?3, ?4, 'received', ?5)",
            )
            .bind(i % 100)
            .bind(i % 100)
            .bind(&text)
            .bind(format!("raw-{i}"))
            .bind(created_at)
            .execute(&mut *tx)
            .await?
            .last_insert_rowid();
            let payload = json!({"message": {"id": id, "conversation_id": i % 100, "inbox_id": 1,
                "direction": "incoming", "sender_kind": "contact", "text": text,
                "status": "received", "created_at": created_at}})
            .to_string();
            sqlx::query(
                "INSERT INTO events (workspace_id, seq, kind, inbox_id, conversation_id, payload, created_at)
                 VALUES (1, ?1, 'message.created', 1, ?2, ?3, ?4)",
            )
            .bind(i + 1)
            .bind(i % 100)
            .bind(payload)
            .bind(created_at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        next = end;
    }
    let secs = started.elapsed().as_secs_f64();
    conn.close().await?;
    Ok(Raw {
        rows: args.rows,
        secs,
    })
}

/// The subcommand: insert and print one JSON line.
pub async fn run(args: RawArgs) -> Result<()> {
    let raw = insert(&args).await?;
    println!(
        "{}",
        json!({"scenario": "raw-sqlite", "rows": raw.rows, "batch": args.batch,
               "secs": raw.secs, "rows_per_sec": raw.per_sec()})
    );
    Ok(())
}
