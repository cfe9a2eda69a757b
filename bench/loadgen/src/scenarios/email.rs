//! Email: reading a big IMAP mailbox, against a bare IMAP fetch of the same mailbox (the limit),
//! and parsing MIME, against Python's `email` package doing the same reading.
//!
//! The mailbox lives in a throwaway Dovecot started by tests/support/mail-lab (the same one the
//! email tests use), filled straight into its Maildir.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use futures::StreamExt;
use serde_json::{json, Value};
use tokio::process::Command;
use tokio::time::{sleep, Duration};

use super::Ctx;
use crate::api::Api;
use crate::procfs;
use crate::report::Row;
use crate::server::{pinned, Server, SwitchboardOptions, SERVER_CORE};

const MAILBOX: &str = "marketing@support.test";
const PASSWORD: &str = "marketing-pass";

/// A started mail lab; stopped when dropped.
struct MailLab {
    dir: PathBuf,
    script: PathBuf,
    imap_port: u16,
}

impl MailLab {
    async fn start(ctx: &Ctx) -> Result<MailLab> {
        let script = ctx.paths.root.join("tests/support/mail-lab");
        let dir = ctx.paths.fresh_dir("mail-lab")?;
        let out = Command::new(&script)
            .arg("start")
            .arg(&dir)
            .output()
            .await?;
        if !out.status.success() {
            bail!("mail-lab start: {}", String::from_utf8_lossy(&out.stderr));
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        let imap_port = stdout
            .lines()
            .find_map(|l| l.strip_prefix("IMAP_PORT="))
            .context("no IMAP_PORT from mail-lab")?
            .parse()?;
        Ok(MailLab {
            dir,
            script,
            imap_port,
        })
    }

    async fn fill(&self, count: usize) -> Result<()> {
        let out = Command::new(&self.script)
            .arg("fill")
            .arg(&self.dir)
            .arg(MAILBOX)
            .arg(count.to_string())
            .output()
            .await?;
        if !out.status.success() {
            bail!("mail-lab fill: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(())
    }
}

impl Drop for MailLab {
    fn drop(&mut self) {
        let _ = std::process::Command::new(&self.script)
            .arg("stop")
            .arg(&self.dir)
            .output();
    }
}

/// The limit: one client fetching every mail's bytes, in the same batches, storing nothing.
async fn bare_fetch(port: u16, expected: usize) -> Result<(usize, u64)> {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    let mut client = async_imap::Client::new(tcp);
    client.read_response().await?;
    let mut session = client.login(MAILBOX, PASSWORD).await.map_err(|(e, _)| e)?;
    session.select("INBOX").await?;
    let (mut mails, mut bytes) = (0usize, 0u64);
    let mut from = 1usize;
    while from <= expected {
        let to = (from + 199).min(expected);
        let mut fetches = session
            .uid_fetch(format!("{from}:{to}"), "(UID BODY.PEEK[])")
            .await?;
        while let Some(fetch) = fetches.next().await {
            let fetch = fetch?;
            bytes += fetch.body().map_or(0, |b| b.len()) as u64;
            mails += 1;
        }
        drop(fetches);
        from = to + 1;
    }
    let _ = session.logout().await;
    Ok((mails, bytes))
}

pub(super) async fn stored_mails(db: &Path) -> Result<i64> {
    use sqlx::{Connection, SqliteConnection};
    let url = format!("sqlite://{}?mode=ro", db.display());
    let mut c = SqliteConnection::connect(&url).await?;
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE direction = 'incoming'")
            .fetch_one(&mut c)
            .await
            .unwrap_or(0),
    )
}

pub async fn sync(ctx: &Ctx) -> Result<Vec<Row>> {
    const SCENARIO: &str = "email-sync";
    let count = ctx.mode.mailbox_size();
    let lab = MailLab::start(ctx).await?;
    lab.fill(count).await?;
    // Dovecot indexes the new Maildir on first access: let the bare fetch pay that, then time both.
    bare_fetch(lab.imap_port, count.min(10)).await?;

    let started = Instant::now();
    let (fetched, bytes) = bare_fetch(lab.imap_port, count).await?;
    let bare_secs = started.elapsed().as_secs_f64();
    if fetched != count {
        bail!("the bare fetch read {fetched} of {count} mails");
    }

    let dir = ctx.paths.fresh_dir("email-sync")?;
    let server = Server::switchboard(
        &ctx.paths,
        SCENARIO,
        SwitchboardOptions {
            data_dir: Some(dir.clone()),
            env: vec![
                ("SWITCHBOARD__EMAIL__SUPERVISE_SECS".into(), "1".into()),
                ("SWITCHBOARD__ROUTING__ENABLED".into(), "false".into()),
            ],
            ..Default::default()
        },
    )
    .await?;
    let rss_before = server.rss_kib()?;
    let api = Api::login(server.addr).await?;
    let settings = json!({
        "address": MAILBOX,
        "imap": {"host": "127.0.0.1", "port": lab.imap_port, "security": "plain", "username": MAILBOX},
    });
    let started = Instant::now();
    let created: Value = api
        .http()
        .post(format!("http://{}/api/v1/inboxes", server.addr))
        .bearer_auth(api.token())
        .json(&json!({"name": "Campaign replies", "kind": "email", "email": settings, "imap_password": PASSWORD}))
        .send()
        .await?
        .json()
        .await?;
    if !created["id"].is_i64() {
        bail!("creating the email inbox: {created}");
    }
    let db = dir.join("switchboard.db");
    let deadline = Instant::now() + Duration::from_secs(if ctx.mode.quick { 120 } else { 900 });
    let mut stored = 0;
    while Instant::now() < deadline {
        stored = stored_mails(&db).await?;
        if stored as usize >= count {
            break;
        }
        sleep(Duration::from_millis(50)).await;
    }
    let sync_secs = started.elapsed().as_secs_f64();
    let peak = procfs::peak_rss_kib(server.pid)?;
    let cpu = server.cpu_secs()?;
    server.stop().await?;
    if (stored as usize) < count {
        bail!("Switchboard stored {stored} of {count} mails in time");
    }
    let bare_rate = count as f64 / bare_secs;
    let rate = count as f64 / sync_secs;
    Ok(vec![
        Row::new(SCENARIO, "switchboard: IMAP sync, fetched + parsed + committed", rate, "mails/s").note(format!(
            "{count} mails ({:.1} MiB) in {sync_secs:.1} s, {cpu:.1} CPU-s; {:.2}x the bare fetch; peak RSS {:.1} MiB (+{:.1} MiB over idle)",
            bytes as f64 / 1_048_576.0,
            rate / bare_rate,
            peak as f64 / 1024.0,
            (peak.saturating_sub(rss_before)) as f64 / 1024.0
        )),
        Row::new(SCENARIO, "limit: bare IMAP fetch of the same mailbox", bare_rate, "mails/s")
            .note(format!("async-imap, batches of 200 UIDs, nothing parsed or stored; {bare_secs:.1} s")),
    ])
}

/// The benchmark mix: the MIME corpus (every shape, in proportion one each).
fn corpus(ctx: &Ctx) -> PathBuf {
    ctx.paths.root.join("tests/fixtures/mime")
}

pub async fn parse(ctx: &Ctx) -> Result<Vec<Row>> {
    const SCENARIO: &str = "mime-parse";
    let secs = ctx.mode.parse_secs().to_string();
    let dir = corpus(ctx);
    let ours = pinned(SERVER_CORE, ctx.paths.release.join("loadgen"))
        .args(["mime-parse", "--seconds", &secs])
        .arg(&dir)
        .output()
        .await?;
    if !ours.status.success() {
        bail!(
            "loadgen mime-parse: {}",
            String::from_utf8_lossy(&ours.stderr)
        );
    }
    let ours: Value = serde_json::from_slice(&ours.stdout)?;
    let python = crate::server::which("python3").context("python3 is not installed")?;
    let theirs = pinned(SERVER_CORE, python)
        .arg(ctx.paths.root.join("bench/peers/python/mime_parse.py"))
        .args(["--seconds", &secs])
        .arg(&dir)
        .output()
        .await?;
    if !theirs.status.success() {
        bail!("mime_parse.py: {}", String::from_utf8_lossy(&theirs.stderr));
    }
    let theirs: Value = serde_json::from_slice(&theirs.stdout)?;
    let rate = |v: &Value| v["per_second"].as_f64().unwrap_or(0.0);
    let mib = |v: &Value| {
        v["bytes"].as_f64().unwrap_or(0.0) / 1_048_576.0 / v["seconds"].as_f64().unwrap_or(1.0)
    };
    Ok(vec![
        Row::new(SCENARIO, "switchboard: MIME parse", rate(&ours), "mails/s").note(format!(
            "{:.1} MiB/s; {:.2}x Python's email; mail-parser + quote folding + ammonia sanitising, one core",
            mib(&ours),
            rate(&ours) / rate(&theirs).max(f64::MIN_POSITIVE)
        )),
        Row::new(SCENARIO, "python email: MIME parse", rate(&theirs), "mails/s").note(format!(
            "{:.1} MiB/s; email.message_from_bytes(policy=default), bodies and attachments decoded",
            mib(&theirs)
        )),
    ])
}
