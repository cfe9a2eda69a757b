//! `loadgen sockets`: one worker process that opens and holds many sockets.
//!
//! The driver runs several of these (a process may hold fewer than 20,000 descriptors) and steers
//! them over a line protocol. Worker → driver, one JSON object per stdout line:
//! `{"event":"prepared"}`, `{"event":"connected","ok","failed","secs","error"}`,
//! `{"event":"report","frames","bytes","events","resyncs","closed","latency"}`.
//! Driver → worker, one word per stdin line: `go` (open the sockets), `mark` (start a new
//! measurement window), `report`, `stop` (or end of input).

use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use anyhow::{bail, Result};
use futures::StreamExt;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::time::{Duration, Instant};

use crate::api;
use crate::ws::{self, Counters, Protocol};

#[derive(clap::Args, Debug)]
pub struct SocketsArgs {
    /// What the server speaks.
    #[arg(long, value_enum)]
    pub protocol: Protocol,
    /// The server, e.g. 127.0.0.1:8080.
    #[arg(long)]
    pub addr: SocketAddr,
    /// Path and query of the socket, e.g. "/api/v1/ws?token=…" (not used with --website-token).
    #[arg(long, default_value = "/")]
    pub path: String,
    /// Open a website-chat visitor session per socket first, with this website token.
    #[arg(long)]
    pub website_token: Option<String>,
    /// Sockets to open.
    #[arg(long)]
    pub count: usize,
    /// Index of this worker's first socket among all workers (spreads source addresses).
    #[arg(long, default_value_t = 0)]
    pub first: usize,
    /// Sockets being opened at once.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// The worker exits after this long whatever happens.
    #[arg(long, default_value_t = 900)]
    pub max_secs: u64,
}

fn emit(value: Value) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{value}");
    let _ = out.flush();
}

/// The next command from the driver; `stop` at end of input.
async fn command(lines: &mut tokio::io::Lines<BufReader<tokio::io::Stdin>>) -> String {
    match lines.next_line().await {
        Ok(Some(line)) => line.trim().to_owned(),
        _ => "stop".to_owned(),
    }
}

pub async fn run(args: SocketsArgs) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(args.max_secs);
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let paths = prepare(&args).await?;
    emit(json!({"event": "prepared", "count": paths.len()}));

    match tokio::time::timeout_at(deadline, command(&mut lines)).await {
        Ok(word) if word == "go" => {}
        Ok(_) | Err(_) => return Ok(()),
    }
    let counters = Arc::new(Counters::default());
    let started = Instant::now();
    let protocol = args.protocol;
    let addr = args.addr;
    let first = args.first;
    let results: Vec<Result<()>> = futures::stream::iter(paths.into_iter().enumerate())
        .map(|(i, path)| {
            let counters = counters.clone();
            async move {
                let socket = ws::open(protocol, ws::source(first + i), addr, &path).await?;
                tokio::spawn(async move { ws::hold(protocol, socket, &counters, deadline).await });
                Ok(())
            }
        })
        .buffer_unordered(args.concurrency.max(1))
        .collect()
        .await;
    let secs = started.elapsed().as_secs_f64();
    let failed: Vec<&anyhow::Error> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    emit(json!({
        "event": "connected",
        "ok": results.len() - failed.len(),
        "failed": failed.len(),
        "secs": secs,
        "error": failed.first().map(|e| format!("{e:#}")),
    }));

    // Bounded by the deadline: a driver that never says stop cannot keep the worker alive.
    while let Ok(word) = tokio::time::timeout_at(deadline, command(&mut lines)).await {
        match word.as_str() {
            "mark" => counters.reset(),
            "report" => emit(json!({
                "event": "report",
                "frames": counters.frames.load(Relaxed),
                "bytes": counters.bytes.load(Relaxed),
                "events": counters.events.load(Relaxed),
                "resyncs": counters.resyncs.load(Relaxed),
                "closed": counters.closed.load(Relaxed),
                "latency": counters.latency().to_json(),
            })),
            "stop" => break,
            other => bail!("unknown command {other:?}"),
        }
    }
    Ok(())
}

/// The path of every socket: the same one, or one visitor session each.
async fn prepare(args: &SocketsArgs) -> Result<Vec<String>> {
    let Some(website_token) = &args.website_token else {
        return Ok(vec![args.path.clone(); args.count]);
    };
    let http = api::http_client()?;
    let sessions: Vec<Result<String>> = futures::stream::iter(0..args.count)
        .map(|_| api::widget_session(&http, args.addr, website_token))
        .buffer_unordered(args.concurrency.max(1))
        .collect()
        .await;
    sessions
        .into_iter()
        .map(|token| Ok(format!("/widget/v1/ws?token={}", token?)))
        .collect()
}
