//! Scenario 7, widget-size: what a visitor's browser downloads, gzipped at level 9.

use std::process::Stdio;

use anyhow::{bail, Result};
use tokio::process::Command;

use super::Ctx;
use crate::report::Row;

const SCENARIO: &str = "widget-size";

pub async fn run(ctx: &Ctx) -> Result<Vec<Row>> {
    let script = ctx.paths.root.join("web/widget/widget.js");
    if !script.is_file() {
        return Ok(vec![Row::word(SCENARIO, "widget.js gzipped", "n/a")
            .note("web/widget/widget.js does not exist yet")]);
    }
    let raw = std::fs::metadata(&script)?.len();
    let output = Command::new("gzip")
        .arg("-9c")
        .arg(&script)
        .stderr(Stdio::inherit())
        .output()
        .await?;
    if !output.status.success() {
        bail!("gzip failed on {}", script.display());
    }
    Ok(vec![Row::new(
        SCENARIO,
        "widget.js gzipped",
        output.stdout.len() as f64 / 1024.0,
        "KiB",
    )
    .note(format!(
        "{:.1} KiB before gzip -9",
        raw as f64 / 1024.0
    ))])
}
