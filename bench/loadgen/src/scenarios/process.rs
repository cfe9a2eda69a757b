//! Scenario 6, process: time from start to a ready /readyz (first start with migrations and the
//! owner account, then a restart), idle memory, and the size of the release binary.

use anyhow::{bail, Result};
use tokio::process::Command;
use tokio::time::{sleep, Duration};

use super::Ctx;
use crate::report::Row;
use crate::server::{which, Server, SwitchboardOptions};

const SCENARIO: &str = "process";

pub async fn run(ctx: &Ctx) -> Result<Vec<Row>> {
    let dir = ctx.paths.fresh_dir("process")?;
    let options = || SwitchboardOptions {
        data_dir: Some(dir.clone()),
        ..Default::default()
    };
    let first = Server::switchboard(&ctx.paths, "process-first", options()).await?;
    let first_ms = first.ready_after.as_secs_f64() * 1_000.0;
    first.stop().await?;
    let again = Server::switchboard(&ctx.paths, "process-restart", options()).await?;
    let restart_ms = again.ready_after.as_secs_f64() * 1_000.0;
    sleep(Duration::from_secs(2)).await;
    let rss_mib = again.rss_kib()? as f64 / 1024.0;
    again.stop().await?;

    let binary = ctx.paths.switchboard();
    let size_mib = std::fs::metadata(&binary)?.len() as f64 / 1_048_576.0;
    let mut rows = vec![
        Row::new(SCENARIO, "start-up to /readyz, first start", first_ms, "ms")
            .note("empty data dir: migrations, secret key, owner account (password hashing)"),
        Row::new(SCENARIO, "start-up to /readyz, restart", restart_ms, "ms"),
        Row::new(SCENARIO, "idle RSS after start", rss_mib, "MiB").note("SQLite, no sockets"),
        Row::new(SCENARIO, "release binary", size_mib, "MiB")
            .note("target/release/switchboard as built"),
    ];
    if which("strip").is_some() {
        let stripped = ctx.paths.fresh_dir("strip")?.join("switchboard");
        let status = Command::new("strip")
            .arg("-o")
            .arg(&stripped)
            .arg(&binary)
            .status()
            .await?;
        if !status.success() {
            bail!("strip failed");
        }
        let stripped_mib = std::fs::metadata(&stripped)?.len() as f64 / 1_048_576.0;
        rows.push(Row::new(
            SCENARIO,
            "release binary, stripped",
            stripped_mib,
            "MiB",
        ));
    }
    Ok(rows)
}
