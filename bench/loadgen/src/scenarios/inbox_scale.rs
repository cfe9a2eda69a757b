//! Scenario 5, inbox at scale: the inbox list and a conversation's page on a store of 100,000 and
//! 1,000,000 conversations (ten messages each), while 500 messages/s are ingested, against the
//! same SQL run raw on the same file.
//!
//! The data is generated inside SQLite (recursive CTEs, one transaction, no fsync) into the schema
//! Switchboard's own migrations created, and cached under bench/.cache by size and schema, so a
//! second run starts at once.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde_json::Value;
use sqlx::{Connection, SqliteConnection};
use tokio::time::Duration;

use super::{paced, Ctx};
use crate::api::Api;
use crate::report::Row;
use crate::server::{Server, SwitchboardOptions};
use crate::stats::Latency;

const SCENARIO: &str = "inbox-scale";
const PER_CONVERSATION: u64 = 10;
const PAGE: i64 = 25;

/// A hash of the migrations: a cached store is only reused with the schema it was made for.
fn schema_key(root: &Path) -> Result<String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("migrations/sqlite"))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.sort();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for f in files {
        for b in std::fs::read(f)? {
            hash = (hash ^ b as u64).wrapping_mul(0x100_0000_01b3);
        }
    }
    Ok(format!("{hash:016x}"))
}

/// A data dir holding a store with `conversations` conversations, from the cache when it can.
async fn prepared(ctx: &Ctx, conversations: u64) -> Result<(PathBuf, f64, bool)> {
    let cache = ctx.paths.root.join("bench/.cache");
    std::fs::create_dir_all(&cache)?;
    let cached = cache.join(format!(
        "inbox-{conversations}-{}.db",
        schema_key(&ctx.paths.root)?
    ));
    let dir = ctx.paths.fresh_dir(&format!("inbox-{conversations}"))?;
    if cached.is_file() {
        std::fs::copy(&cached, dir.join("switchboard.db"))?;
        // The secret key and owner live with the store: start once so they match.
        return Ok((dir, 0.0, true));
    }
    // Switchboard creates the schema, the workspace and the owner; then we fill it.
    let server = Server::switchboard(
        &ctx.paths,
        "inbox-scale-migrate",
        SwitchboardOptions {
            data_dir: Some(dir.clone()),
            ..Default::default()
        },
    )
    .await?;
    let api = Api::login(server.addr).await?;
    api.create_inbox("Scale", "api").await?;
    server.stop().await?;
    let started = Instant::now();
    generate(&dir.join("switchboard.db"), conversations).await?;
    let secs = started.elapsed().as_secs_f64();
    std::fs::copy(dir.join("switchboard.db"), &cached)?;
    Ok((dir, secs, false))
}

async fn generate(db: &Path, conversations: u64) -> Result<()> {
    let mut c = SqliteConnection::connect(&format!("sqlite://{}", db.display())).await?;
    for pragma in [
        "PRAGMA journal_mode = WAL",
        "PRAGMA synchronous = OFF",
        "PRAGMA cache_size = -400000",
    ] {
        sqlx::query(pragma).execute(&mut c).await?;
    }
    let t0: i64 = 1_750_000_000_000;
    let contacts = (conversations / 2).max(1);
    let messages = conversations * PER_CONVERSATION;
    let mut tx = c.begin().await?;
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1) \
         INSERT INTO contacts (workspace_id, name, email, attributes, created_at, last_activity_at) \
         SELECT 1, 'Customer ' || i, 'customer' || i || '@example.test', '{}', ?2, ?2 FROM n",
    )
    .bind(contacts as i64)
    .bind(t0)
    .execute(&mut *tx)
    .await?;
    // One in ten is open; the rest resolved, as in a working inbox.
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1) \
         INSERT INTO conversations (workspace_id, inbox_id, contact_id, status, labels, subject, \
           created_at, last_activity_at, resolved_at) \
         SELECT 1, 1, 1 + (i % ?2), CASE WHEN i % 10 = 0 THEN 'open' ELSE 'resolved' END, '[]', \
           'Question ' || i, ?3 + i * 1000, ?3 + i * 1000 + 900, \
           CASE WHEN i % 10 = 0 THEN NULL ELSE ?3 + i * 1000 + 900 END FROM n",
    )
    .bind(conversations as i64)
    .bind(contacts as i64)
    .bind(t0)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 - 1) \
         INSERT INTO messages (workspace_id, conversation_id, inbox_id, direction, sender_kind, \
           text, status, created_at) \
         SELECT 1, 1 + i / ?2, 1, CASE WHEN i % 2 = 0 THEN 'incoming' ELSE 'outgoing' END, \
           CASE WHEN i % 2 = 0 THEN 'contact' ELSE 'user' END, \
           'Message ' || i || ' about order ' || (i * 7) || ': the parcel has not arrived yet, could you check?', \
           CASE WHEN i % 2 = 0 THEN 'received' ELSE 'sent' END, ?3 + (i / ?2) * 1000 + (i % ?2) * 90 FROM n",
    )
    .bind(messages as i64)
    .bind(PER_CONVERSATION as i64)
    .bind(t0)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut c)
        .await?;
    // No ANALYZE: a real deployment's store has no statistics until Switchboard gathers them.
    Ok(())
}

/// The queries the list and message endpoints run, raw, on the same file.
const LIST_SQL: &str =
    "SELECT id, workspace_id, inbox_id, contact_id, status, assignee_id, team_id, \
    priority, labels, subject, created_at, last_activity_at, waiting_since, first_reply_at, \
    resolved_at, snoozed_until FROM conversations WHERE workspace_id = ?1 AND status = 'open' \
    ORDER BY last_activity_at DESC, id DESC LIMIT ?2";
const SUMMARY_SQL: &str = "SELECT c.id, ct.name, \
    (SELECT m.text FROM messages m WHERE m.conversation_id = c.id AND m.direction IN ('incoming', 'outgoing') ORDER BY m.id DESC LIMIT 1), \
    (SELECT m.direction FROM messages m WHERE m.conversation_id = c.id AND m.direction IN ('incoming', 'outgoing') ORDER BY m.id DESC LIMIT 1), \
    (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id AND m.direction = 'incoming' AND m.id > COALESCE((SELECT r.last_read_message_id \
      FROM conversation_reads r WHERE r.conversation_id = c.id AND r.user_id = ?1), 0)) \
    FROM conversations c JOIN contacts ct ON ct.id = c.contact_id WHERE c.workspace_id = ?2 AND c.id = ?3";
const MESSAGES_SQL: &str =
    "SELECT id, workspace_id, conversation_id, inbox_id, direction, sender_kind, \
    sender_id, text, html, external_id, status, error, created_at, meta FROM messages \
    WHERE workspace_id = ?1 AND conversation_id = ?2 AND id > ?3 ORDER BY id LIMIT ?4";

#[derive(Default)]
struct Measured {
    list: Latency,
    page: Latency,
    messages: Latency,
}

async fn measure_http(api: &Api, base: &str, conversations: u64, secs: u64) -> Result<Measured> {
    let mut m = Measured::default();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut i: u64 = 0;
    let get = |url: String| async move {
        let t = Instant::now();
        let r = api.http().get(url).bearer_auth(api.token()).send().await?;
        if !r.status().is_success() {
            bail!("{} answered {}", r.url(), r.status());
        }
        let body: Value = r.json().await?;
        Ok::<_, anyhow::Error>((t.elapsed().as_micros() as u64, body))
    };
    while Instant::now() < deadline {
        let (us, first) = get(format!(
            "{base}/api/v1/conversations?status=open&limit={PAGE}"
        ))
        .await?;
        m.list.record_micros(us);
        let cursor = first["next_cursor"]
            .as_str()
            .context("no next page")?
            .to_owned();
        let (us, _) = get(format!(
            "{base}/api/v1/conversations?status=open&limit={PAGE}&cursor={cursor}"
        ))
        .await?;
        m.page.record_micros(us);
        let id = 1 + (i * 7_919) % conversations;
        let (us, _) = get(format!(
            "{base}/api/v1/conversations/{id}/messages?limit=50"
        ))
        .await?;
        m.messages.record_micros(us);
        i += 1;
    }
    Ok(m)
}

/// The summaries of a page of conversations, as the list endpoint asks for them: one query.
async fn summaries(c: &mut SqliteConnection, ids: &[i64]) -> Result<()> {
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    let sql = SUMMARY_SQL.replace("c.id = ?3", &format!("c.id IN ({})", list.join(", ")));
    sqlx::query(&sql).bind(1i64).bind(1i64).fetch_all(c).await?;
    Ok(())
}

async fn measure_raw(db: &Path, conversations: u64, secs: u64) -> Result<Measured> {
    use sqlx::Row as _;
    let mut c = SqliteConnection::connect(&format!("sqlite://{}?mode=ro", db.display())).await?;
    let mut m = Measured::default();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut i: u64 = 0;
    let next_page = LIST_SQL.replace(
        "status = 'open'",
        "status = 'open' AND (last_activity_at, id) < (?3, ?4)",
    );
    while Instant::now() < deadline {
        let t = Instant::now();
        let rows = sqlx::query(LIST_SQL)
            .bind(1i64)
            .bind(PAGE)
            .fetch_all(&mut c)
            .await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.get::<i64, _>(0)).collect();
        summaries(&mut c, &ids).await?;
        m.list.record_micros(t.elapsed().as_micros() as u64);

        let last = rows.last().context("no open conversations")?;
        let (id, at): (i64, i64) = (last.get(0), last.get(11));
        let t = Instant::now();
        let page = sqlx::query(&next_page)
            .bind(1i64)
            .bind(PAGE)
            .bind(at)
            .bind(id)
            .fetch_all(&mut c)
            .await?;
        if page.is_empty() {
            bail!("the raw next page is empty");
        }
        let ids: Vec<i64> = page.iter().map(|r| r.get::<i64, _>(0)).collect();
        summaries(&mut c, &ids).await?;
        m.page.record_micros(t.elapsed().as_micros() as u64);

        let t = Instant::now();
        let conversation = 1 + (i * 7_919) % conversations;
        let rows = sqlx::query(MESSAGES_SQL)
            .bind(1i64)
            .bind(conversation as i64)
            .bind(0i64)
            .bind(50i64)
            .fetch_all(&mut c)
            .await?;
        let ids: Vec<String> = rows
            .iter()
            .map(|r| r.get::<i64, _>(0).to_string())
            .collect();
        sqlx::query(&format!(
            "SELECT id, message_id, filename, content_type, size, url FROM attachments \
             WHERE message_id IN ({}) ORDER BY id",
            ids.join(",")
        ))
        .fetch_all(&mut c)
        .await?;
        m.messages.record_micros(t.elapsed().as_micros() as u64);
        i += 1;
    }
    Ok(m)
}

pub async fn run(ctx: &Ctx) -> Result<Vec<Row>> {
    let sizes = ctx.mode.inbox_sizes();
    let secs = ctx.mode.fixed_rate_secs();
    let mut rows = Vec::new();
    let mut p99_lists = Vec::new();
    for &conversations in &sizes {
        let (dir, generated_secs, from_cache) = prepared(ctx, conversations).await?;
        let label = format!("{}k conversations", conversations / 1000);
        let server = Server::switchboard(
            &ctx.paths,
            SCENARIO,
            SwitchboardOptions {
                data_dir: Some(dir.clone()),
                env: vec![("SWITCHBOARD__ROUTING__ENABLED".into(), "false".into())],
                ..Default::default()
            },
        )
        .await?;
        let api = Api::login(server.addr).await?;
        let base = format!("http://{}", server.addr);
        let ingest_api = Api::login(server.addr).await?;
        let run_id = std::process::id();
        let ingest = paced::run(500, secs, |i| {
            let api = ingest_api.clone();
            async move {
                api.post_message(
                    1,
                    &format!("scale{}", i % 1000),
                    &format!("scale-{run_id}-{i}"),
                    "Any news on my order?",
                )
                .await
            }
        });
        let (ingested, measured) =
            tokio::join!(ingest, measure_http(&api, &base, conversations, secs));
        let measured = measured?;
        server.stop().await?;
        let raw = measure_raw(&dir.join("switchboard.db"), conversations, secs).await?;
        let origin = if from_cache {
            "store from bench/.cache".to_string()
        } else {
            format!("generated in {generated_secs:.0} s")
        };
        for (what, ours, theirs) in [
            ("inbox list, first page", &measured.list, &raw.list),
            ("inbox list, next page", &measured.page, &raw.page),
            (
                "a conversation's messages",
                &measured.messages,
                &raw.messages,
            ),
        ] {
            let p99 = ours.quantile_ms(0.99);
            let raw_p99 = theirs.quantile_ms(0.99);
            rows.push(
                Row::new(SCENARIO, &format!("{label}: {what}, p99"), p99, "ms")
                    .target("< 25 ms", p99 < 25.0)
                    .note(format!(
                        "raw SQL p99 {raw_p99:.2} ms ({:.1}x); p50 {:.2} ms; {} requests under {} msg/s ingest ({} failed); {} messages; {origin}",
                        p99 / raw_p99.max(0.001),
                        ours.quantile_ms(0.5),
                        ours.count(),
                        ingested.sent / secs.max(1),
                        ingested.failed,
                        conversations * PER_CONVERSATION,
                    )),
            );
        }
        p99_lists.push(measured.list.quantile_ms(0.99));
    }
    if let [small, large] = p99_lists[..] {
        let growth = large / small.max(0.001);
        rows.push(
            Row::new(
                SCENARIO,
                "inbox list p99, largest vs smallest store",
                growth,
                "x",
            )
            .target("< 2x", growth < 2.0)
            .note(format!("{} vs {} conversations", sizes[1], sizes[0])),
        );
    }
    Ok(rows)
}
