//! Scenario 7, widget-size: what a visitor's browser downloads (the hub compresses it, brotli for
//! browsers that take it), and the script gzipped at level 9 for comparison with earlier runs.

use std::process::Stdio;

use anyhow::{bail, Context, Result};
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use super::Ctx;
use crate::report::Row;
use crate::server::{Server, SwitchboardOptions};

const SCENARIO: &str = "widget-size";

pub async fn run(ctx: &Ctx) -> Result<Vec<Row>> {
    // The script is joined from web/widget/ when the binary is built: measure what it serves.
    let server =
        Server::switchboard(&ctx.paths, "widget-size", SwitchboardOptions::default()).await?;
    let url = format!("http://{}/widget.js", server.addr);
    let script = reqwest::get(&url)
        .await
        .and_then(|r| r.error_for_status())
        .context("GET /widget.js")?
        .bytes()
        .await?;
    // What Chromium asks for; the client here does not decode, so these are the wire bytes.
    let served = reqwest::Client::new()
        .get(&url)
        .header("accept-encoding", "gzip, deflate, br, zstd")
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .context("GET /widget.js compressed")?;
    let encoding = served
        .headers()
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity")
        .to_string();
    let on_the_wire = served.bytes().await?.len();
    server.stop().await?;
    let mut gzip = Command::new("gzip")
        .arg("-9c")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let mut stdin = gzip.stdin.take().context("gzip's stdin")?;
    stdin.write_all(&script).await?;
    drop(stdin);
    let output = gzip.wait_with_output().await?;
    if !output.status.success() {
        bail!("gzip failed on the served /widget.js");
    }
    Ok(vec![
        Row::new(
            SCENARIO,
            "widget.js as a browser downloads it",
            on_the_wire as f64 / 1024.0,
            "KiB",
        )
        .note(format!("Content-Encoding: {encoding}")),
        Row::new(
            SCENARIO,
            "widget.js gzipped",
            output.stdout.len() as f64 / 1024.0,
            "KiB",
        )
        .note(format!(
            "{:.1} KiB before gzip -9",
            script.len() as f64 / 1024.0
        )),
    ])
}
