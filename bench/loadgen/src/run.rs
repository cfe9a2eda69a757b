//! `loadgen run`: the benchmark driver behind bench/run. Runs the chosen scenarios one after
//! another (a broken one is reported and the others still run), prints the table and writes it
//! as JSON.

use std::path::PathBuf;

use anyhow::{bail, Result};
use serde_json::json;
use tokio::time::Instant;

use crate::report::{markdown, Row};
use crate::scenarios::{self, Ctx, Mode};
use crate::server::Paths;

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Small sizes, for CI (a couple of minutes).
    #[arg(long)]
    pub quick: bool,
    /// The repository root (default: the current directory).
    #[arg(long)]
    pub root: Option<PathBuf>,
    /// Where the JSON goes (default: ROOT/bench/results/latest.json).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Scenarios to run (default: all): idle, fanout, ingest-sqlite, ingest-postgres, routing,
    /// inbox-scale, reconnect, process, widget-size, email-sync, mime-parse.
    pub scenarios: Vec<String>,
}

/// Runs the scenarios; `Ok(false)` when any of them broke.
pub async fn run(args: RunArgs) -> Result<bool> {
    let root = match args.root {
        Some(root) => root,
        None => std::env::current_dir()?,
    };
    let names: Vec<String> = if args.scenarios.is_empty() {
        scenarios::ALL.iter().map(|s| s.to_string()).collect()
    } else {
        args.scenarios.clone()
    };
    for name in &names {
        if !scenarios::ALL.contains(&name.as_str()) {
            bail!(
                "unknown scenario {name:?}; known: {}",
                scenarios::ALL.join(", ")
            );
        }
    }
    let ctx = Ctx {
        paths: Paths::new(root.clone())?,
        mode: Mode { quick: args.quick },
    };
    let started_at = crate::stats::now_nanos() / 1_000_000_000;
    let run_started = Instant::now();
    let mut rows = Vec::new();
    let mut broken = Vec::new();
    for name in &names {
        eprintln!("== {name}");
        let started = Instant::now();
        match scenarios::run(name, &ctx).await {
            Ok(found) => {
                if let Some(row) = found.iter().find(|r| r.breaks_run) {
                    eprintln!("   {name} FAILED: {} is {}", row.metric, row.shown_value());
                    broken.push(name.clone());
                }
                rows.extend(found)
            }
            Err(e) => {
                eprintln!("   {name} FAILED: {e:#}");
                rows.push(Row::failed(name, &e));
                broken.push(name.clone());
            }
        }
        eprintln!("   ({:.1} s)", started.elapsed().as_secs_f64());
    }
    let _ = std::fs::remove_dir_all(&ctx.paths.scratch);

    let table = markdown(&rows);
    let machine = machine();
    println!("\n{}\n\n{table}", machine["summary"].as_str().unwrap_or(""));
    let out = args
        .out
        .unwrap_or_else(|| root.join("bench/results/latest.json"));
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let document = json!({
        "mode": if args.quick { "quick" } else { "full" },
        "started_at_unix": started_at,
        "seconds": run_started.elapsed().as_secs_f64(),
        "machine": machine,
        "scenarios": names,
        "failed": broken,
        "results": rows.iter().map(Row::to_json).collect::<Vec<_>>(),
        "table_markdown": table,
    });
    std::fs::write(&out, serde_json::to_string_pretty(&document)? + "\n")?;
    eprintln!("wrote {}", out.display());
    if !broken.is_empty() {
        eprintln!("broken scenarios: {}", broken.join(", "));
    }
    Ok(broken.is_empty())
}

/// What the numbers were measured on.
fn machine() -> serde_json::Value {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    // The machine's processors, not this process's affinity: the generator is pinned to one core
    // (available_parallelism would say 1).
    let cores = read("/proc/cpuinfo")
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    let mem_kib: u64 = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|r| r.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_default();
    let kernel = read("/proc/sys/kernel/osrelease").trim().to_owned();
    let nofile = read("/proc/self/limits")
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .map(|l| {
            l.split_whitespace()
                .skip(3)
                .take(2)
                .collect::<Vec<_>>()
                .join("/")
        })
        .unwrap_or_default();
    let mem_gib = mem_kib as f64 / 1_048_576.0;
    json!({
        "cores": cores,
        "memory_gib": mem_gib,
        "cpu": cpu,
        "kernel": kernel,
        "nofile_soft_hard": nofile,
        "summary": format!("machine: {cores} cores ({cpu}), {mem_gib:.0} GiB, Linux {kernel}, open files {nofile}"),
    })
}
