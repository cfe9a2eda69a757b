//! Scenario 2, fanout: S admin consoles subscribed, a stream of ingested messages; every console
//! receives every event. Deliveries per server CPU-second and post-to-frame latency, next to a
//! Node `ws` server broadcasting frames of the same size to the same number of sockets.

use anyhow::{bail, Context, Result};
use serde_json::json;
use tokio::time::{sleep, Duration, Instant};

use super::{paced, Ctx};
use crate::api::{self, Api};
use crate::pool::{Pool, Report};
use crate::report::Row;
use crate::server::{Server, SwitchboardOptions};
use crate::stats::stamp;

const SCENARIO: &str = "fanout";

/// Contacts the stream's messages come from (each gets its conversation during the warm-up).
const CONTACTS: u64 = 20;

/// What one side measured.
struct Fanout {
    sockets: u64,
    posted: u64,
    report: Report,
    cpu_secs: f64,
}

impl Fanout {
    fn per_cpu_sec(&self) -> f64 {
        self.report.events as f64 / self.cpu_secs.max(0.001)
    }
}

pub async fn run(ctx: &Ctx) -> Result<Vec<Row>> {
    let s = ctx.mode.fanout_sockets();
    let (rate, secs) = ctx.mode.fanout_rate();
    let switchboard = switchboard(ctx, s, rate, secs).await?;
    // The peer gets as many broadcasts per second as Switchboard delivered frames per socket, each
    // the size of Switchboard's average frame.
    let frames_per_message = (switchboard.report.events as f64
        / (switchboard.posted * switchboard.sockets).max(1) as f64)
        .round()
        .max(1.0) as u64;
    let frame_bytes = (switchboard.report.bytes / switchboard.report.frames.max(1)) as usize;
    let ws = node_ws(ctx, s, rate * frames_per_message, secs, frame_bytes).await?;

    let ratio = switchboard.per_cpu_sec() / ws.per_cpu_sec();
    let sb_p99 = switchboard.report.latency.quantile_ms(0.99);
    let note = |f: &Fanout| {
        format!(
            "{} sockets, {} deliveries in {:.2} CPU-s, {} resyncs, {} closed",
            f.sockets, f.report.events, f.cpu_secs, f.report.resyncs, f.report.closed
        )
    };
    Ok(vec![
        Row::new(SCENARIO, "switchboard: deliveries per CPU-second", switchboard.per_cpu_sec(), "/CPU-s")
            .target("≥ 2x ws", ratio >= 2.0)
            .note(format!("{}; {ratio:.2}x node ws", note(&switchboard))),
        Row::new(SCENARIO, "switchboard: p99 post → frame", sb_p99, "ms")
            .target("< 50 ms", sb_p99 < 50.0)
            .note(format!(
                "p50 {:.2} ms; {} msg/s for {secs} s, {frames_per_message} frames of ~{frame_bytes} B per message per socket",
                switchboard.report.latency.quantile_ms(0.5),
                rate
            )),
        Row::new(SCENARIO, "node ws: deliveries per CPU-second", ws.per_cpu_sec(), "/CPU-s")
            .note(note(&ws)),
        Row::new(SCENARIO, "node ws: p99 post → frame", ws.report.latency.quantile_ms(0.99), "ms")
            .note(format!("p50 {:.2} ms", ws.report.latency.quantile_ms(0.5))),
    ])
}

async fn switchboard(ctx: &Ctx, s: usize, rate: u64, secs: u64) -> Result<Fanout> {
    let server = Server::switchboard(&ctx.paths, "fanout", SwitchboardOptions::default()).await?;
    let api = Api::login(server.addr).await?;
    let inbox = api::inbox_id(&api.create_inbox("Fanout", "api").await?)?;
    // Conversations exist before the measured stream: it is messages into open conversations.
    for c in 0..CONTACTS {
        api.post_message(inbox, &format!("fan-{c}"), &format!("warm-{c}"), "warm-up")
            .await?;
    }
    let path = format!("/api/v1/ws?token={}", api.token());
    let addr = server.addr.to_string();
    let mut pool = Pool::start(s, Duration::from_secs(120), |_, _| {
        vec![
            "--protocol".into(),
            "console".into(),
            "--addr".into(),
            addr.clone(),
            "--path".into(),
            path.clone(),
        ]
    })
    .await?;
    let connected = pool.go(Duration::from_secs(600)).await?;
    if connected.ok != s as u64 {
        bail!(
            "{} of {s} consoles opened: {}",
            connected.ok,
            connected.first_error.unwrap_or_default()
        );
    }
    eprintln!("   switchboard: {s} consoles open; posting {rate} msg/s for {secs} s");
    sleep(Duration::from_secs(2)).await;
    pool.send("mark").await?;
    let cpu_before = server.cpu_secs()?;
    let sent = paced::run(rate, secs, |i| {
        let api = api.clone();
        async move {
            let text = format!("{} fanout message {i}", stamp());
            api.post_message(
                inbox,
                &format!("fan-{}", i % CONTACTS),
                &format!("m-{i}"),
                &text,
            )
            .await
        }
    })
    .await;
    if sent.failed > 0 {
        bail!(
            "{} posts failed: {}",
            sent.failed,
            sent.first_error.unwrap_or_default()
        );
    }
    let report = drain(&mut pool, sent.sent * s as u64, |r| r.latency.count()).await?;
    let cpu_secs = server.cpu_secs()? - cpu_before;
    pool.stop().await;
    server.stop().await?;
    Ok(Fanout {
        sockets: s as u64,
        posted: sent.sent,
        report,
        cpu_secs,
    })
}

async fn node_ws(ctx: &Ctx, s: usize, rate: u64, secs: u64, frame_bytes: usize) -> Result<Fanout> {
    let server = Server::node(&ctx.paths, "fanout-node-ws", "ws-server.js").await?;
    let addr = server.addr.to_string();
    let mut pool = Pool::start(s, Duration::from_secs(120), |_, _| {
        vec![
            "--protocol".into(),
            "ws".into(),
            "--addr".into(),
            addr.clone(),
        ]
    })
    .await?;
    let connected = pool.go(Duration::from_secs(600)).await?;
    if connected.ok != s as u64 {
        bail!("{} of {s} ws sockets opened", connected.ok);
    }
    eprintln!("   node ws: {s} sockets open; broadcasting {rate}/s for {secs} s");
    sleep(Duration::from_secs(2)).await;
    pool.send("mark").await?;
    let cpu_before = server.cpu_secs()?;
    let http = api::http_client()?;
    let url = format!("http://{}/broadcast", server.addr);
    let sent = paced::run(rate, secs, |i| {
        let request = http.post(&url).body(frame(i, frame_bytes));
        async move {
            let response = request.send().await?;
            if !response.status().is_success() {
                bail!("broadcast answered {}", response.status());
            }
            Ok(())
        }
    })
    .await;
    if sent.failed > 0 {
        bail!(
            "{} broadcasts failed: {}",
            sent.failed,
            sent.first_error.unwrap_or_default()
        );
    }
    let report = drain(&mut pool, sent.sent * s as u64, |r| r.events).await?;
    let cpu_secs = server.cpu_secs()? - cpu_before;
    pool.stop().await;
    server.stop().await?;
    Ok(Fanout {
        sockets: s as u64,
        posted: sent.sent,
        report,
        cpu_secs,
    })
}

/// A console-like event frame of about `bytes` bytes carrying a stamp.
fn frame(i: u64, bytes: usize) -> String {
    let base = json!({"v": 1, "type": "event", "event": {"seq": i, "kind": "message.created",
        "payload": {"text": format!("{} fanout message {i}", stamp())}, "pad": ""}})
    .to_string();
    let pad = "x".repeat(bytes.saturating_sub(base.len()));
    base.replace("\"pad\":\"\"", &format!("\"pad\":\"{pad}\""))
}

/// Asks the workers for counters until `progress` reaches `expected` or stops moving (≤ 60 s).
async fn drain(
    pool: &mut Pool,
    expected: u64,
    progress: impl Fn(&Report) -> u64,
) -> Result<Report> {
    let started = Instant::now();
    let mut last = (0, Instant::now());
    loop {
        let report = pool
            .report()
            .await
            .context("reading the workers' counters")?;
        let now = progress(&report);
        if now >= expected {
            return Ok(report);
        }
        if now != last.0 {
            last = (now, Instant::now());
        }
        if last.1.elapsed() > Duration::from_secs(10) || started.elapsed() > Duration::from_secs(60)
        {
            eprintln!("   only {now} of {expected} deliveries arrived");
            return Ok(report);
        }
        sleep(Duration::from_millis(250)).await;
    }
}
