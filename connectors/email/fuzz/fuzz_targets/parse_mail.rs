//! Any bytes an IMAP server or a forwarding MTA hands us must parse without a panic into a mail
//! ingest accepts: an id, a sender, something to store, no NUL, text within the store's limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard_connector_email::{parse_mail, ParseContext, ThreadTags};

fuzz_target!(|raw: &[u8]| {
    let tags = ThreadTags::new(b"fuzz".to_vec());
    let own = vec!["support@acme.test".to_string()];
    let parsed = parse_mail(raw, &ParseContext { tags: &tags, own_addresses: &own });
    let m = parsed.message;
    assert!(!m.external_id.is_empty() && m.external_id.len() <= 512);
    assert!(!m.sender.identities.is_empty());
    assert!(!m.text.contains('\0'));
    assert!(m.text.len() <= 64 * 1024);
    assert!(!m.text.trim().is_empty() || !m.attachments.is_empty());
});
