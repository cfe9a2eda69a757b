//! Scenarios 3 and 4, ingest: messages posted through the API channel by C concurrent clients,
//! timed until committed and pushed to one subscribed console; then p99 at a fixed 1,000 msg/s.
//! The limit next to it: raw inserts of the same rows, straight into SQLite (WAL, synchronous
//! FULL) or by pgbench into PostgreSQL.

use std::sync::{Arc, Mutex};

use anyhow::{bail, Context, Result};
use tokio::process::Command;
use tokio::task::JoinSet;
use tokio::time::{sleep, Duration, Instant};

use super::{paced, Ctx};
use crate::api::{self, Api};
use crate::rawsqlite::{self, RawArgs};
use crate::report::Row;
use crate::server::{pinned, which, Server, SwitchboardOptions, LOADGEN_CORE};
use crate::stats::{stamp, Latency};
use crate::ws::{self, Counters, Protocol};

/// Contacts (each with an open conversation after the warm-up) the messages come from.
const CONTACTS: usize = 100;
/// The fixed rate of the latency phase.
const FIXED_RATE: u64 = 1_000;
const POSTGRES: &str = "postgres://postgres@127.0.0.1:5432";

/// What the ingest run measured on one server.
struct Measured {
    clients: usize,
    messages: u64,
    msgs_per_sec: f64,
    frame: Latency,
    request: Latency,
    fixed_sent: u64,
    /// How many of the fixed-rate messages reached the console within the wait.
    fixed_seen: u64,
    fixed: Latency,
}

pub async fn run_sqlite(ctx: &Ctx) -> Result<Vec<Row>> {
    let scenario = "ingest-sqlite";
    let server = Server::switchboard(&ctx.paths, scenario, SwitchboardOptions::default()).await?;
    let measured = measure(ctx, &server).await?;
    server.stop().await?;
    let raw = rawsqlite::insert(&RawArgs {
        path: ctx.paths.fresh_dir("raw-sqlite")?.join("raw.db"),
        rows: ctx.mode.ingest_messages(),
        batch: 256,
    })
    .await?;
    let mut rows = rows(scenario, &measured);
    rows.push(
        Row::new(scenario, "limit: raw batched insert (WAL, synchronous=FULL)", raw.per_sec(), "msg/s")
            .note(format!(
                "{} messages, 256 per transaction, message + event row; switchboard reaches {:.0}% of it",
                raw.rows,
                100.0 * measured.msgs_per_sec / raw.per_sec()
            )),
    );
    Ok(rows)
}

pub async fn run_postgres(ctx: &Ctx) -> Result<Vec<Row>> {
    let scenario = "ingest-postgres";
    let stamp = format!(
        "{}_{}",
        std::process::id(),
        crate::stats::now_nanos() / 1_000_000
    );
    let db = format!("sbbench_{stamp}");
    psql(&format!("CREATE DATABASE {db}")).await?;
    let measured = async {
        let server = Server::switchboard(
            &ctx.paths,
            scenario,
            SwitchboardOptions {
                database_url: Some(format!("{POSTGRES}/{db}")),
                ..Default::default()
            },
        )
        .await?;
        let measured = measure(ctx, &server).await;
        server.stop().await?;
        measured
    }
    .await;
    psql(&format!("DROP DATABASE IF EXISTS {db}")).await?;
    let measured = measured?;

    let raw_db = format!("sbbench_raw_{stamp}");
    psql(&format!("CREATE DATABASE {raw_db}")).await?;
    let tps = pgbench(ctx, &raw_db, measured.clients).await;
    psql(&format!("DROP DATABASE IF EXISTS {raw_db}")).await?;
    let (tps, latency_ms) = tps?;

    let mut rows = rows(scenario, &measured);
    rows.push(
        Row::new(scenario, "limit: pgbench insert, same clients", tps, "msg/s").note(format!(
            "{} clients, message + event row per transaction, avg latency {latency_ms:.2} ms; switchboard reaches {:.0}% of it",
            measured.clients,
            100.0 * measured.msgs_per_sec / tps
        )),
    );
    Ok(rows)
}

fn rows(scenario: &str, m: &Measured) -> Vec<Row> {
    let fixed_p99 = m.fixed.quantile_ms(0.99);
    vec![
        Row::new(scenario, "ingest rate (committed + on a console)", m.msgs_per_sec, "msg/s")
            .target("≥ 20,000 msg/s", m.msgs_per_sec >= 20_000.0)
            .note(format!(
                "{} messages, {} clients; p50/p99 request → console frame {:.2}/{:.2} ms; HTTP answer p99 {:.2} ms",
                m.messages,
                m.clients,
                m.frame.quantile_ms(0.5),
                m.frame.quantile_ms(0.99),
                m.request.quantile_ms(0.99)
            )),
        Row::new(scenario, "p99 request → console frame at 1,000 msg/s", fixed_p99, "ms")
            .target("< 10 ms", fixed_p99 < 10.0 && m.fixed_seen == m.fixed_sent)
            .note(format!(
                "{} messages; p50 {:.2} ms, max {:.2} ms{}",
                m.fixed_sent,
                m.fixed.quantile_ms(0.5),
                m.fixed.quantile_ms(1.0),
                if m.fixed_seen < m.fixed_sent {
                    format!(
                        "; it fell behind: only {} of {} reached the console within 60 s \
                         (percentiles are of those)",
                        m.fixed_seen, m.fixed_sent
                    )
                } else {
                    String::new()
                }
            )),
    ]
}

/// The closed-loop run and the fixed-rate run against one server.
async fn measure(ctx: &Ctx, server: &Server) -> Result<Measured> {
    let api = Api::login(server.addr).await?;
    let inbox = api::inbox_id(&api.create_inbox("Ingest", "api").await?)?;
    let counters = Arc::new(Counters::default());
    let console = ws::open(
        Protocol::Console,
        ws::source(0),
        server.addr,
        &format!("/api/v1/ws?token={}", api.token()),
    )
    .await
    .context("opening the console")?;
    let reader = {
        let counters = counters.clone();
        let deadline = Instant::now() + Duration::from_secs(1_800);
        tokio::spawn(async move { ws::hold(Protocol::Console, console, &counters, deadline).await })
    };

    // Warm-up: every contact gets its conversation, so the run measures messages.
    for c in 0..CONTACTS {
        let text = format!("{} warm-up", stamp());
        api.post_message(inbox, &format!("c-{c}"), &format!("warm-{c}"), &text)
            .await?;
    }
    arrived(&counters, CONTACTS as u64, Duration::from_secs(30)).await?;
    counters.reset();

    // Closed loop: C clients, each posting its share back to back.
    let clients = ctx.mode.ingest_clients();
    let messages = ctx.mode.ingest_messages();
    let request = Arc::new(Mutex::new(Latency::default()));
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for k in 0..clients {
        let api = api.clone();
        let request = request.clone();
        tasks.spawn(async move {
            for i in (k..messages).step_by(clients) {
                let text = format!(
                    "{} message {i} Hello, I have a question about my order.",
                    stamp()
                );
                let sent = Instant::now();
                api.post_message(
                    inbox,
                    &format!("c-{}", i % CONTACTS),
                    &format!("m-{i}"),
                    &text,
                )
                .await?;
                if let Ok(mut latency) = request.lock() {
                    latency.record_micros(sent.elapsed().as_micros() as u64);
                }
            }
            anyhow::Ok(())
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined??;
    }
    arrived(&counters, messages as u64, Duration::from_secs(60)).await?;
    let secs = started.elapsed().as_secs_f64();
    let frame = counters.latency();
    counters.reset();
    eprintln!("   {messages} messages in {secs:.2} s");

    // Open loop at a fixed rate.
    let fixed = paced::run(FIXED_RATE, ctx.mode.fixed_rate_secs(), |i| {
        let api = api.clone();
        async move {
            let text = format!(
                "{} fixed {i} Hello, I have a question about my order.",
                stamp()
            );
            api.post_message(
                inbox,
                &format!("c-{}", i % CONTACTS as u64),
                &format!("f-{i}"),
                &text,
            )
            .await
        }
    })
    .await;
    if fixed.failed > 0 {
        bail!(
            "{} posts failed: {}",
            fixed.failed,
            fixed.first_error.unwrap_or_default()
        );
    }
    // A server that cannot keep up shows it here: what did not arrive in time is a number to
    // report, not a broken scenario.
    let fixed_seen = match arrived(&counters, fixed.sent, Duration::from_secs(60)).await {
        Ok(()) => fixed.sent,
        Err(_) => counters.latency_count(),
    };
    reader.abort();
    let request = request.lock().map(|l| l.clone()).unwrap_or_default();
    Ok(Measured {
        clients,
        messages: messages as u64,
        msgs_per_sec: messages as f64 / secs,
        frame,
        request,
        fixed_sent: fixed.sent,
        fixed_seen,
        fixed: counters.latency(),
    })
}

/// Waits until the console has seen `expected` stamped messages.
async fn arrived(counters: &Counters, expected: u64, wait: Duration) -> Result<()> {
    let started = Instant::now();
    while counters.latency_count() < expected {
        if started.elapsed() > wait {
            bail!(
                "the console saw {} of {expected} messages within {wait:?}",
                counters.latency_count()
            );
        }
        sleep(Duration::from_millis(2)).await;
    }
    Ok(())
}

/// Runs one statement on the PostgreSQL server as `postgres`.
async fn psql(sql: &str) -> Result<()> {
    let output = Command::new(which("psql").context("psql is not installed")?)
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
            "-q",
            "-c",
            sql,
        ])
        .output()
        .await?;
    if !output.status.success() {
        bail!("psql {sql:?}: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(())
}

/// pgbench on PATH or where Debian keeps it.
fn pgbench_binary() -> Option<std::path::PathBuf> {
    which("pgbench").or_else(|| {
        let mut found: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("bin/pgbench"))
            .filter(|p| p.is_file())
            .collect();
        found.sort();
        found.pop()
    })
}

/// pgbench's message inserts with `clients` clients: (transactions per second, average latency).
async fn pgbench(ctx: &Ctx, db: &str, clients: usize) -> Result<(f64, f64)> {
    let dir = ctx.paths.root.join("bench/pgbench");
    let schema = Command::new(which("psql").context("psql is not installed")?)
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            db,
            "-v",
            "ON_ERROR_STOP=1",
            "-q",
            "-f",
        ])
        .arg(dir.join("schema.sql"))
        .output()
        .await?;
    if !schema.status.success() {
        bail!("schema: {}", String::from_utf8_lossy(&schema.stderr));
    }
    let output = pinned(
        LOADGEN_CORE,
        pgbench_binary().context("pgbench is not installed")?,
    )
    .args(["-n", "-h", "127.0.0.1", "-U", "postgres", "-j", "2"])
    .arg("-c")
    .arg(clients.to_string())
    .arg("-T")
    .arg(ctx.mode.fixed_rate_secs().to_string())
    .arg("-f")
    .arg(dir.join("insert.sql"))
    .arg(db)
    .output()
    .await?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "pgbench: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let number_after = |prefix: &str| -> Option<f64> {
        stdout
            .lines()
            .find_map(|line| line.trim().strip_prefix(prefix))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
    };
    let tps = number_after("tps = ").context("no tps in pgbench's output")?;
    let latency = number_after("latency average = ").unwrap_or(0.0);
    Ok((tps, latency))
}
