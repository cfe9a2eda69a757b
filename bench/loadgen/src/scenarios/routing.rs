//! Scenario 5, routing: the pure routing rules over 1,000 agents and 100,000 waiting
//! conversations, from the project's `routing_throughput` example (built by bench/run).

use anyhow::{bail, Context, Result};
use serde_json::Value;

use super::Ctx;
use crate::report::Row;
use crate::server::{pinned, SERVER_CORE};

pub async fn run(ctx: &Ctx) -> Result<Vec<Row>> {
    let binary = ctx.paths.release.join("examples/routing_throughput");
    if !binary.is_file() {
        bail!(
            "{} is missing: cargo build --release --example routing_throughput",
            binary.display()
        );
    }
    let output = pinned(SERVER_CORE, &binary).output().await?;
    if !output.status.success() {
        bail!(
            "routing_throughput failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .context("routing_throughput printed no JSON line")?;
    let result: Value = serde_json::from_str(line)?;
    let per_sec = result["decisions_per_sec"]
        .as_f64()
        .context("no decisions_per_sec")?;
    Ok(vec![Row::new(
        "routing",
        "routing decisions per second",
        per_sec,
        "/s",
    )
    .note(format!(
        "{} agents, {} waiting, {} assignments in {} s, one core",
        result["agents"], result["waiting"], result["decisions"], result["seconds"]
    ))])
}
