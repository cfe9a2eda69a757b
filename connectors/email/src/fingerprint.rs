//! What makes two deliveries the same mail, whatever their Message-ID says.
//!
//! Old and broken clients write one Message-ID on many different mails, so the Message-ID cannot
//! decide alone. The same mail, though, reaches us again and again: an IMAP re-read after a
//! UIDVALIDITY change or a crash, an MTA retrying a forward whose answer it never heard, or both
//! paths delivering one mail (the IMAP copy of the mailbox, and the copy the MTA forwarded).
//! The copies of one mail differ only in what transport wrote on them, so the key is a digest of
//! the mail with that taken off:
//!
//! - trace and delivery fields that relays, delivery agents, filters and mail stores add on the
//!   way in: `Received`, `Return-Path`, `Delivered-To`, `Envelope-To`, `Authentication-Results`,
//!   `Received-SPF`, `ARC-*`, `DKIM-Signature` (a forwarding relay may add its own), mbox's
//!   `Status` and `Content-Length`, and every `X-*` field (X-Original-To, X-Spam-*,
//!   X-Virus-Scanned, Dovecot's X-UID, …). An author's client writes X- fields too (X-Mailer),
//!   but those are the same on every copy, and two mails that differ in nothing but X- fields
//!   read the same to an agent: folding them loses nothing anyone would see;
//! - line endings: IMAP serves CRLF, a Maildir file may hold bare LF, and stores convert;
//! - blank lines and spaces at the very end: SMTP gives a mail that lacks one a final line break.
//!
//! Everything else counts: the author's fields (From, Date, Subject, …) in their order, and every
//! byte of the body. Identical bytes always have the same key.

use sha2::{Digest, Sha256};

use crate::header_block;

/// `sha256:` and 32 hex digits, over the mail without its transport marks.
pub fn content_key(raw: &[u8]) -> String {
    let block = header_block::read(raw);
    let mut hash = Sha256::new();
    for field in block.fields.iter().filter(|f| !added_in_transport(f.name)) {
        hash_one_line_ending(&mut hash, field.raw);
        if !field.raw.ends_with(b"\n") {
            hash.update(b"\n");
        }
    }
    hash.update(b"\n");
    let mut body = &raw[block.body_start..];
    while let [rest @ .., b'\n' | b'\r' | b' ' | b'\t'] = body {
        body = rest;
    }
    hash_one_line_ending(&mut hash, body);
    format!("sha256:{}", hex::encode(&hash.finalize()[..16]))
}

fn added_in_transport(name: &[u8]) -> bool {
    const ADDED: &[&str] = &[
        "received",
        "return-path",
        "delivered-to",
        "envelope-to",
        "authentication-results",
        "received-spf",
        "dkim-signature",
        "status",
        "content-length",
    ];
    let name = String::from_utf8_lossy(name).trim().to_ascii_lowercase();
    name.starts_with("x-") || name.starts_with("arc-") || ADDED.contains(&name.as_str())
}

/// Hashes `bytes` with CRLF made LF; a lone CR inside a line is content and stays.
fn hash_one_line_ending(hash: &mut Sha256, bytes: &[u8]) {
    let mut from = 0;
    for (i, pair) in bytes.windows(2).enumerate() {
        if pair == b"\r\n" {
            hash.update(&bytes[from..i]);
            from = i + 1;
        }
    }
    hash.update(&bytes[from..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAIL: &str = "From: Walt <walt@old.test>\r\nTo: support@acme.test\r\nSubject: Printer\r\n\
        Date: Mon, 2 Nov 2026 09:00:00 +0100\r\nMessage-ID: <0000@old.test>\r\nX-Mailer: OldMail\r\n\r\n\
        The printer is offline.\r\n";

    #[test]
    fn the_same_bytes_are_the_same_mail() {
        assert_eq!(content_key(MAIL.as_bytes()), content_key(MAIL.as_bytes()));
        assert!(content_key(MAIL.as_bytes()).starts_with("sha256:"));
    }

    #[test]
    fn copies_that_took_different_roads_are_the_same_mail() {
        // The copy Dovecot serves: delivery fields on top, a spam filter's verdict, CRLF.
        let imap = format!(
            "Return-Path: <walt@old.test>\r\nDelivered-To: support@acme.test\r\n\
             Received: from mx.old.test by mx1.acme.test; Mon, 2 Nov 2026 09:00:01 +0100\r\n\
             X-Spam-Status: No, score=0.1\r\n{MAIL}"
        );
        // The copy an MTA forwarded: its own Received and Authentication-Results, LF line
        // endings as a Maildir file holds them, and no final line break.
        let forwarded = format!(
            "Received: from relay.acme.test\n\tby switchboard; Mon, 2 Nov 2026 09:00:02 +0100\n\
             Authentication-Results: relay.acme.test; spf=pass\n{}",
            MAIL.replace("\r\n", "\n").trim_end()
        );
        let key = content_key(MAIL.as_bytes());
        assert_eq!(content_key(imap.as_bytes()), key);
        assert_eq!(content_key(forwarded.as_bytes()), key);
    }

    #[test]
    fn another_mail_under_the_same_message_id_is_another_mail() {
        let key = content_key(MAIL.as_bytes());
        let later = MAIL.replace("09:00:00", "10:30:00");
        let other_words = MAIL.replace("offline", "online again");
        let other_subject = MAIL.replace("Subject: Printer", "Subject: Toner");
        for other in [later, other_words, other_subject] {
            assert_ne!(content_key(other.as_bytes()), key, "{other}");
        }
    }

    #[test]
    fn a_mail_with_no_blank_line_is_keyed_on_its_text_too() {
        let a = "From: a@b.test\nSubject: x\nfirst words\n";
        let b = "From: a@b.test\nSubject: x\nother words\n";
        assert_ne!(content_key(a.as_bytes()), content_key(b.as_bytes()));
    }
}
