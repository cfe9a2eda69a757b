//! Scenario 7, widget-size: what a visitor's browser downloads, gzipped at level 9.

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
    let script = reqwest::get(format!("http://{}/widget.js", server.addr))
        .await
        .and_then(|r| r.error_for_status())
        .context("GET /widget.js")?
        .bytes()
        .await?;
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
    Ok(vec![Row::new(
        SCENARIO,
        "widget.js gzipped",
        output.stdout.len() as f64 / 1024.0,
        "KiB",
    )
    .note(format!(
        "{:.1} KiB before gzip -9",
        script.len() as f64 / 1024.0
    ))])
}
