//! Keeping an inbox in step with an IMAP mailbox.
//!
//! The rule that makes it exactly-once: the UID checkpoint moves only after the sink has
//! committed every mail up to it. A crash or a dropped connection between the two means the
//! mails after the checkpoint are fetched again, and the sink (keyed on Message-ID and the
//! mail's content key, see fingerprint.rs) stores each once. When UIDVALIDITY changes, UIDs mean
//! nothing any more: the mailbox is read again from the start, and the same keys keep it free of
//! duplicates.
//!
//! Memory stays bounded whatever the mailbox size: UIDs and sizes are listed a window at a time,
//! and bodies are fetched in batches capped by count and bytes, handed on one at a time.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_imap::extensions::idle::IdleResponse;
use async_imap::Session;
use futures::StreamExt;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;
use tokio::sync::watch;

use crate::smtp::Security;
use crate::tls::{self, MailStream};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ImapSettings {
    pub host: String,
    pub port: u16,
    #[serde(default)]
    pub security: Security,
    pub username: String,
    /// Zeroed when dropped and `[REDACTED]` in `Debug`, so logging the settings shows no secret.
    #[serde(default, skip_serializing)]
    pub password: SecretString,
    #[serde(default = "default_mailbox")]
    pub mailbox: String,
    #[serde(default)]
    pub accept_invalid_certs: bool,
    /// The most mails fetched in one batch.
    #[serde(default = "default_batch_messages")]
    pub batch_messages: u32,
    /// The most bytes fetched in one batch (a single bigger mail is fetched alone).
    #[serde(default = "default_batch_bytes")]
    pub batch_bytes: u64,
    /// How long one IDLE lasts before it is renewed (servers drop it after 30 minutes).
    #[serde(default = "default_idle_secs")]
    pub idle_secs: u64,
    /// How often to look for new mail when the server has no IDLE.
    #[serde(default = "default_poll_secs")]
    pub poll_secs: u64,
}

fn default_mailbox() -> String {
    "INBOX".into()
}
fn default_batch_messages() -> u32 {
    200
}
fn default_batch_bytes() -> u64 {
    8 * 1024 * 1024
}
fn default_idle_secs() -> u64 {
    25 * 60
}
fn default_poll_secs() -> u64 {
    60
}

/// How far a mailbox has been read: every UID up to `last_uid` is committed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub uid_validity: u32,
    pub last_uid: u32,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SinkError(pub String);

/// Where fetched mail goes: the hub's ingest, or a test's list.
#[async_trait::async_trait]
pub trait MailSink: Send + Sync {
    async fn checkpoint(&self) -> Result<Option<Checkpoint>, SinkError>;
    /// Stores one mail. `Ok` means committed: only then may the checkpoint pass it.
    async fn accept(&self, uid: u32, raw: &[u8]) -> Result<(), SinkError>;
    async fn save_checkpoint(&self, checkpoint: Checkpoint) -> Result<(), SinkError>;
    /// How many mails of a batch may be in `accept` at once. They are always started in UID
    /// order; more than one only pays when the sink commits them in that order (a store that
    /// folds queued writes into one commit), or a reply could be stored before what it answers.
    fn concurrency(&self) -> usize {
        1
    }
    /// How reading the mailbox goes: `Some(problem)` after a failed attempt (the server cannot
    /// be reached, refuses the login…), `None` after every catch-up that worked. For showing
    /// the inbox's health; the sync goes on (or retries) whatever this does.
    async fn health(&self, _problem: Option<String>) {}
}

#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("cannot reach the IMAP server: {0}")]
    Connect(#[from] std::io::Error),
    #[error("the IMAP server refused the login: {0}")]
    Login(String),
    #[error("IMAP: {0}")]
    Protocol(#[from] async_imap::error::Error),
    #[error("the mailbox sink failed: {0}")]
    Sink(#[from] SinkError),
    #[error("timed out talking to the IMAP server")]
    Timeout,
    #[error("the IMAP server closed the connection without a greeting")]
    Closed,
    /// The server's FETCH answer ended before mail UID `first_missing` (it restarted, or the
    /// connection dropped): the mails that came are kept, the rest is fetched again.
    #[error("the IMAP server's answer stopped before mail UID {first_missing}; fetching again")]
    Incomplete { first_missing: u32 },
}

/// What one catch-up did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub fetched: u64,
    pub uid_validity: u32,
    pub last_uid: u32,
    pub resynced: bool,
}

type ImapSession = Session<MailStream>;

pub struct MailboxSync {
    settings: ImapSettings,
}

/// No single IMAP command may take longer than this; a silent server is a dead one.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

/// No step of connecting (TCP, TLS, the greeting, the login) may take longer than this.
const CONNECT_STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// What a settings check found: the mailbox opened, and how many mails it holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MailboxCheck {
    pub mailbox: String,
    pub exists: u32,
}

impl MailboxSync {
    pub fn new(settings: ImapSettings) -> Self {
        MailboxSync { settings }
    }

    async fn connect(&self) -> Result<ImapSession, ImapError> {
        self.connect_to(None, CONNECT_STEP_TIMEOUT).await
    }

    /// Connects (to `addrs` when given, the settings' host otherwise; TLS always checks the
    /// host's name) and signs in, no step taking longer than `step`.
    async fn connect_to(
        &self,
        addrs: Option<&[SocketAddr]>,
        step: Duration,
    ) -> Result<ImapSession, ImapError> {
        let s = &self.settings;
        let tcp = match addrs {
            Some(addrs) => limit(step, TcpStream::connect(addrs)).await??,
            None => limit(step, TcpStream::connect((s.host.as_str(), s.port))).await??,
        };
        tcp.set_nodelay(true)?;
        let greeted = |r: std::io::Result<Option<_>>| match r {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(ImapError::Closed),
            Err(e) => Err(ImapError::Connect(e)),
        };
        let client = match s.security {
            Security::Tls => {
                let tls = limit(step, tls::wrap(tcp, &s.host, s.accept_invalid_certs)).await??;
                let mut client = async_imap::Client::new(MailStream::Tls(Box::new(tls)));
                greeted(limit(step, client.read_response()).await?)?;
                client
            }
            Security::Plain => {
                let mut client = async_imap::Client::new(MailStream::Plain(tcp));
                greeted(limit(step, client.read_response()).await?)?;
                client
            }
            Security::Starttls => {
                let mut client = async_imap::Client::new(tcp);
                greeted(limit(step, client.read_response()).await?)?;
                limit(step, client.run_command_and_check_ok("STARTTLS", None)).await??;
                let tcp = client.into_inner();
                let tls = limit(step, tls::wrap(tcp, &s.host, s.accept_invalid_certs)).await??;
                async_imap::Client::new(MailStream::Tls(Box::new(tls)))
            }
        };
        limit(step, client.login(&s.username, s.password.expose_secret()))
            .await?
            .map_err(|(e, _)| ImapError::Login(login_refusal(e)))
    }

    /// Tries the settings without reading any mail: connects (to `addrs` when given), signs
    /// in, opens the mailbox and logs out, no step taking longer than `step`. The error is the
    /// server's own answer where it gave one.
    pub async fn check(
        &self,
        addrs: Option<&[SocketAddr]>,
        step: Duration,
    ) -> Result<MailboxCheck, ImapError> {
        let mut session = self.connect_to(addrs, step).await?;
        let mailbox = limit(step, session.select(&self.settings.mailbox)).await??;
        let _ = limit(step, session.logout()).await;
        Ok(MailboxCheck {
            mailbox: self.settings.mailbox.clone(),
            exists: mailbox.exists,
        })
    }

    /// Connects, reads everything new, and logs out: one pass, for tests and the CLI.
    #[tracing::instrument(skip_all, fields(host = %self.settings.host, mailbox = %self.settings.mailbox))]
    pub async fn sync_once(&self, sink: &dyn MailSink) -> Result<SyncReport, ImapError> {
        let mut session = self.connect().await?;
        let report = self.catch_up(&mut session, sink).await?;
        let _ = session.logout().await;
        Ok(report)
    }

    /// Reads new mail from the checkpoint on, batch by batch, moving the checkpoint after each.
    #[tracing::instrument(level = "debug", skip_all)]
    async fn catch_up(
        &self,
        session: &mut ImapSession,
        sink: &dyn MailSink,
    ) -> Result<SyncReport, ImapError> {
        let s = &self.settings;
        let mailbox = timed(session.select(&s.mailbox)).await??;
        let uid_validity = mailbox.uid_validity.unwrap_or(0);
        let stored = sink.checkpoint().await?;
        let mut report = SyncReport {
            uid_validity,
            ..Default::default()
        };
        let mut last_uid = match stored {
            Some(c) if c.uid_validity == uid_validity => c.last_uid,
            Some(c) => {
                tracing::warn!(
                    mailbox = %s.mailbox, old = c.uid_validity, new = uid_validity,
                    "UIDVALIDITY changed: reading the mailbox again; known mails are skipped"
                );
                report.resynced = true;
                sink.save_checkpoint(Checkpoint {
                    uid_validity,
                    last_uid: 0,
                })
                .await?;
                0
            }
            None => 0,
        };
        report.last_uid = last_uid;
        if mailbox.exists == 0 {
            return Ok(report);
        }
        let uid_next = mailbox.uid_next;
        if uid_next.is_some_and(|next| next <= last_uid + 1) {
            return Ok(report);
        }
        // List UIDs and sizes a window at a time, so the listing itself stays small.
        const WINDOW: u32 = 5_000;
        loop {
            let from = last_uid + 1;
            let range = match uid_next {
                Some(next) if from >= next => break,
                Some(next) => format!("{from}:{}", (from.saturating_add(WINDOW - 1)).min(next - 1)),
                None => format!("{from}:*"),
            };
            let listed = list(session, &range, last_uid).await?;
            if listed.is_empty() {
                match uid_next {
                    // A gap of expunged UIDs: move past it.
                    Some(next) if from.saturating_add(WINDOW) < next => {
                        last_uid = from + WINDOW - 1;
                        continue;
                    }
                    _ => break,
                }
            }
            for batch in batches(&listed, s.batch_messages, s.batch_bytes) {
                let committed = match self.fetch_batch(session, sink, &batch).await {
                    // The answer stopped short (a server restarting mid-FETCH ends the stream
                    // without an error): keep what came, checkpoint up to the first mail that
                    // did not, and let the next pass fetch it.
                    Err(e @ ImapError::Incomplete { first_missing }) => {
                        if first_missing > last_uid + 1 {
                            sink.save_checkpoint(Checkpoint {
                                uid_validity,
                                last_uid: first_missing - 1,
                            })
                            .await?;
                        }
                        return Err(e);
                    }
                    other => other?,
                };
                report.fetched += committed;
                let top = batch.last().map_or(last_uid, |(uid, _)| *uid);
                sink.save_checkpoint(Checkpoint {
                    uid_validity,
                    last_uid: top,
                })
                .await?;
                last_uid = top;
                report.last_uid = top;
            }
            if uid_next.is_none() {
                break;
            }
        }
        Ok(report)
    }

    async fn fetch_batch(
        &self,
        session: &mut ImapSession,
        sink: &dyn MailSink,
        batch: &[(u32, u64)],
    ) -> Result<u64, ImapError> {
        let set = uid_set(batch.iter().map(|(uid, _)| *uid));
        let fetches = timed(session.uid_fetch(&set, "(UID BODY.PEEK[])")).await??;
        // Mails are handed on as they arrive, in order, several in flight when the sink allows.
        let mut accepted = fetches
            .map(|fetch| async move {
                let fetch = fetch?;
                let stored = match (fetch.uid, fetch.body()) {
                    (Some(uid), Some(body)) => {
                        sink.accept(uid, body).await?;
                        Some(uid)
                    }
                    _ => None,
                };
                Ok::<Option<u32>, ImapError>(stored)
            })
            .buffered(sink.concurrency().max(1));
        let mut arrived = std::collections::BTreeSet::new();
        loop {
            let next = timed(accepted.next()).await?;
            let Some(result) = next else { break };
            if let Some(uid) = result? {
                arrived.insert(uid);
            }
        }
        // Every listed mail must have come: the checkpoint moves past the batch only then.
        match batch
            .iter()
            .map(|(uid, _)| *uid)
            .find(|uid| !arrived.contains(uid))
        {
            None => Ok(arrived.len() as u64),
            Some(first_missing) => Err(ImapError::Incomplete { first_missing }),
        }
    }

    /// Runs until `shutdown`: catch up, wait for news (IDLE, or a poll), again; after an error,
    /// reconnect with a growing, jittered pause.
    #[tracing::instrument(skip_all, fields(host = %self.settings.host, mailbox = %self.settings.mailbox))]
    pub async fn run(self, sink: Arc<dyn MailSink>, mut shutdown: watch::Receiver<bool>) {
        let mut failures: u32 = 0;
        loop {
            if *shutdown.borrow() {
                return;
            }
            let result = tokio::select! {
                r = self.session_loop(sink.as_ref(), &mut failures) => r,
                _ = shutdown.changed() => return,
            };
            if let Err(e) = result {
                sink.health(Some(e.to_string())).await;
                failures = failures.saturating_add(1);
                let pause = retry_pause(failures);
                tracing::warn!(error = %e, retry_in_ms = pause.as_millis() as u64, mailbox = %self.settings.mailbox, "mailbox sync interrupted");
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = shutdown.changed() => return,
                }
            }
        }
    }

    async fn session_loop(&self, sink: &dyn MailSink, failures: &mut u32) -> Result<(), ImapError> {
        let mut session = self.connect().await?;
        let idle = timed(session.capabilities()).await??.has_str("IDLE");
        loop {
            let report = self.catch_up(&mut session, sink).await?;
            *failures = 0;
            sink.health(None).await;
            if report.fetched > 0 {
                tracing::info!(
                    fetched = report.fetched,
                    last_uid = report.last_uid,
                    "mailbox caught up"
                );
            }
            if idle {
                let mut handle = session.idle();
                timed(handle.init()).await??;
                let (wait, _stop) =
                    handle.wait_with_timeout(Duration::from_secs(self.settings.idle_secs.max(1)));
                match wait.await? {
                    IdleResponse::NewData(_)
                    | IdleResponse::Timeout
                    | IdleResponse::ManualInterrupt => {}
                }
                session = timed(handle.done()).await??;
            } else {
                tokio::time::sleep(Duration::from_secs(self.settings.poll_secs.max(1))).await;
            }
        }
    }
}

async fn timed<F: std::future::Future>(f: F) -> Result<F::Output, ImapError> {
    limit(COMMAND_TIMEOUT, f).await
}

async fn limit<F: std::future::Future>(within: Duration, f: F) -> Result<F::Output, ImapError> {
    tokio::time::timeout(within, f)
        .await
        .map_err(|_| ImapError::Timeout)
}

/// A refused login in the server's words: async-imap wraps a NO answer's text in its own
/// `code: …, info: Some("…")`.
fn login_refusal(error: async_imap::error::Error) -> String {
    match error {
        async_imap::error::Error::No(text) | async_imap::error::Error::Bad(text) => {
            server_words(&text)
        }
        other => other.to_string(),
    }
}

fn server_words(wrapped: &str) -> String {
    const OPEN: &str = "info: Some(\"";
    let words = wrapped.find(OPEN).and_then(|at| {
        let rest = &wrapped[at + OPEN.len()..];
        rest.rfind("\")")
            .map(|end| rest[..end].replace("\\\"", "\""))
    });
    words.unwrap_or_else(|| wrapped.to_string())
}

/// UIDs above `after` in `range`, with their sizes, in UID order.
async fn list(
    session: &mut ImapSession,
    range: &str,
    after: u32,
) -> Result<Vec<(u32, u64)>, ImapError> {
    let mut listed = Vec::new();
    let mut fetches = timed(session.uid_fetch(range, "(UID RFC822.SIZE)")).await??;
    loop {
        let next = timed(fetches.next()).await?;
        let Some(fetch) = next else { break };
        let fetch = fetch?;
        // "n:*" always names the last message, even below n: skip what is not new.
        if let Some(uid) = fetch.uid.filter(|u| *u > after) {
            listed.push((uid, fetch.size.unwrap_or(0) as u64));
        }
    }
    listed.sort_unstable();
    listed.dedup_by_key(|(uid, _)| *uid);
    Ok(listed)
}

/// Splits listed mails into fetch batches of at most `max_count` mails and `max_bytes` bytes.
fn batches(listed: &[(u32, u64)], max_count: u32, max_bytes: u64) -> Vec<Vec<(u32, u64)>> {
    let mut out: Vec<Vec<(u32, u64)>> = Vec::new();
    let mut current: Vec<(u32, u64)> = Vec::new();
    let mut bytes = 0u64;
    for &(uid, size) in listed {
        if !current.is_empty()
            && (current.len() as u32 >= max_count.max(1) || bytes + size > max_bytes)
        {
            out.push(std::mem::take(&mut current));
            bytes = 0;
        }
        current.push((uid, size));
        bytes += size;
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// "1:5,8,10:12" from sorted UIDs.
fn uid_set(uids: impl Iterator<Item = u32>) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut run: Option<(u32, u32)> = None;
    for uid in uids {
        run = match run {
            Some((a, b)) if uid == b + 1 => Some((a, uid)),
            Some((a, b)) => {
                parts.push(if a == b {
                    a.to_string()
                } else {
                    format!("{a}:{b}")
                });
                Some((uid, uid))
            }
            None => Some((uid, uid)),
        };
    }
    if let Some((a, b)) = run {
        parts.push(if a == b {
            a.to_string()
        } else {
            format!("{a}:{b}")
        });
    }
    parts.join(",")
}

/// The pause before reconnecting after `failures` failed sessions in a row: half a second to a
/// second after the first, doubling up to a minute.
fn retry_pause(failures: u32) -> Duration {
    switchboard_connector_core::backoff::backoff(
        failures,
        Duration::from_secs(1),
        Duration::from_secs(60),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_sets_compress_runs() {
        assert_eq!(uid_set([1, 2, 3, 5, 7, 8].into_iter()), "1:3,5,7:8");
        assert_eq!(uid_set([9].into_iter()), "9");
        assert_eq!(uid_set(std::iter::empty()), "");
    }

    #[test]
    fn batches_respect_count_and_bytes_and_never_starve_a_big_mail() {
        let listed: Vec<(u32, u64)> = (1..=10).map(|u| (u, 100)).collect();
        let b = batches(&listed, 4, 1_000_000);
        assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), vec![4, 4, 2]);
        let b = batches(&[(1, 50), (2, 5_000), (3, 50)], 100, 1_000);
        assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), vec![1, 1, 1]);
    }

    #[test]
    fn a_refused_login_reads_as_the_server_said_it() {
        let wrapped = r#"code: None, info: Some("[AUTHENTICATIONFAILED] Authentication failed.")"#;
        assert_eq!(
            server_words(wrapped),
            "[AUTHENTICATIONFAILED] Authentication failed."
        );
        assert_eq!(server_words("something else"), "something else");
    }

    #[test]
    fn retry_pauses_grow_and_stay_bounded() {
        assert!(retry_pause(1) <= Duration::from_millis(1_000));
        for f in 0..50 {
            assert!(retry_pause(f) <= Duration::from_secs(60));
        }
    }
}
