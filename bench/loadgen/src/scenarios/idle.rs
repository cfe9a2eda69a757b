//! Scenario 1, idle: how much memory a held, silent socket costs the server, and how fast
//! sockets open. Switchboard's console and visitor sockets against peers doing the same job:
//! Node `ws`, Socket.IO and Python `websockets`.

use anyhow::{bail, Result};
use tokio::time::{sleep, Duration, Instant};

use super::Ctx;
use crate::api::{self, Api};
use crate::pool::Pool;
use crate::report::Row;
use crate::server::{Server, SwitchboardOptions};
use crate::ws::Protocol;

const SCENARIO: &str = "idle";

/// What one server did with `sockets` idle sockets.
struct Idle {
    label: &'static str,
    sockets: u64,
    failed: u64,
    kib_per_socket: f64,
    connects_per_sec: f64,
}

pub async fn run(ctx: &Ctx) -> Result<Vec<Row>> {
    let n = ctx.mode.idle_sockets();
    let console = switchboard_console(ctx, n).await?;
    let widget = switchboard_widget(ctx, n).await?;
    let ws = peer(
        ctx,
        n,
        "node ws",
        Server::node(&ctx.paths, "idle-node-ws", "ws-server.js"),
    )
    .await?;
    let socketio = peer(
        ctx,
        n,
        "socket.io",
        Server::node(&ctx.paths, "idle-socketio", "socketio-server.js"),
    )
    .await?;
    let python = peer(
        ctx,
        n,
        "python websockets",
        Server::python(&ctx.paths, "idle-python"),
    )
    .await?;

    let mut rows = Vec::new();
    for idle in [&console, &widget, &ws, &socketio, &python] {
        let ratio = idle.kib_per_socket / ws.kib_per_socket;
        let mut memory = Row::new(
            SCENARIO,
            &format!("{}: memory per socket", idle.label),
            idle.kib_per_socket,
            "KiB",
        )
        .note(format!(
            "{} sockets held{}; {ratio:.2}x node ws",
            idle.sockets,
            if idle.failed > 0 {
                format!(", {} failed", idle.failed)
            } else {
                String::new()
            }
        ));
        if idle.label.starts_with("switchboard") {
            memory = memory.target(
                "≤ 4 KiB and ≤ 0.5x ws",
                idle.kib_per_socket <= 4.0 && ratio <= 0.5,
            );
        }
        rows.push(memory);
        rows.push(Row::new(
            SCENARIO,
            &format!("{}: connect rate", idle.label),
            idle.connects_per_sec,
            "sockets/s",
        ));
    }
    Ok(rows)
}

async fn switchboard_console(ctx: &Ctx, n: usize) -> Result<Idle> {
    let server =
        Server::switchboard(&ctx.paths, "idle-console", SwitchboardOptions::default()).await?;
    let api = Api::login(server.addr).await?;
    let path = format!("/api/v1/ws?token={}", api.token());
    let idle = measure(&server, "switchboard console", n, |_, _| {
        args(Protocol::Console, &server, &["--path", &path])
    })
    .await?;
    server.stop().await?;
    Ok(idle)
}

async fn switchboard_widget(ctx: &Ctx, n: usize) -> Result<Idle> {
    let server =
        Server::switchboard(&ctx.paths, "idle-widget", SwitchboardOptions::default()).await?;
    let api = Api::login(server.addr).await?;
    let inbox = api.create_inbox("Website", "web_chat").await?;
    let Some(website_token) = inbox["settings"]["website_token"].as_str() else {
        bail!("the web_chat inbox has no settings.website_token: {inbox}");
    };
    api::inbox_id(&inbox)?;
    let idle = measure(&server, "switchboard widget", n, |_, _| {
        args(
            Protocol::Widget,
            &server,
            &["--website-token", website_token],
        )
    })
    .await?;
    server.stop().await?;
    Ok(idle)
}

async fn peer(
    ctx: &Ctx,
    n: usize,
    label: &'static str,
    server: impl std::future::Future<Output = Result<Server>>,
) -> Result<Idle> {
    let _ = ctx;
    let server = server.await?;
    let protocol = if label == "socket.io" {
        Protocol::Socketio
    } else {
        Protocol::Ws
    };
    let path = if protocol == Protocol::Socketio {
        "/socket.io/?EIO=4&transport=websocket"
    } else {
        "/"
    };
    let idle = measure(&server, label, n, |_, _| {
        args(protocol, &server, &["--path", path])
    })
    .await?;
    server.stop().await?;
    Ok(idle)
}

/// Worker arguments for `protocol` against `server`, plus `extra`.
fn args(protocol: Protocol, server: &Server, extra: &[&str]) -> Vec<String> {
    let protocol = match protocol {
        Protocol::Console => "console",
        Protocol::Widget => "widget",
        Protocol::Ws => "ws",
        Protocol::Socketio => "socketio",
    };
    let mut args = vec![
        "--protocol".to_owned(),
        protocol.to_owned(),
        "--addr".to_owned(),
        server.addr.to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// Server RSS before and after `n` sockets open (workers prepared first, so visitor sessions
/// are not counted), and how long opening them took.
async fn measure(
    server: &Server,
    label: &'static str,
    n: usize,
    worker_args: impl Fn(usize, usize) -> Vec<String>,
) -> Result<Idle> {
    eprintln!("   {label}: preparing {n} sockets");
    let mut pool = Pool::start(n, Duration::from_secs(600), worker_args).await?;
    sleep(Duration::from_secs(1)).await;
    let before = server.rss_kib()?;
    let started = Instant::now();
    let connected = pool.go(Duration::from_secs(600)).await?;
    let secs = started.elapsed().as_secs_f64();
    // Let allocations settle (first pings, lazily grown buffers) before reading memory.
    sleep(Duration::from_secs(3)).await;
    let after = server.rss_kib()?;
    let report = pool.report().await?;
    pool.stop().await;
    eprintln!(
        "   {label}: {} open, {} failed in {secs:.2} s; RSS {before} -> {after} KiB; {} closed by the server",
        connected.ok, connected.failed, report.closed
    );
    if (connected.ok as f64) < 0.99 * n as f64 {
        bail!(
            "{label}: only {} of {n} sockets opened; first error: {}",
            connected.ok,
            connected.first_error.unwrap_or_default()
        );
    }
    Ok(Idle {
        label,
        sockets: connected.ok,
        failed: connected.failed,
        kib_per_socket: after.saturating_sub(before) as f64 / connected.ok as f64,
        connects_per_sec: connected.ok as f64 / secs,
    })
}
