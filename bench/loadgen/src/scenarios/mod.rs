//! The scenarios of `loadgen run`, each a function from the context to rows of the table.

use anyhow::{bail, Result};

use crate::report::Row;
use crate::server::Paths;

mod email;
mod fanout;
mod forwarded;
mod idle;
mod inbox_scale;
mod ingest;
mod paced;
mod process;
mod reconnect;
mod routing;
mod webhooks;
mod widget_size;

/// Every scenario, in the order a full run takes them.
pub const ALL: &[&str] = &[
    "idle",
    "fanout",
    "ingest-sqlite",
    "ingest-postgres",
    "webhook-ingest",
    "routing",
    "inbox-scale",
    "reconnect",
    "process",
    "widget-size",
    "email-sync",
    "mime-parse",
    "forwarded-mail",
];

/// How big a run is: `--quick` for CI (minutes), full for the README (under 30 minutes).
#[derive(Clone, Copy, Debug)]
pub struct Mode {
    pub quick: bool,
}

impl Mode {
    fn pick<T>(self, quick: T, full: T) -> T {
        if self.quick {
            quick
        } else {
            full
        }
    }

    /// Idle sockets per server. Full stays under the 20,000-descriptor limit of one process.
    pub fn idle_sockets(self) -> usize {
        self.pick(1_000, 18_000)
    }

    /// Subscribed consoles in the fanout scenario.
    pub fn fanout_sockets(self) -> usize {
        self.pick(200, 10_000)
    }

    /// Messages per second posted while fanning out, and for how long.
    pub fn fanout_rate(self) -> (u64, u64) {
        self.pick((20, 5), (4, 20))
    }

    /// Concurrent API clients in the ingest scenarios (and pgbench).
    pub fn ingest_clients(self) -> usize {
        self.pick(8, 32)
    }

    /// Messages posted by the closed-loop ingest phase.
    pub fn ingest_messages(self) -> usize {
        self.pick(2_000, 30_000)
    }

    /// Conversations in the two stores of the inbox-scale scenario (ten messages each).
    pub fn inbox_sizes(self) -> [u64; 2] {
        self.pick([2_000, 20_000], [100_000, 1_000_000])
    }

    /// Mails in the IMAP mailbox the email-sync scenario reads.
    pub fn mailbox_size(self) -> usize {
        self.pick(2_000, 50_000)
    }

    /// Mails sent to the forwarded-mail listener (and to smtp-sink, the limit).
    pub fn forwarded_mails(self) -> usize {
        self.pick(1_000, 10_000)
    }

    /// Seconds each side parses the MIME mix for.
    pub fn parse_secs(self) -> u64 {
        self.pick(2, 8)
    }

    /// The reconnect storm: sockets, agents, the flow and when the server is killed. Full leaves
    /// the one server process room under its 20,000-descriptor limit for the HTTP connections
    /// of the flow and the widgets' catch-up (at 18,000 sockets it reached its connection
    /// ceiling and turned reconnects away).
    pub fn storm(self) -> reconnect::Storm {
        self.pick(
            reconnect::Storm {
                consoles: 200,
                widgets: 200,
                agents: 10,
                rate: 200,
                secs: 10,
                kill_at: 4,
            },
            reconnect::Storm {
                consoles: 8_000,
                widgets: 8_000,
                agents: 250,
                rate: 1_000,
                secs: 40,
                kill_at: 10,
            },
        )
    }

    /// Seconds of the fixed 1,000 msg/s phase and of pgbench.
    pub fn fixed_rate_secs(self) -> u64 {
        self.pick(3, 10)
    }
}

/// What every scenario gets.
pub struct Ctx {
    pub paths: Paths,
    pub mode: Mode,
}

/// Runs one scenario by name.
pub async fn run(name: &str, ctx: &Ctx) -> Result<Vec<Row>> {
    match name {
        "idle" => idle::run(ctx).await,
        "fanout" => fanout::run(ctx).await,
        "ingest-sqlite" => ingest::run_sqlite(ctx).await,
        "ingest-postgres" => ingest::run_postgres(ctx).await,
        "webhook-ingest" => webhooks::run(ctx).await,
        "routing" => routing::run(ctx).await,
        "inbox-scale" => inbox_scale::run(ctx).await,
        "reconnect" => reconnect::run(ctx).await,
        "process" => process::run(ctx).await,
        "widget-size" => widget_size::run(ctx).await,
        "email-sync" => email::sync(ctx).await,
        "mime-parse" => email::parse(ctx).await,
        "forwarded-mail" => forwarded::run(ctx).await,
        other => bail!("unknown scenario {other:?}; known: {}", ALL.join(", ")),
    }
}
