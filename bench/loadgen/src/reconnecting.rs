//! `loadgen reconnecting`: one worker process of the reconnect storm. Its sockets behave like the
//! console and the widget do (web/console/live.js, web/widget/transport.js): when the server goes
//! away they retry with exponential backoff and full jitter; a console resumes with `?after=` the
//! last sequence number it applied and drops events it already has; a widget resumes with
//! `?after=` the last message id it has and keys its messages on ids (on `resync` it reloads
//! over REST).
//!
//! Each socket keeps a log of the benchmark messages it received and when; `dump PATH` writes the
//! logs as JSON lines for the driver, which alone knows what was sent and accepted, to judge.
//! Same line protocol as `loadgen sockets`: driver → `go`, `dump PATH`, `stop`; worker →
//! `prepared`, `connected`, `dumped`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context, Result};
use futures::StreamExt;
use rand::Rng;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::Semaphore;
use tokio::time::{sleep, timeout_at, Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

use crate::stats::now_nanos;
use crate::ws::{self, Protocol};

/// The clients' backoff, as in the console and the widget: attempt n waits a uniformly random
/// time up to min(MAX, BASE * 2^n).
const BACKOFF_BASE_MS: u64 = 500;
const BACKOFF_MAX_MS: u64 = 30_000;

/// What a message's text carries so that receivers know which one it is: `storm-<index>`.
pub const MARK: &str = "storm-";

#[derive(clap::Args, Debug)]
pub struct ReconnectingArgs {
    /// The server, e.g. 127.0.0.1:8080 (the same address after the restart).
    #[arg(long)]
    pub addr: SocketAddr,
    /// Tab-separated lines `console|widget`, group, socket path, conversation id, visitor token.
    #[arg(long)]
    pub sockets_file: PathBuf,
    /// This worker's lines of the file: from --first, --count of them.
    #[arg(long)]
    pub first: usize,
    #[arg(long)]
    pub count: usize,
    /// The worker exits after this long whatever happens.
    #[arg(long, default_value_t = 900)]
    pub max_secs: u64,
}

/// One socket to hold, from the driver's file.
#[derive(Clone, Debug)]
struct Client {
    widget: bool,
    group: u64,
    path: String,
    conversation_id: i64,
    visitor_token: String,
}

/// What one socket saw, for the driver to judge.
#[derive(Default)]
struct Log {
    /// (message index, arrival in ms since the epoch), each message once as the client applies it.
    received: Vec<(u64, u64)>,
    /// Console: event frames at or below the sequence already applied (the server sent them
    /// twice or out of order). Widget: always 0 (it keys on message ids).
    repeated: u64,
    resyncs: u64,
    /// Times the socket came back after losing its server.
    reconnects: u64,
    /// When it last came back (its `ready` frame), ms since epoch.
    back_ms: u64,
    /// A reconnect attempt that failed (refused, timed out, rejected), counted for the report.
    failed_attempts: u64,
    /// Why attempts failed (the error's first words), for the driver's log.
    failure: Option<String>,
}

/// The client's side of a socket: where it stands in the stream.
#[derive(Default)]
struct Position {
    /// Console: the last sequence number applied. Widget: the last message id applied.
    last: i64,
    seen_ids: std::collections::HashSet<i64>,
    /// Console told to resync: the next connection starts from now, without `after`.
    fresh: bool,
}

fn emit(value: Value) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{value}");
    let _ = out.flush();
}

fn now_ms() -> u64 {
    now_nanos() / 1_000_000
}

/// The benchmark index inside a message text (`storm-<index>`), if any.
pub fn message_index(text: &str) -> Option<u64> {
    let at = text.find(MARK)? + MARK.len();
    let digits = &text[at..];
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse().ok()
}

fn read_clients(args: &ReconnectingArgs) -> Result<Vec<Client>> {
    let text = std::fs::read_to_string(&args.sockets_file)
        .with_context(|| format!("reading {}", args.sockets_file.display()))?;
    text.lines()
        .skip(args.first)
        .take(args.count)
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            if fields.len() != 5 {
                bail!("a sockets line needs 5 fields: {line:?}");
            }
            Ok(Client {
                widget: fields[0] == "widget",
                group: fields[1].parse()?,
                path: fields[2].to_owned(),
                conversation_id: fields[3].parse().unwrap_or(0),
                visitor_token: fields[4].to_owned(),
            })
        })
        .collect()
}

pub async fn run(args: ReconnectingArgs) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(args.max_secs);
    let clients = read_clients(&args)?;
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    emit(json!({"event": "prepared", "count": clients.len()}));
    if next(&mut lines, deadline).await != "go" {
        return Ok(());
    }

    let http = crate::api::http_client()?;
    // The first connections are opened a few at a time (like the idle scenario); reconnections
    // are paced by each client's own backoff only, as in the field.
    let opening = Arc::new(Semaphore::new(32));
    let (opened_tx, mut opened_rx) = tokio::sync::mpsc::unbounded_channel::<Result<()>>();
    let mut logs = Vec::new();
    let started = Instant::now();
    for (i, client) in clients.into_iter().enumerate() {
        let log = Arc::new(Mutex::new(Log::default()));
        logs.push((client.clone(), log.clone()));
        let task = Task {
            addr: args.addr,
            source: ws::source(args.first + i),
            client,
            log,
            http: http.clone(),
            deadline,
        };
        let opening = opening.clone();
        let opened = opened_tx.clone();
        tokio::spawn(async move { task.run(opening, opened).await });
    }
    drop(opened_tx);
    let (mut ok, mut failed, mut first_error) = (0u64, 0u64, None);
    while let Some(result) = opened_rx.recv().await {
        match result {
            Ok(()) => ok += 1,
            Err(e) => {
                failed += 1;
                first_error.get_or_insert_with(|| format!("{e:#}"));
            }
        }
        if ok + failed == logs.len() as u64 {
            break;
        }
    }
    emit(json!({"event": "connected", "ok": ok, "failed": failed,
        "secs": started.elapsed().as_secs_f64(), "error": first_error}));

    loop {
        let word = next(&mut lines, deadline).await;
        match word.split_once(' ') {
            Some(("dump", path)) => {
                dump(&logs, path)?;
                emit(json!({"event": "dumped"}));
            }
            _ if word == "stop" => return Ok(()),
            _ => bail!("unknown command {word:?}"),
        }
    }
}

/// The next command from the driver; `stop` at end of input or at the deadline.
async fn next(
    lines: &mut tokio::io::Lines<BufReader<tokio::io::Stdin>>,
    deadline: Instant,
) -> String {
    match timeout_at(deadline, lines.next_line()).await {
        Ok(Ok(Some(line))) => line.trim().to_owned(),
        _ => "stop".to_owned(),
    }
}

fn dump(logs: &[(Client, Arc<Mutex<Log>>)], path: &str) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for (client, log) in logs {
        let log = log.lock().map_err(|_| anyhow::anyhow!("a poisoned log"))?;
        let line = json!({
            "kind": if client.widget { "widget" } else { "console" },
            "group": client.group,
            "received": log.received,
            "repeated": log.repeated,
            "resyncs": log.resyncs,
            "reconnects": log.reconnects,
            "back_ms": log.back_ms,
            "failed_attempts": log.failed_attempts,
            "failure": log.failure,
        });
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    Ok(())
}

/// One socket's life: connect, read, and when the server goes, come back.
struct Task {
    addr: SocketAddr,
    source: std::net::IpAddr,
    client: Client,
    log: Arc<Mutex<Log>>,
    http: reqwest::Client,
    deadline: Instant,
}

impl Task {
    async fn run(
        self,
        opening: Arc<Semaphore>,
        opened: tokio::sync::mpsc::UnboundedSender<Result<()>>,
    ) {
        let mut position = Position::default();
        let mut attempt: u32 = 0;
        let mut first = true;
        loop {
            if Instant::now() >= self.deadline {
                return;
            }
            let socket = if first {
                let _permit = opening.acquire().await;
                self.connect(&mut position, false).await
            } else {
                self.connect(&mut position, true).await
            };
            match socket {
                Ok(ws) => {
                    if first {
                        let _ = opened.send(Ok(()));
                        first = false;
                    }
                    attempt = 0;
                    self.read(ws, &mut position).await;
                }
                Err(e) => {
                    if first {
                        // The initial connection is part of the set-up: report and give up.
                        let _ = opened.send(Err(e));
                        return;
                    }
                    if let Ok(mut log) = self.log.lock() {
                        log.failed_attempts += 1;
                        let reason: String = format!("{e:#}").chars().take(80).collect();
                        log.failure = Some(reason);
                    }
                }
            }
            attempt += 1;
            let ceiling = BACKOFF_MAX_MS.min(BACKOFF_BASE_MS << attempt.min(10));
            let wait = rand::thread_rng().gen_range(0..=ceiling);
            sleep(Duration::from_millis(wait)).await;
        }
    }

    /// Opens the socket (a console resumes after its last applied event); a widget that comes
    /// back fetches what it missed over REST before it counts as back.
    async fn connect(&self, position: &mut Position, again: bool) -> Result<ws::Ws> {
        let protocol = if self.client.widget {
            Protocol::Widget
        } else {
            Protocol::Console
        };
        let resume = again && !position.fresh;
        // Both resume over the socket: a console after its last event, a widget after its last
        // message (the server sends what came since before anything live).
        let path = if resume && (!self.client.widget || position.last > 0) {
            format!("{}&after={}", self.client.path, position.last)
        } else {
            self.client.path.clone()
        };
        let (ws, ready) = ws::open_greeted(protocol, self.source, self.addr, &path).await?;
        if !self.client.widget && !resume {
            // A fresh console starts from now.
            position.fresh = false;
            let ready: Value = serde_json::from_str(&ready)?;
            position.last = ready["last_seq"].as_i64().unwrap_or(0);
        }
        if self.client.widget && again && position.last == 0 {
            // Nothing to resume from: the whole conversation over REST, as the widget does.
            self.catch_up(position).await?;
        }
        if again {
            if let Ok(mut log) = self.log.lock() {
                log.reconnects += 1;
                log.back_ms = now_ms();
            }
        }
        Ok(ws)
    }

    /// The widget's REST catch-up: its conversation's messages after the last id it has.
    async fn catch_up(&self, position: &mut Position) -> Result<()> {
        let url = format!(
            "http://{}/widget/v1/conversations/{}/messages?after={}",
            self.addr, self.client.conversation_id, position.last
        );
        let response = self
            .http
            .get(url)
            .bearer_auth(&self.client.visitor_token)
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("catching up answered {}", response.status());
        }
        let body: Value = response.json().await?;
        for message in body["data"].as_array().into_iter().flatten() {
            self.apply_widget_message(message, position);
        }
        Ok(())
    }

    fn apply_widget_message(&self, message: &Value, position: &mut Position) {
        let Some(id) = message["id"].as_i64() else {
            return;
        };
        // The widget keys its list on message ids: the same message twice is one message.
        if !position.seen_ids.insert(id) {
            return;
        }
        position.last = position.last.max(id);
        if let Some(index) = message["text"].as_str().and_then(message_index) {
            if let Ok(mut log) = self.log.lock() {
                log.received.push((index, now_ms()));
            }
        }
    }

    fn apply_console_frame(&self, frame: &Value, position: &mut Position) {
        match frame["type"].as_str() {
            Some("event") => {
                let event = &frame["event"];
                let seq = event["seq"].as_i64().unwrap_or(0);
                if seq <= position.last {
                    if let Ok(mut log) = self.log.lock() {
                        log.repeated += 1;
                    }
                    return;
                }
                position.last = seq;
                if event["kind"] == "message.created" {
                    if let Some(index) = event["payload"]["text"].as_str().and_then(message_index) {
                        if let Ok(mut log) = self.log.lock() {
                            log.received.push((index, now_ms()));
                        }
                    }
                }
            }
            Some("resync") => {
                // The console reloads over REST and follows from now: a fresh connection next.
                if let Ok(mut log) = self.log.lock() {
                    log.resyncs += 1;
                }
                position.fresh = true;
            }
            _ => {}
        }
    }

    /// Reads until the server goes away (or the deadline).
    async fn read(&self, mut ws: ws::Ws, position: &mut Position) {
        loop {
            match timeout_at(self.deadline, ws.next()).await {
                Err(_) => return,
                Ok(Some(Ok(Message::Text(text)))) => {
                    let Ok(frame) = serde_json::from_str::<Value>(text.as_str()) else {
                        continue;
                    };
                    if self.client.widget {
                        match frame["type"].as_str() {
                            Some("message") => {
                                self.apply_widget_message(&frame["message"], position)
                            }
                            // The widget reloads its messages (what it has stays keyed by id).
                            Some("resync") => {
                                if let Ok(mut log) = self.log.lock() {
                                    log.resyncs += 1;
                                }
                                let _ = self.catch_up(position).await;
                            }
                            _ => {}
                        }
                    } else {
                        self.apply_console_frame(&frame, position);
                    }
                }
                Ok(Some(Ok(Message::Close(_)))) | Ok(Some(Err(_))) | Ok(None) => return,
                Ok(Some(Ok(_))) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_indexes_are_read_from_texts() {
        assert_eq!(message_index("bench-t=1 storm-42 Hello"), Some(42));
        assert_eq!(message_index("storm-7"), Some(7));
        assert_eq!(message_index("no mark"), None);
    }
}
