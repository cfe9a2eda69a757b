//! Forwarded mail: a company's MTA handing mail to Switchboard's SMTP listener, each mail
//! answered `250` only once committed. Postfix's own load generator (`smtp-source`) sends the
//! same mails with the same sessions to Switchboard and to Postfix's `smtp-sink`, which takes
//! and discards them: the limit of SMTP on this loopback with this client.

use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use tokio::process::Command;
use tokio::time::{sleep, Duration};

use super::Ctx;
use crate::api::Api;
use crate::report::Row;
use crate::server::{free_port, pinned, Server, SwitchboardOptions, SERVER_CORE};

const SCENARIO: &str = "forwarded-mail";
const ADDRESS: &str = "help@acme.test";
const SESSIONS: usize = 4;

/// Sends `count` mails over `SESSIONS` sessions to `port` with smtp-source; the seconds it took.
async fn send(port: u16, count: usize) -> Result<f64> {
    let started = Instant::now();
    let out = Command::new("smtp-source")
        .args(["-s", &SESSIONS.to_string(), "-m", &count.to_string()])
        .args(["-f", "bob@customer.test", "-t", ADDRESS])
        .arg(format!("127.0.0.1:{port}"))
        .output()
        .await
        .context("smtp-source (Postfix) runs")?;
    if !out.status.success() {
        bail!("smtp-source: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(started.elapsed().as_secs_f64())
}

pub async fn run(ctx: &Ctx) -> Result<Vec<Row>> {
    if crate::server::which("smtp-source").is_none() || crate::server::which("smtp-sink").is_none()
    {
        bail!("smtp-source and smtp-sink come with Postfix (tests/support/install-mail.sh)");
    }
    let count = ctx.mode.forwarded_mails();

    // The limit: Postfix's discard server, on the server core.
    let sink_port = free_port()?;
    let mut sink = pinned(SERVER_CORE, "smtp-sink")
        .args(["-u", "nobody", "-c"])
        .arg(format!("127.0.0.1:{sink_port}"))
        .arg("256")
        .kill_on_drop(true)
        .stdout(std::process::Stdio::null())
        .spawn()
        .context("smtp-sink starts")?;
    sleep(Duration::from_millis(300)).await;
    let sink_secs = send(sink_port, count).await?;
    let _ = sink.kill().await;

    let smtp_port = free_port()?;
    let dir = ctx.paths.fresh_dir(SCENARIO)?;
    let server = Server::switchboard(
        &ctx.paths,
        SCENARIO,
        SwitchboardOptions {
            data_dir: Some(dir.clone()),
            env: vec![
                (
                    "SWITCHBOARD__EMAIL__INBOUND_SMTP_ADDR".into(),
                    format!("127.0.0.1:{smtp_port}"),
                ),
                ("SWITCHBOARD__ROUTING__ENABLED".into(), "false".into()),
            ],
            ..Default::default()
        },
    )
    .await?;
    let api = Api::login(server.addr).await?;
    let created: Value = api
        .http()
        .post(format!("http://{}/api/v1/inboxes", server.addr))
        .bearer_auth(api.token())
        .json(&json!({"name": "Forwarded support", "kind": "email", "email": {"address": ADDRESS}}))
        .send()
        .await?
        .json()
        .await?;
    if !created["id"].is_i64() {
        bail!("creating the email inbox: {created}");
    }
    let ours_secs = send(smtp_port, count).await?;
    let cpu = server.cpu_secs()?;
    let stored = super::email::stored_mails(&dir.join("switchboard.db")).await?;
    server.stop().await?;
    if (stored as usize) < count {
        bail!("Switchboard answered 250 for {count} mails but stored {stored}");
    }
    let ours = count as f64 / ours_secs;
    let limit = count as f64 / sink_secs;
    Ok(vec![
        Row::new(SCENARIO, "switchboard: forwarded mail over SMTP, committed", ours, "mails/s").note(format!(
            "{count} mails, {SESSIONS} smtp-source sessions, each answered after commit; {ours_secs:.1} s, {cpu:.1} CPU-s; {:.2}x smtp-sink",
            ours / limit
        )),
        Row::new(SCENARIO, "limit: Postfix smtp-sink, same client", limit, "mails/s")
            .note(format!("takes and discards each mail; {sink_secs:.2} s")),
    ])
}
