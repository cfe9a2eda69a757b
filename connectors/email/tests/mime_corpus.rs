//! The MIME corpus (tests/fixtures/mime, made by make_corpus.py): every message parses without
//! a panic, keeps the words a person would read and every attachment, and is classified right.

use std::path::PathBuf;

use switchboard_connector_core::AttachmentSource;
use switchboard_connector_email::{parse_mail, MailKind, ParseContext, ThreadTags};

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/mime")
}

fn parse(raw: &[u8]) -> switchboard_connector_email::ParsedMail {
    let tags = ThreadTags::new(b"corpus".to_vec());
    let own = vec!["support@acme.test".to_string()];
    parse_mail(
        raw,
        &ParseContext {
            tags: &tags,
            own_addresses: &own,
        },
    )
}

#[test]
fn every_corpus_message_is_read_without_loss() {
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(corpus_dir().join("expected.json")).expect("expected.json"),
    )
    .unwrap();
    let cases = expected.as_object().unwrap();
    assert!(
        cases.len() >= 70,
        "the corpus is all there ({} cases)",
        cases.len()
    );
    let mut failures = Vec::new();
    for (file, expect) in cases {
        let raw = std::fs::read(corpus_dir().join(file)).unwrap();
        let parsed = parse(&raw);
        let m = &parsed.message;
        let names: Vec<&str> = m.attachments.iter().map(|a| a.filename.as_str()).collect();
        let searchable = format!(
            "{}\n{}\n{}",
            m.text,
            m.html.as_deref().unwrap_or(""),
            names.join("\n")
        );
        if let Some(snippet) = expect["contains"].as_str() {
            if !searchable.contains(snippet) {
                failures.push(format!("{file}: {snippet:?} missing from {:?}", m.text));
            }
        }
        if let Some(count) = expect["attachments"].as_u64() {
            if m.attachments.len() as u64 != count {
                failures.push(format!(
                    "{file}: {} attachments, expected {count}: {names:?}",
                    m.attachments.len()
                ));
            }
        }
        let kind = match parsed.kind {
            MailKind::Customer => "customer",
            MailKind::Automatic => "automatic",
            MailKind::Bounce { .. } => "bounce",
            MailKind::Loop => "loop",
        };
        if kind != expect["kind"].as_str().unwrap() {
            failures.push(format!("{file}: classified {kind}"));
        }
        // What ingest insists on holds for every message.
        if m.external_id.is_empty() || m.external_id.len() > 512 {
            failures.push(format!("{file}: external id {:?}", m.external_id));
        }
        if m.text.contains('\0') || m.text.len() > 64 * 1024 {
            failures.push(format!("{file}: text unfit for the store"));
        }
        if m.text.trim().is_empty() && m.attachments.is_empty() {
            failures.push(format!("{file}: nothing to store"));
        }
        if m.sender.identities.is_empty() {
            failures.push(format!("{file}: no sender identity"));
        }
        for bad in ["<script", "onclick", "onload", "javascript:"] {
            if m.html.as_deref().unwrap_or("").to_lowercase().contains(bad) {
                failures.push(format!("{file}: {bad} survived sanitising"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Each file is a mail of its own, also the five that share one Message-ID: no two carry the
/// same (external id, content key), so ingest stores every one.
#[test]
fn every_corpus_mail_is_told_apart_from_every_other() {
    let mut seen = std::collections::HashMap::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    let mut shared = 0;
    for file in &files {
        let m = parse(&std::fs::read(file).unwrap()).message;
        if m.external_id == "0000000000@oldclient.customer.test" {
            shared += 1;
        }
        let key = (
            m.external_id,
            m.content_key.expect("every mail has a content key"),
        );
        if let Some(other) = seen.insert(key, file.clone()) {
            panic!(
                "{} and {} look like one mail",
                other.display(),
                file.display()
            );
        }
    }
    assert_eq!(
        shared, 5,
        "the five mails of the client that reuses its Message-ID"
    );
}

#[test]
fn every_charset_is_decoded_to_the_words_it_carries() {
    for charset in [
        "koi8-r",
        "shift_jis",
        "iso-2022-jp",
        "gb2312",
        "big5",
        "euc-kr",
        "iso-8859-8",
        "windows-1256",
    ] {
        for cte in ["8bit", "base64", "quoted-printable"] {
            let file = corpus_dir().join(format!("charset-{charset}-{cte}.eml"));
            let parsed = parse(&std::fs::read(&file).unwrap());
            assert!(
                parsed
                    .message
                    .subject
                    .as_deref()
                    .is_some_and(|s| !s.contains("=?")),
                "{charset}/{cte}: subject not decoded: {:?}",
                parsed.message.subject
            );
            assert!(
                !parsed.message.text.contains('\u{fffd}'),
                "{charset}/{cte}: {:?}",
                parsed.message.text
            );
        }
    }
}

/// Big mails (a 30 MB attachment, a 5 MB base64 body on one line) are generated, not committed.
#[test]
fn huge_mails_keep_every_byte() {
    let dir = tempfile_dir();
    let status = std::process::Command::new("python3")
        .arg(corpus_dir().join("make_corpus.py"))
        .arg("--large")
        .arg(&dir)
        .status()
        .expect("python3 runs");
    assert!(status.success());
    let parsed = parse(&std::fs::read(dir.join("huge-attachment.eml")).unwrap());
    let big = parsed
        .message
        .attachments
        .iter()
        .find(|a| a.filename == "big.bin")
        .expect("kept");
    match &big.source {
        AttachmentSource::Inline(bytes) => {
            assert_eq!(bytes.len(), 30 * 1024 * 1024);
            assert!(bytes
                .iter()
                .enumerate()
                .take(100_000)
                .all(|(i, b)| *b == ((i * 7919) % 251) as u8));
        }
        other => panic!("{other:?}"),
    }
    let parsed = parse(&std::fs::read(dir.join("one-line-base64.eml")).unwrap());
    // The visible text is capped for the store; the whole body goes along as body.txt.
    assert!(parsed.message.text.len() <= 64 * 1024);
    let body = parsed
        .message
        .attachments
        .iter()
        .find(|a| a.filename == "body.txt")
        .expect("whole body kept");
    match &body.source {
        AttachmentSource::Inline(bytes) => assert_eq!(bytes.len(), "long line ".len() * 500_000),
        other => panic!("{other:?}"),
    }
    let _ = std::fs::remove_dir_all(dir);
}

fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sb-mime-large-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
