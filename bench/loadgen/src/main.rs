//! Switchboard's load generator and benchmark driver.
//!
//! `loadgen run [--quick] [scenario…]` runs the benchmark (bench/run calls it);
//! `loadgen sockets …` is one worker process holding sockets for the driver;
//! `loadgen raw-sqlite …` measures raw SQLite inserts, the ingest limit.

use clap::{Parser, Subcommand};

mod api;
mod mimeparse;
mod pool;
mod procfs;
mod rawsqlite;
mod reconnecting;
mod report;
mod run;
mod scenarios;
mod server;
mod stats;
mod worker;
mod ws;

#[derive(Parser)]
#[command(
    name = "loadgen",
    about = "Switchboard's benchmark harness (see bench/README.md)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run benchmark scenarios, print the table and write bench/results/latest.json.
    Run(run::RunArgs),
    /// A worker: open sockets, hold them and report (driven over stdin/stdout).
    Sockets(worker::SocketsArgs),
    /// A reconnect-storm worker: sockets that come back like the console and widget do.
    Reconnecting(reconnecting::ReconnectingArgs),
    /// Insert message rows straight into a SQLite file (WAL, synchronous=FULL).
    RawSqlite(rawsqlite::RawArgs),
    /// Parse a directory of .eml files with the email connector for a while; JSON rate out.
    MimeParse(mimeparse::MimeArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // One thread: the generator is pinned to one core, and so is each server.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Run(args) => {
            if !runtime.block_on(run::run(args))? {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Sockets(args) => runtime.block_on(worker::run(args)),
        Command::Reconnecting(args) => runtime.block_on(reconnecting::run(args)),
        Command::RawSqlite(args) => runtime.block_on(rawsqlite::run(args)),
        Command::MimeParse(args) => mimeparse::run(args),
    }
}
