//! Scenario 6, the reconnect storm: agents' consoles and website visitors' widgets are connected
//! while customer messages flow at a fixed rate; the server is killed (SIGKILL, the worst case of
//! a restart) and started again on the same address and data. The clients come back the way the
//! real console and widget do (backoff with full jitter, resume after the last event, REST
//! catch-up), the senders retry what was not accepted with the same ids (as a provider re-delivers
//! a webhook), and afterwards every socket's log is judged against what the server accepted:
//! how long until 99% of the sockets are back and caught up, and how many messages were lost or
//! duplicated on the way (which must be none).
//!
//! Each agent works one API inbox, with several console tabs open; each visitor has one widget and
//! one conversation. Half the flow are API-channel messages (to the consoles of that inbox's
//! agent), half are visitors' messages (to the visitor's own widget, as another tab would see it).

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context, Result};
use futures::StreamExt;
use serde_json::Value;
use tokio::time::{sleep, Duration, Instant};

use super::{paced, Ctx};
use crate::api::{self, Api};
use crate::pool::Pool;
use crate::report::Row;
use crate::server::{Server, SwitchboardOptions};
use crate::stats::{now_nanos, stamp};

const SCENARIO: &str = "reconnect";
const AGENT_PASSWORD: &str = "storm-agent-password";
/// How long a sender keeps retrying one message before it counts as not accepted, and how long
/// after the flow's last second the senders give up altogether (bounds the run whatever the
/// server does).
const RETRY_FOR: Duration = Duration::from_secs(60);
const GIVE_UP_AFTER_FLOW: Duration = Duration::from_secs(30);

/// How big the storm is.
#[derive(Clone, Copy, Debug)]
pub struct Storm {
    pub consoles: usize,
    pub widgets: usize,
    pub agents: usize,
    /// Messages per second, all through the run.
    pub rate: u64,
    pub secs: u64,
    /// Seconds into the flow when the server is killed.
    pub kill_at: u64,
}

/// Who is connected: each agent's token and inbox, each visitor's token and conversation.
struct Cast {
    agents: Vec<(String, i64)>,
    visitors: Vec<(String, i64)>,
}

fn now_ms() -> u64 {
    now_nanos() / 1_000_000
}

pub async fn run(ctx: &Ctx) -> Result<Vec<Row>> {
    let storm = ctx.mode.storm();
    let data_dir = ctx.paths.fresh_dir(SCENARIO)?;
    let options = |addr| SwitchboardOptions {
        data_dir: Some(data_dir.clone()),
        addr,
        ..Default::default()
    };
    let server = Server::switchboard(&ctx.paths, SCENARIO, options(None)).await?;
    let addr = server.addr;
    let api = Api::login(addr).await?;
    let setup_started = Instant::now();
    let cast = cast(&api, storm).await?;
    eprintln!(
        "   {} agents with their inboxes and {} visitors with a conversation in {:.1} s",
        cast.agents.len(),
        cast.visitors.len(),
        setup_started.elapsed().as_secs_f64()
    );

    let sockets_file = ctx
        .paths
        .fresh_dir("reconnect-sockets")?
        .join("sockets.tsv");
    write_sockets(&sockets_file, &cast, storm)?;
    let total = storm.consoles + storm.widgets;
    let file = sockets_file.display().to_string();
    let mut pool = Pool::start_as("reconnecting", total, Duration::from_secs(60), |_, _| {
        vec![
            "--addr".into(),
            addr.to_string(),
            "--sockets-file".into(),
            file.clone(),
        ]
    })
    .await?;
    let connected = pool.go(Duration::from_secs(600)).await?;
    if connected.ok != total as u64 {
        bail!(
            "{} of {total} sockets opened: {}",
            connected.ok,
            connected.first_error.unwrap_or_default()
        );
    }
    eprintln!(
        "   {} consoles and {} widgets open; {} msg/s for {} s, server killed at {} s",
        storm.consoles, storm.widgets, storm.rate, storm.secs, storm.kill_at
    );
    sleep(Duration::from_secs(2)).await;

    // The flow runs in its own task; this one kills and restarts the server in the middle of it.
    let flow = Flow::new(&api, &cast, storm);
    let flowing = {
        let flow = flow.clone();
        tokio::spawn(async move { flow.run().await })
    };
    sleep(Duration::from_secs(storm.kill_at)).await;
    let cpu_before_kill = server.cpu_secs()?;
    let killed_ms = now_ms();
    server.stop().await?;
    let server = Server::switchboard(&ctx.paths, "reconnect-restarted", options(Some(addr)))
        .await
        .context("restarting the server")?;
    let ready_ms = now_ms();
    eprintln!(
        "   killed and restarted: ready after {} ms",
        ready_ms - killed_ms
    );
    let paced = flowing.await?;
    if paced.failed > 0 {
        // A server that cannot take messages back is a finding to report, not a broken run.
        eprintln!(
            "   {} messages were never accepted: {}",
            paced.failed,
            paced.first_error.as_deref().unwrap_or_default()
        );
    }

    // Judge, giving stragglers time while they still make progress.
    let dumps = ctx.paths.fresh_dir("reconnect-dumps")?;
    let accepted = flow.accepted();
    let settle_started = Instant::now();
    let mut previous_received = None;
    let verdict = loop {
        sleep(Duration::from_secs(3)).await;
        let dir = dumps.clone();
        pool.ask_each(
            |i| format!("dump {}", dir.join(format!("w{i}.jsonl")).display()),
            "dumped",
            Duration::from_secs(120),
        )
        .await?;
        let verdict = judge(&dumps, pool.len(), &accepted, storm, killed_ms, ready_ms)?;
        let done = verdict.lost == 0
            || previous_received == Some(verdict.received)
            || settle_started.elapsed() > Duration::from_secs(60);
        if done {
            break verdict;
        }
        previous_received = Some(verdict.received);
    };
    let mut failures: Vec<_> = verdict.failures.iter().collect();
    failures.sort_by(|a, b| b.1.cmp(a.1));
    for (reason, sockets) in failures.iter().take(5) {
        eprintln!("   {sockets} sockets last failed to reconnect with: {reason}");
    }
    let cpu_secs = server.cpu_secs()? + cpu_before_kill;
    pool.stop().await;
    let peak_kib = crate::procfs::peak_rss_kib(server.pid).unwrap_or(0);
    server.stop().await?;

    Ok(rows(
        storm,
        &verdict,
        &flow,
        ready_ms - killed_ms,
        cpu_secs,
        peak_kib,
    ))
}

/// Agents (each with an inbox of their own and a signed-in session) and visitors (each with a
/// session and a first message, so a conversation).
async fn cast(api: &Api, storm: Storm) -> Result<Cast> {
    let agents: Vec<Result<(String, i64)>> = futures::stream::iter(0..storm.agents)
        .map(|a| async move {
            let email = format!("storm-agent-{a}@switchboard.local");
            let user = api
                .create_agent(&email, &format!("Agent {a}"), AGENT_PASSWORD)
                .await?;
            let inbox = api::inbox_id(&api.create_inbox(&format!("Storm {a}"), "api").await?)?;
            api.add_member(inbox, user).await?;
            let session = api.login_as(&email, AGENT_PASSWORD).await?;
            Ok((session.token().to_owned(), inbox))
        })
        .buffer_unordered(8)
        .collect()
        .await;
    let agents = agents.into_iter().collect::<Result<Vec<_>>>()?;

    let web = api.create_inbox("Storm website", "web_chat").await?;
    let website_token = web["settings"]["website_token"]
        .as_str()
        .context("the web_chat inbox has no settings.website_token")?
        .to_owned();
    let http = api::http_client()?;
    let addr = api.addr()?;
    let visitors: Vec<Result<(String, i64)>> = futures::stream::iter(0..storm.widgets)
        .map(|v| {
            let (http, website_token) = (http.clone(), website_token.clone());
            async move {
                let token = api::widget_session(&http, addr, &website_token).await?;
                let text = format!("{} Hello, visitor {v} here", stamp());
                let conversation =
                    api::visitor_message(&http, addr, &token, &format!("hello-{v}"), &text).await?;
                Ok((token, conversation))
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    let visitors = visitors.into_iter().collect::<Result<Vec<_>>>()?;
    Ok(Cast { agents, visitors })
}

/// One line per socket for the workers: consoles spread evenly over the agents, one widget per
/// visitor.
fn write_sockets(path: &Path, cast: &Cast, storm: Storm) -> Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for c in 0..storm.consoles {
        let agent = c % cast.agents.len();
        let (token, _) = &cast.agents[agent];
        writeln!(out, "console\t{agent}\t/api/v1/ws?token={token}\t0\t-")?;
    }
    for (v, (token, conversation)) in cast.visitors.iter().enumerate() {
        writeln!(
            out,
            "widget\t{v}\t/widget/v1/ws?token={token}\t{conversation}\t{token}"
        )?;
    }
    out.flush()?;
    Ok(())
}

/// Where message `i` goes: even ones through the API channel into agent (i/2 mod agents)'s
/// inbox, odd ones from visitor (i/2 mod visitors).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Agent(usize),
    Visitor(usize),
}

fn target(i: u64, storm: Storm) -> Target {
    let j = (i / 2) as usize;
    if i.is_multiple_of(2) {
        Target::Agent(j % storm.agents)
    } else {
        Target::Visitor(j % storm.widgets)
    }
}

/// The customers' side: messages at a fixed rate, each retried with its own id until accepted.
#[derive(Clone)]
struct Flow {
    api: Api,
    http: reqwest::Client,
    agents: Arc<Vec<(String, i64)>>,
    visitors: Arc<Vec<(String, i64)>>,
    storm: Storm,
    /// When each message was accepted (ms since the epoch); 0 = not (yet).
    accepted_ms: Arc<Mutex<Vec<u64>>>,
    /// Attempts beyond the first, summed: what the restart cost the senders.
    retries: Arc<AtomicU64>,
    /// Nothing is sent or retried after this (the flow starts as soon as it is made).
    give_up_at: Instant,
}

impl Flow {
    fn new(api: &Api, cast: &Cast, storm: Storm) -> Flow {
        Flow {
            api: api.clone(),
            http: api.http().clone(),
            agents: Arc::new(cast.agents.clone()),
            visitors: Arc::new(cast.visitors.clone()),
            storm,
            accepted_ms: Arc::new(Mutex::new(vec![0; (storm.rate * storm.secs) as usize])),
            retries: Arc::new(AtomicU64::new(0)),
            give_up_at: Instant::now() + Duration::from_secs(storm.secs) + GIVE_UP_AFTER_FLOW,
        }
    }

    async fn run(&self) -> paced::Paced {
        paced::run(self.storm.rate, self.storm.secs, |i| {
            let flow = self.clone();
            async move { flow.deliver(i).await }
        })
        .await
    }

    async fn deliver(&self, i: u64) -> Result<()> {
        let started = Instant::now();
        let text = format!(
            "{} {}{i} Where is my parcel?",
            stamp(),
            crate::reconnecting::MARK
        );
        let id = format!("{}{i}", crate::reconnecting::MARK);
        loop {
            let attempt = match target(i, self.storm) {
                Target::Agent(a) => {
                    let inbox = self.agents[a].1;
                    let contact = format!("storm-{a}-{}", (i / 2) % 3);
                    self.api.post_message(inbox, &contact, &id, &text).await
                }
                Target::Visitor(v) => {
                    let token = &self.visitors[v].0;
                    api::visitor_message(&self.http, self.api.addr()?, token, &id, &text)
                        .await
                        .map(|_| ())
                }
            };
            match attempt {
                Ok(()) => {
                    if let Ok(mut accepted) = self.accepted_ms.lock() {
                        accepted[i as usize] = now_ms();
                    }
                    return Ok(());
                }
                Err(e) if started.elapsed() > RETRY_FOR || self.gave_up() => return Err(e),
                Err(_) => {
                    self.retries.fetch_add(1, Relaxed);
                    let wait = 100 + rand::Rng::gen_range(&mut rand::thread_rng(), 0..200);
                    sleep(Duration::from_millis(wait)).await;
                }
            }
        }
    }

    fn gave_up(&self) -> bool {
        Instant::now() > self.give_up_at
    }

    fn accepted(&self) -> Vec<u64> {
        self.accepted_ms
            .lock()
            .map(|a| a.clone())
            .unwrap_or_default()
    }
}

/// What the sockets' logs say against what the server accepted.
#[derive(Debug, Default)]
struct Verdict {
    sockets: u64,
    /// Per socket, ms from the kill until it was connected again (None: never).
    back: Vec<Option<u64>>,
    /// Per socket, ms from the kill until it was back and had every message accepted before
    /// the restarted server was ready (None: never, or something is missing).
    caught_up: Vec<Option<u64>>,
    /// Expected deliveries that never arrived.
    lost: u64,
    /// Deliveries of one message more than once (a second stored copy, or an event replayed
    /// twice past the client's own check).
    duplicated: u64,
    /// Console event frames at or below the last applied sequence (sent again or out of order).
    repeated: u64,
    resyncs: u64,
    failed_attempts: u64,
    /// The last failure of each socket that had one, counted by reason.
    failures: HashMap<String, u64>,
    /// Deliveries received in all (to see whether stragglers still arrive).
    received: u64,
    expected: u64,
}

fn judge(
    dumps: &Path,
    workers: usize,
    accepted: &[u64],
    storm: Storm,
    killed_ms: u64,
    ready_ms: u64,
) -> Result<Verdict> {
    // What each agent's consoles and each visitor's widget should have.
    let mut for_agent = vec![Vec::new(); storm.agents];
    let mut for_visitor = vec![Vec::new(); storm.widgets];
    for (i, &at) in accepted.iter().enumerate() {
        if at == 0 {
            continue;
        }
        match target(i as u64, storm) {
            Target::Agent(a) => for_agent[a].push(i as u64),
            Target::Visitor(v) => for_visitor[v].push(i as u64),
        }
    }
    let mut verdict = Verdict::default();
    for w in 0..workers {
        let path = dumps.join(format!("w{w}.jsonl"));
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        for line in text.lines() {
            let log: Value = serde_json::from_str(line)?;
            let group = log["group"].as_u64().context("a log without a group")? as usize;
            let expected = match log["kind"].as_str() {
                Some("console") => &for_agent[group],
                _ => &for_visitor[group],
            };
            let mut arrivals: HashMap<u64, (u32, u64)> = HashMap::new();
            for pair in log["received"].as_array().into_iter().flatten() {
                let index = pair[0].as_u64().unwrap_or(u64::MAX);
                let at = pair[1].as_u64().unwrap_or(0);
                let entry = arrivals.entry(index).or_insert((0, at));
                entry.0 += 1;
            }
            let n = |key: &str| log[key].as_u64().unwrap_or(0);
            verdict.sockets += 1;
            verdict.repeated += n("repeated");
            verdict.resyncs += n("resyncs");
            verdict.failed_attempts += n("failed_attempts");
            if let Some(reason) = log["failure"].as_str() {
                *verdict.failures.entry(reason.to_owned()).or_default() += 1;
            }
            verdict.received += arrivals
                .values()
                .map(|(count, _)| *count as u64)
                .sum::<u64>();
            verdict.expected += expected.len() as u64;
            verdict.duplicated += arrivals
                .values()
                .map(|(count, _)| (*count as u64).saturating_sub(1))
                .sum::<u64>();
            let lost = expected
                .iter()
                .filter(|i| !arrivals.contains_key(i))
                .count() as u64;
            verdict.lost += lost;
            let back_ms = n("back_ms");
            let back = (n("reconnects") > 0 && back_ms >= killed_ms).then(|| back_ms - killed_ms);
            verdict.back.push(back);
            // Caught up: back, and holding everything accepted before the server was ready again.
            let caught_up = back.filter(|_| lost == 0).map(|back| {
                expected
                    .iter()
                    .filter(|&&i| accepted[i as usize] < ready_ms)
                    .filter_map(|i| arrivals.get(i).map(|(_, at)| at.saturating_sub(killed_ms)))
                    .fold(back, u64::max)
            });
            verdict.caught_up.push(caught_up);
        }
    }
    Ok(verdict)
}

/// The q-quantile of per-socket times in seconds, counting sockets that never made it as
/// infinitely late (None when the quantile falls on one of them).
fn quantile_secs(times: &[Option<u64>], q: f64) -> Option<f64> {
    let mut sorted: Vec<u64> = times.iter().map(|t| t.unwrap_or(u64::MAX)).collect();
    sorted.sort_unstable();
    let at = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1)) - 1;
    sorted
        .get(at)
        .filter(|&&ms| ms != u64::MAX)
        .map(|&ms| ms as f64 / 1_000.0)
}

fn time_row(metric: &str, value: Option<f64>) -> Row {
    match value {
        Some(secs) => Row::new(SCENARIO, metric, secs, "s"),
        None => Row::word(SCENARIO, metric, "never"),
    }
}

fn rows(
    storm: Storm,
    v: &Verdict,
    flow: &Flow,
    restart_ms: u64,
    cpu_secs: f64,
    peak_kib: u64,
) -> Vec<Row> {
    let never = v.caught_up.iter().filter(|t| t.is_none()).count();
    let p = |times: &[Option<u64>], q| {
        quantile_secs(times, q).map_or("never".to_owned(), |s| format!("{s:.2} s"))
    };
    let posted = storm.rate * storm.secs;
    let accepted = flow.accepted().iter().filter(|&&at| at > 0).count() as u64;
    vec![
        time_row("99% of sockets back and caught up", quantile_secs(&v.caught_up, 0.99)).note(
            format!(
                "{} consoles ({} agents) + {} widgets, server SIGKILLed under {} msg/s and restarted \
                 (ready in {restart_ms} ms); from the kill: p50 {}, max {}; {never} never caught up",
                storm.consoles,
                storm.agents,
                storm.widgets,
                storm.rate,
                p(&v.caught_up, 0.5),
                p(&v.caught_up, 1.0),
            ),
        ),
        time_row("99% of sockets reconnected", quantile_secs(&v.back, 0.99)).note(format!(
            "p50 {}; clients back off like the console and widget (500 ms × 2^n, full jitter); \
             {} refused or failed attempts",
            p(&v.back, 0.5),
            v.failed_attempts
        )),
        Row::new(SCENARIO, "messages lost", v.lost as f64, "")
            .target("0", v.lost == 0 && accepted == posted)
            .note(format!(
                "of {} expected deliveries ({accepted} of {posted} messages accepted, {} sender retries across the restart); {} resyncs",
                v.expected,
                flow.retries.load(Relaxed),
                v.resyncs
            ))
            .invariant(),
        Row::new(SCENARIO, "messages duplicated", (v.duplicated + v.repeated) as f64, "")
            .target("0", v.duplicated + v.repeated == 0)
            .note(format!(
                "{} deliveries of a message twice, {} console events sent again or out of order; server {cpu_secs:.1} CPU-s, peak RSS {:.0} MiB after the restart",
                v.duplicated,
                v.repeated,
                peak_kib as f64 / 1024.0
            ))
            .invariant(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockets_that_never_made_it_count_as_late() {
        let times = [Some(100), Some(200), None, Some(300)];
        assert_eq!(quantile_secs(&times, 0.5), Some(0.2));
        assert_eq!(quantile_secs(&times, 0.99), None);
        assert_eq!(quantile_secs(&times[..2], 0.99), Some(0.2));
    }

    fn storm() -> Storm {
        Storm {
            consoles: 2,
            widgets: 1,
            agents: 1,
            rate: 4,
            secs: 1,
            kill_at: 0,
        }
    }

    /// Judges one worker's dump written from `lines`, messages 0..4 accepted at 1000, 1000,
    /// 5000 and 5000 ms; the kill at 2000 ms, the restarted server ready at 3000 ms.
    fn judged(lines: &[&str]) -> Verdict {
        let dir = tempdir();
        std::fs::write(dir.join("w0.jsonl"), lines.join("\n")).unwrap();
        judge(&dir, 1, &[1000, 1000, 5000, 5000], storm(), 2000, 3000).unwrap()
    }

    fn tempdir() -> std::path::PathBuf {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "reconnect-judge-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_socket_with_everything_once_is_caught_up_when_the_last_early_message_arrives() {
        // Console of agent 0 expects 0 and 2; the widget of visitor 0 expects 1 and 3.
        let v = judged(&[
            r#"{"kind":"console","group":0,"received":[[0,1500],[2,5100]],"reconnects":1,"back_ms":2600}"#,
            r#"{"kind":"widget","group":0,"received":[[1,2900],[3,5200]],"reconnects":1,"back_ms":2700}"#,
        ]);
        assert_eq!((v.lost, v.duplicated), (0, 0));
        assert_eq!(v.back, vec![Some(600), Some(700)]);
        // The widget's message 1 (accepted before the restart) came in at 2900: caught up then.
        assert_eq!(v.caught_up, vec![Some(600), Some(900)]);
    }

    #[test]
    fn missing_and_doubled_messages_are_counted_and_never_caught_up() {
        let v = judged(&[
            r#"{"kind":"console","group":0,"received":[[0,1500]],"reconnects":1,"back_ms":2600}"#,
            r#"{"kind":"widget","group":0,"received":[[1,1500],[1,2800],[3,5200]],"reconnects":1,"back_ms":2700,"repeated":0}"#,
        ]);
        assert_eq!(v.lost, 1, "the console never got message 2");
        assert_eq!(v.duplicated, 1, "the widget got message 1 twice");
        assert_eq!(v.caught_up[0], None);
    }

    #[test]
    fn a_socket_that_never_came_back_is_not_back() {
        let v = judged(&[
            r#"{"kind":"console","group":0,"received":[[0,1500]],"reconnects":0,"back_ms":0}"#,
        ]);
        assert_eq!(v.back, vec![None]);
        assert_eq!(v.caught_up, vec![None]);
    }

    #[test]
    fn the_flow_alternates_between_agents_and_visitors() {
        let storm = Storm {
            consoles: 4,
            widgets: 3,
            agents: 2,
            rate: 1,
            secs: 1,
            kill_at: 0,
        };
        assert_eq!(target(0, storm), Target::Agent(0));
        assert_eq!(target(1, storm), Target::Visitor(0));
        assert_eq!(target(2, storm), Target::Agent(1));
        assert_eq!(target(4, storm), Target::Agent(0));
        assert_eq!(target(7, storm), Target::Visitor(0));
    }
}
