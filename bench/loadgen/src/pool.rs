//! The driver's side of `loadgen sockets`: several worker processes that together hold the
//! sockets of one measurement (a process may have fewer than 20,000 descriptors).

use std::process::Stdio;

use anyhow::{bail, Context, Result};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};
use tokio::time::{timeout, Duration};

use crate::server::{pinned, LOADGEN_CORE};
use crate::stats::Latency;

/// The most sockets one worker holds.
pub const PER_WORKER: usize = 5_000;

struct Worker {
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
}

pub struct Pool {
    workers: Vec<Worker>,
}

/// What the workers said after `go`.
#[derive(Debug, Default)]
pub struct Connected {
    pub ok: u64,
    pub failed: u64,
    pub first_error: Option<String>,
}

/// The sum of the workers' reports.
#[derive(Default)]
pub struct Report {
    pub frames: u64,
    pub bytes: u64,
    pub events: u64,
    pub resyncs: u64,
    pub closed: u64,
    pub latency: Latency,
}

impl Pool {
    /// Starts enough workers for `total` sockets; `args(first, count)` gives each worker's
    /// arguments after `sockets`. Returns once every worker is prepared.
    pub async fn start(
        total: usize,
        prepare_timeout: Duration,
        args: impl Fn(usize, usize) -> Vec<String>,
    ) -> Result<Pool> {
        Pool::start_as("sockets", total, prepare_timeout, args).await
    }

    /// Like [`Pool::start`] with another worker subcommand (`sockets`, `reconnecting`).
    pub async fn start_as(
        subcommand: &str,
        total: usize,
        prepare_timeout: Duration,
        args: impl Fn(usize, usize) -> Vec<String>,
    ) -> Result<Pool> {
        let exe = std::env::current_exe()?;
        let mut workers = Vec::new();
        let mut first = 0;
        while first < total {
            let count = PER_WORKER.min(total - first);
            let mut child = pinned(LOADGEN_CORE, &exe)
                .arg(subcommand)
                .args(args(first, count))
                .arg("--first")
                .arg(first.to_string())
                .arg("--count")
                .arg(count.to_string())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .kill_on_drop(true)
                .spawn()
                .context("starting a loadgen worker")?;
            let stdin = child.stdin.take().context("worker stdin")?;
            let stdout = child.stdout.take().context("worker stdout")?;
            workers.push(Worker {
                child,
                stdin,
                lines: BufReader::new(stdout).lines(),
            });
            first += count;
        }
        let mut pool = Pool { workers };
        pool.expect("prepared", prepare_timeout).await?;
        Ok(pool)
    }

    /// Sends one command line to every worker.
    pub async fn send(&mut self, word: &str) -> Result<()> {
        for worker in &mut self.workers {
            worker
                .stdin
                .write_all(format!("{word}\n").as_bytes())
                .await?;
            worker.stdin.flush().await?;
        }
        Ok(())
    }

    /// Reads the next line of every worker; each must be the event `event`.
    pub async fn expect(&mut self, event: &str, wait: Duration) -> Result<Vec<Value>> {
        let mut answers = Vec::new();
        for worker in &mut self.workers {
            let line = timeout(wait, worker.lines.next_line())
                .await
                .with_context(|| format!("no {event:?} from a worker within {wait:?}"))??
                .with_context(|| format!("a worker exited before {event:?}"))?;
            let value: Value =
                serde_json::from_str(&line).with_context(|| format!("a worker said {line:?}"))?;
            if value["event"] != event {
                bail!("expected {event:?} from a worker, got {line}");
            }
            answers.push(value);
        }
        Ok(answers)
    }

    /// Sends `word` to the workers one at a time, each followed by its answer `event` (for
    /// commands whose argument differs per worker, such as `dump PATH`).
    pub async fn ask_each(
        &mut self,
        word: impl Fn(usize) -> String,
        event: &str,
        wait: Duration,
    ) -> Result<()> {
        for (i, worker) in self.workers.iter_mut().enumerate() {
            worker
                .stdin
                .write_all(format!("{}\n", word(i)).as_bytes())
                .await?;
            worker.stdin.flush().await?;
            let line = timeout(wait, worker.lines.next_line())
                .await
                .with_context(|| format!("no {event:?} from a worker within {wait:?}"))??
                .with_context(|| format!("a worker exited before {event:?}"))?;
            if !line.contains(&format!("\"{event}\"")) {
                bail!("expected {event:?} from a worker, got {line}");
            }
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.workers.len()
    }

    /// Tells the workers to open their sockets and waits until they did (or gave up).
    pub async fn go(&mut self, wait: Duration) -> Result<Connected> {
        self.send("go").await?;
        let mut connected = Connected::default();
        for answer in self.expect("connected", wait).await? {
            connected.ok += answer["ok"].as_u64().unwrap_or(0);
            connected.failed += answer["failed"].as_u64().unwrap_or(0);
            if connected.first_error.is_none() {
                connected.first_error = answer["error"].as_str().map(str::to_owned);
            }
        }
        Ok(connected)
    }

    /// Asks every worker for its counters and adds them up.
    pub async fn report(&mut self) -> Result<Report> {
        self.send("report").await?;
        let mut report = Report::default();
        for answer in self.expect("report", Duration::from_secs(30)).await? {
            let n = |key: &str| answer[key].as_u64().unwrap_or(0);
            report.frames += n("frames");
            report.bytes += n("bytes");
            report.events += n("events");
            report.resyncs += n("resyncs");
            report.closed += n("closed");
            report
                .latency
                .merge(&Latency::from_json(&answer["latency"])?);
        }
        Ok(report)
    }

    /// Tells the workers to stop and waits for them (killing any that hang).
    pub async fn stop(mut self) {
        let _ = self.send("stop").await;
        for worker in &mut self.workers {
            if timeout(Duration::from_secs(10), worker.child.wait())
                .await
                .is_err()
            {
                let _ = worker.child.start_kill();
                let _ = worker.child.wait().await;
            }
        }
    }
}
