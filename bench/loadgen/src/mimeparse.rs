//! `loadgen mime-parse DIR`: parses every .eml of DIR with the email connector, over and over for
//! a fixed time, and prints {"messages", "bytes", "seconds", "per_second"} as JSON.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use switchboard_connector_email::{parse_mail, ParseContext, ThreadTags};

#[derive(clap::Args)]
pub struct MimeArgs {
    /// A directory of .eml files.
    dir: PathBuf,
    /// How long to keep parsing.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
}

pub fn run(args: MimeArgs) -> Result<()> {
    let mut mails = Vec::new();
    for entry in std::fs::read_dir(&args.dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "eml") {
            mails.push(std::fs::read(path)?);
        }
    }
    if mails.is_empty() {
        bail!("no .eml files in {}", args.dir.display());
    }
    mails.sort();
    let tags = ThreadTags::new(b"bench".to_vec());
    let own = vec!["support@acme.test".to_string()];
    let cx = ParseContext {
        tags: &tags,
        own_addresses: &own,
    };
    let limit = Duration::from_secs(args.seconds.max(1));
    let started = Instant::now();
    let (mut messages, mut bytes) = (0u64, 0u64);
    // Whole passes only, so both sides parse the same mix.
    while started.elapsed() < limit {
        for raw in &mails {
            let parsed = parse_mail(raw, &cx);
            std::hint::black_box(&parsed);
            messages += 1;
            bytes += raw.len() as u64;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({"messages": messages, "bytes": bytes, "seconds": seconds,
                           "per_second": messages as f64 / seconds})
    );
    Ok(())
}
