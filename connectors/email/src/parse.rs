//! From the raw bytes of one email to what ingest stores: who wrote it, the words they wrote
//! (quoted history folded away, kept in the HTML), attachments, and how it threads. Parsing never
//! fails: a mail nothing can make sense of is kept whole as an attachment and flagged.

use mail_parser::{Address, HeaderValue, Message, MessageParser, MimeHeaders, PartType};
use serde_json::json;
use sha2::{Digest, Sha256};
use switchboard_connector_core::{
    AttachmentSource, Identity, InboundAttachment, InboundMessage, InboundSender,
};

use crate::fingerprint::content_key;
use crate::{header_block, html, quote, ThreadTags};

/// The longest visible text kept in the message itself (ingest's limit, with room to spare); the
/// whole body then also goes along as `body.txt`.
pub const MAX_TEXT_BYTES: usize = 60 * 1024;

/// What a mail is, beyond its words. Only `Customer` mails ever wait for an agent.
#[derive(Clone, Debug, PartialEq)]
pub enum MailKind {
    /// Written by a person.
    Customer,
    /// An auto-reply, out-of-office or bulk mail: stored, never answered automatically.
    Automatic,
    /// A delivery status notification about mail we sent.
    Bounce {
        /// Message-IDs of the mails that bounced (without angle brackets).
        original: Vec<String>,
        reason: String,
    },
    /// Our own mail coming back to us: dropped, or two inboxes would answer each other forever.
    Loop,
}

/// One parsed mail, ready for ingest.
#[derive(Clone, Debug)]
pub struct ParsedMail {
    pub message: InboundMessage,
    pub kind: MailKind,
    /// The MIME structure made no sense: the original is attached as `original.eml`.
    pub unreadable: bool,
}

/// What the parser needs to know about the inbox the mail came into.
pub struct ParseContext<'a> {
    pub tags: &'a ThreadTags,
    /// The inbox's own addresses, lower-case: mail from them, or with them in X-Loop, is a loop.
    pub own_addresses: &'a [String],
}

pub fn parse_mail(raw: &[u8], cx: &ParseContext<'_>) -> ParsedMail {
    // What mail-parser reads: the mail with a blank line where its header block runs straight
    // into its text. Offsets into the parsed mail point into these bytes; what is kept whole
    // (original.eml) and what keys the mail are the bytes as they came.
    let bytes = header_block::with_separator(raw);
    match MessageParser::default().parse(&bytes) {
        Some(mail) if mail.root_part().headers.iter().any(|_| true) => read(raw, &bytes, &mail, cx),
        _ => unreadable(raw),
    }
}

/// The id ingest keys the mail on: its Message-ID, or a digest of its bytes when it has none, so
/// that the same mail fetched twice is still stored once. Clients that reuse Message-IDs are why
/// the mail also carries its [`content_key`]: ingest tells different mails under one id apart
/// by it.
fn external_id(raw: &[u8], mail: Option<&Message<'_>>) -> String {
    let declared = mail
        .and_then(|m| m.message_id())
        .map(|id| clean_line(id.trim()))
        .filter(|id| !id.is_empty() && id.len() <= 500);
    declared.unwrap_or_else(|| format!("sha256:{}", hex::encode(&Sha256::digest(raw)[..16])))
}

/// The mail kept whole as `original.eml`, for when nothing in it can be stored as it is.
pub fn unreadable(raw: &[u8]) -> ParsedMail {
    let id = external_id(raw, None);
    ParsedMail {
        message: InboundMessage {
            external_id: id.clone(),
            content_key: Some(content_key(raw)),
            sender: InboundSender {
                identities: vec![Identity::new("email_unreadable", id)],
                name: Some("Unreadable email".into()),
                ..Default::default()
            },
            text: "This email could not be read. The original is attached as original.eml.".into(),
            attachments: vec![InboundAttachment {
                filename: "original.eml".into(),
                content_type: "message/rfc822".into(),
                source: AttachmentSource::Inline(raw.to_vec()),
            }],
            meta: Some(json!({ "email": { "unreadable": true } })),
            ..Default::default()
        },
        kind: MailKind::Customer,
        unreadable: true,
    }
}

/// `raw` is the mail as it came, `bytes` what `mail` was parsed from (see [`parse_mail`]).
fn read(raw: &[u8], bytes: &[u8], mail: &Message<'_>, cx: &ParseContext<'_>) -> ParsedMail {
    let from = first_address(mail.from())
        .or_else(|| first_address(mail.sender()))
        .or_else(|| first_address(mail.reply_to()));
    let sender = match &from {
        Some((name, address)) => InboundSender {
            identities: vec![Identity::email(address)],
            name: name.clone(),
            email: Some(address.to_lowercase()),
            phone: None,
        },
        None => InboundSender {
            identities: vec![Identity::new("email_unknown", external_id(raw, Some(mail)))],
            name: Some("Unknown sender".into()),
            ..Default::default()
        },
    };
    let subject = mail
        .subject()
        .map(|s| clean_line(s).chars().take(998).collect::<String>());

    let full_text = body_text(mail);
    let (visible, folded) = quote::fold(&full_text);
    let mut attachments = attachments(bytes, mail);

    let mut text = visible;
    if text.len() > MAX_TEXT_BYTES {
        let mut cut = MAX_TEXT_BYTES;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("\n[…] The whole text is attached as body.txt.");
        attachments.push(InboundAttachment {
            filename: "body.txt".into(),
            content_type: "text/plain; charset=utf-8".into(),
            source: AttachmentSource::Inline(full_text.clone().into_bytes()),
        });
    }

    // mail-parser ends a part at any line that starts with its boundary, even one that goes on
    // with more characters (not a delimiter by RFC 2046), and the rest of that part is lost.
    // When such a line is there, the whole mail goes along as it came.
    let ambiguous = ambiguous_boundary(bytes, mail);
    if ambiguous {
        attachments.push(InboundAttachment {
            filename: "original.eml".into(),
            content_type: "message/rfc822".into(),
            source: AttachmentSource::Inline(raw.to_vec()),
        });
    }

    let own_html = html_body(mail);
    let html = match own_html {
        Some(h) if h.len() <= html::MAX_HTML_BYTES => Some(html::sanitize(&h)),
        Some(h) => {
            attachments.push(InboundAttachment {
                filename: "body.html".into(),
                content_type: "text/html; charset=utf-8".into(),
                source: AttachmentSource::Inline(h.into_bytes()),
            });
            None
        }
        // A plain-text mail with history: keep the history, folded, as HTML beside the text.
        None if !folded.is_empty() => Some(format!(
            "<div style=\"white-space:pre-wrap\">{}</div>\
             <details><summary>…</summary><div style=\"white-space:pre-wrap\">{}</div></details>",
            html::escape(&text),
            html::escape(&folded)
        )),
        None => None,
    };
    let mut unreadable = false;
    if text.trim().is_empty() && attachments.is_empty() {
        let body_start = mail.root_part().offset_body as usize;
        let has_body = bytes
            .get(body_start..)
            .is_some_and(|b| b.iter().any(|c| !c.is_ascii_whitespace()));
        // A "mail" with neither sender nor subject nor words is not a mail we understood.
        let understood = from.is_some() || subject.is_some();
        if has_body || !understood {
            // Bytes were there but nothing readable came out of them: keep them all.
            unreadable = true;
            text = "This email could not be read. The original is attached as original.eml.".into();
            attachments.push(InboundAttachment {
                filename: "original.eml".into(),
                content_type: "message/rfc822".into(),
                source: AttachmentSource::Inline(raw.to_vec()),
            });
        } else {
            text = "(empty email)".into();
        }
    }

    let mut references: Vec<String> = Vec::new();
    for value in [mail.in_reply_to(), mail.references()] {
        let mut ids = header_ids(value);
        ids.reverse();
        for id in ids {
            if !id.is_empty() && id.len() <= 500 && !references.contains(&id) {
                references.push(id);
            }
        }
    }
    references.truncate(50);

    let recipients = recipients(mail);
    let conversation_hint = {
        let mut places: Vec<&str> = recipients.iter().map(String::as_str).collect();
        places.extend(references.iter().map(String::as_str));
        let body = html_body_raw(mail);
        places.push(&full_text);
        if let Some(b) = &body {
            places.push(b);
        }
        places
            .into_iter()
            .find_map(|p| cx.tags.find(p).into_iter().next())
    };

    let kind = classify(mail, from.as_ref().map(|(_, a)| a.as_str()), cx);
    let meta = json!({
        "email": {
            "from": from.as_ref().map(|(_, a)| a),
            "to": addresses(mail.to()),
            "cc": addresses(mail.cc()),
            "message_id": mail.message_id(),
            "date": mail.date().map(|d| d.to_rfc3339()),
            "automatic": kind == MailKind::Automatic,
            "quoted_text": !folded.is_empty(),
            "unreadable": unreadable,
            "ambiguous_mime": ambiguous,
        }
    });
    let message = InboundMessage {
        external_id: external_id(raw, Some(mail)),
        content_key: Some(content_key(raw)),
        sender,
        text,
        html,
        thread_key: Some(thread_key(subject.as_deref())),
        subject,
        attachments,
        references,
        conversation_hint,
        automatic: kind == MailKind::Automatic,
        meta: Some(meta),
    };
    ParsedMail {
        message,
        kind,
        unreadable,
    }
}

/// Whether a body line starts with a multipart boundary but goes on with more than the closing
/// `--` and whitespace: a line a lenient parser takes for a delimiter and loses text at.
fn ambiguous_boundary(raw: &[u8], mail: &Message<'_>) -> bool {
    let boundaries: Vec<String> = mail
        .parts
        .iter()
        .filter_map(|p| p.content_type())
        .filter(|ct| ct.ctype().eq_ignore_ascii_case("multipart"))
        .filter_map(|ct| ct.attribute("boundary"))
        .map(|b| format!("--{b}"))
        .collect();
    if boundaries.is_empty() {
        return false;
    }
    raw.split(|b| *b == b'\n').any(|line| {
        boundaries.iter().any(|b| {
            line.strip_prefix(b.as_bytes()).is_some_and(|rest| {
                let rest = String::from_utf8_lossy(rest);
                let rest = rest.trim_end();
                !rest.is_empty() && rest != "--"
            })
        })
    })
}

/// Control characters (NUL above all) have no place in a header or a database text column.
fn clean_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

fn clean_body(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect()
}

fn first_address(address: Option<&Address<'_>>) -> Option<(Option<String>, String)> {
    let addr = address?.iter().find(|a| {
        a.address
            .as_deref()
            .is_some_and(|s| s.contains('@') && !s.contains(char::is_whitespace))
    })?;
    let email = clean_line(addr.address.as_deref()?).to_lowercase();
    let name = addr
        .name
        .as_deref()
        .map(|n| clean_line(n.trim_matches('"')))
        .filter(|n| !n.is_empty());
    Some((name, email))
}

fn addresses(address: Option<&Address<'_>>) -> Vec<String> {
    address
        .map(|a| {
            a.iter()
                .filter_map(|a| a.address.as_deref())
                .map(|s| clean_line(s).to_lowercase())
                .collect()
        })
        .unwrap_or_default()
}

/// Every address the mail was delivered to: where a reply tag can hide.
fn recipients(mail: &Message<'_>) -> Vec<String> {
    let mut all = addresses(mail.to());
    all.extend(addresses(mail.cc()));
    for name in [
        "Delivered-To",
        "X-Original-To",
        "Envelope-To",
        "X-Envelope-To",
    ] {
        for value in mail.header_values(name) {
            if let Some(t) = value.as_text() {
                all.push(t.to_lowercase());
            }
        }
    }
    all
}

fn header_ids(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(t) => vec![clean_line(t)],
        HeaderValue::TextList(list) => list.iter().map(|t| clean_line(t)).collect(),
        _ => Vec::new(),
    }
}

fn body_text(mail: &Message<'_>) -> String {
    let parts: Vec<String> = (0..mail.text_body_count().max(1))
        .filter_map(|i| mail.body_text(i))
        .map(|t| clean_body(&t))
        .filter(|t| !t.trim().is_empty())
        .collect();
    parts.join("\n\n")
}

/// The mail's own HTML, when it has an HTML part (not one converted from its text).
fn html_body_raw(mail: &Message<'_>) -> Option<String> {
    let parts: Vec<&str> = mail
        .html_bodies()
        .filter_map(|p| match &p.body {
            PartType::Html(h) => Some(h.as_ref()),
            _ => None,
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join("\n"))
}

fn html_body(mail: &Message<'_>) -> Option<String> {
    html_body_raw(mail).map(|h| clean_body(&h))
}

fn attachments(raw: &[u8], mail: &Message<'_>) -> Vec<InboundAttachment> {
    mail.attachments()
        .enumerate()
        .map(|(i, part)| {
            let content_type = part
                .content_type()
                .map(|ct| match ct.subtype() {
                    Some(sub) => format!("{}/{}", ct.ctype(), sub),
                    None => ct.ctype().to_string(),
                })
                .unwrap_or_else(|| "application/octet-stream".into())
                .to_lowercase();
            let data = match &part.body {
                // A forwarded mail is kept as the bytes it came in, not as re-serialised parts.
                PartType::Message(_) => raw
                    .get(part.offset_body as usize..part.offset_end as usize)
                    .map(<[u8]>::to_vec)
                    .unwrap_or_else(|| part.contents().to_vec()),
                _ => part.contents().to_vec(),
            };
            let filename = part
                .attachment_name()
                .map(clean_line)
                .map(|n| n.replace(['/', '\\'], "_"))
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| default_name(i, &content_type, part.message()));
            InboundAttachment {
                filename,
                content_type,
                source: AttachmentSource::Inline(data),
            }
        })
        .collect()
}

fn default_name(index: usize, content_type: &str, message: Option<&Message<'_>>) -> String {
    if let Some(subject) = message.and_then(|m| m.subject()) {
        let subject: String = clean_line(subject)
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || c == ' ' {
                    c
                } else {
                    '_'
                }
            })
            .take(60)
            .collect();
        return format!("{}.eml", subject.trim());
    }
    let ext = match content_type {
        "message/rfc822" => "eml",
        "text/plain" => "txt",
        "text/html" => "html",
        "text/calendar" => "ics",
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "application/pdf" => "pdf",
        _ => "bin",
    };
    format!("attachment-{}.{ext}", index + 1)
}

/// The conversation key for mails that carry no thread references: the subject without its
/// reply and forward prefixes, so "Re: Order 42" joins "Order 42" and a new subject does not.
pub fn thread_key(subject: Option<&str>) -> String {
    const PREFIXES: &[&str] = &[
        "re",
        "fw",
        "fwd",
        "aw",
        "wg",
        "sv",
        "vs",
        "antw",
        "tr",
        "rv",
        "ref",
        "odp",
        "r",
        "enc",
        "res",
        "ynt",
        "ha",
        "رد",
        "תגובה",
        "回复",
        "答复",
        "转发",
        "回覆",
    ];
    let mut s = subject.unwrap_or("").trim().to_lowercase();
    loop {
        let before = s.len();
        // "[ticket #4] " list tags and "Re[2]:" counters.
        if s.starts_with('[') {
            if let Some(end) = s.find(']') {
                s = s[end + 1..].trim_start().to_string();
            }
        }
        for p in PREFIXES {
            if let Some(rest) = s.strip_prefix(p) {
                let rest = rest.trim_start();
                let rest = if rest.starts_with('[') {
                    rest.find(']').map_or(rest, |e| &rest[e + 1..])
                } else {
                    rest
                };
                if let Some(after) = rest.strip_prefix(':').or_else(|| rest.strip_prefix('：')) {
                    s = after.trim_start().to_string();
                    break;
                }
            }
        }
        if s.len() == before {
            break;
        }
    }
    let words: Vec<&str> = s.split_whitespace().collect();
    format!("email:{}", words.join(" "))
}

fn header_text(mail: &Message<'_>, name: &str) -> Option<String> {
    mail.header_raw(name).map(|v| v.trim().to_lowercase())
}

fn classify(mail: &Message<'_>, from: Option<&str>, cx: &ParseContext<'_>) -> MailKind {
    if let Some(bounce) = bounce(mail, from) {
        return bounce;
    }
    let from_us = from.is_some_and(|f| cx.own_addresses.iter().any(|o| o == f));
    let looped = mail
        .header_values("X-Loop")
        .filter_map(|v| v.as_text())
        .any(|v| {
            cx.own_addresses
                .iter()
                .any(|o| v.to_lowercase().contains(o.as_str()))
        });
    if from_us || looped {
        return MailKind::Loop;
    }
    let auto_submitted = header_text(mail, "Auto-Submitted").is_some_and(|v| !v.starts_with("no"));
    let precedence = header_text(mail, "Precedence").is_some_and(|v| {
        ["bulk", "junk", "list", "auto_reply"]
            .iter()
            .any(|p| v.starts_with(p))
    });
    let flagged = [
        "X-Autoreply",
        "X-Autorespond",
        "X-Auto-Reply",
        "X-Autogenerated",
    ]
    .iter()
    .any(|h| mail.header_raw(*h).is_some())
        || header_text(mail, "X-Auto-Response-Suppress").is_some_and(|v| v.contains("all"))
            && header_text(mail, "X-MS-Exchange-Generated-Message-Source").is_some();
    let null_sender = header_text(mail, "Return-Path").is_some_and(|v| v == "<>");
    let list =
        mail.header_raw("List-Id").is_some() || mail.header_raw("List-Unsubscribe").is_some();
    let subject = mail.subject().unwrap_or("").to_lowercase();
    let ooo_subject = [
        "out of office",
        "automatic reply",
        "auto-reply",
        "autoreply",
        "abwesenheitsnotiz",
        "réponse automatique",
    ]
    .iter()
    .any(|s| subject.starts_with(s));
    if auto_submitted || precedence || flagged || null_sender || list || ooo_subject {
        MailKind::Automatic
    } else {
        MailKind::Customer
    }
}

/// A delivery status notification (RFC 3464), or a non-standard bounce from a mailer daemon.
fn bounce(mail: &Message<'_>, from: Option<&str>) -> Option<MailKind> {
    let report = mail.root_part().content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
            && ct
                .attribute("report-type")
                .is_some_and(|t| t.eq_ignore_ascii_case("delivery-status"))
    });
    let daemon = from.is_some_and(|f| {
        let local = f.split('@').next().unwrap_or("");
        local == "mailer-daemon" || local == "postmaster"
    });
    if !report && !daemon {
        return None;
    }
    let mut original = Vec::new();
    let mut reason = String::new();
    for part in &mail.parts {
        let Some(ct) = part.content_type() else {
            continue;
        };
        let kind = format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or("")).to_lowercase();
        match kind.as_str() {
            "message/delivery-status" | "message/global-delivery-status" => {
                let text = String::from_utf8_lossy(part.contents()).to_string();
                for line in text.lines() {
                    let lower = line.to_lowercase();
                    if lower.starts_with("diagnostic-code:")
                        || (reason.is_empty() && lower.starts_with("status:"))
                    {
                        reason = clean_line(line.split_once(':').map_or(line, |(_, v)| v));
                    }
                }
            }
            "message/rfc822"
            | "message/global"
            | "text/rfc822-headers"
            | "message/rfc822-headers" => {
                let id = match part.message() {
                    Some(m) => m.message_id().map(str::to_string),
                    None => MessageParser::default()
                        .parse(part.contents())
                        .and_then(|m| m.message_id().map(str::to_string)),
                };
                if let Some(id) = id {
                    original.push(clean_line(&id));
                }
            }
            _ => {}
        }
    }
    if original.is_empty() && !report {
        // A mailer daemon's plain note with no original attached: an automatic mail, no more.
        return Some(MailKind::Automatic);
    }
    for id in header_ids(mail.in_reply_to()) {
        if !original.contains(&id) {
            original.push(id);
        }
    }
    if reason.is_empty() {
        reason = "the recipient's mail server refused the message".into();
    }
    Some(MailKind::Bounce { original, reason })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cx_parse(raw: &str) -> ParsedMail {
        let tags = ThreadTags::new(b"k".to_vec());
        let own = vec!["support@acme.test".to_string()];
        parse_mail(
            raw.as_bytes(),
            &ParseContext {
                tags: &tags,
                own_addresses: &own,
            },
        )
    }

    #[test]
    fn a_plain_reply_reads_sender_subject_visible_text_and_references() {
        let mail = cx_parse(
            "From: \"Bob Smith\" <Bob@Customer.test>\r\nTo: support@acme.test\r\nSubject: Re: Order 42\r\n\
             Message-ID: <r2@customer.test>\r\nIn-Reply-To: <o1@acme.test>\r\nReferences: <o0@acme.test> <o1@acme.test>\r\n\r\n\
             It arrived broken.\r\n\r\nOn Mon, Support <support@acme.test> wrote:\r\n> Shipped!\r\n",
        );
        let m = &mail.message;
        assert_eq!(mail.kind, MailKind::Customer);
        assert_eq!(m.external_id, "r2@customer.test");
        assert_eq!(
            m.sender.identities,
            vec![Identity::email("bob@customer.test")]
        );
        assert_eq!(m.sender.name.as_deref(), Some("Bob Smith"));
        assert_eq!(m.text, "It arrived broken.");
        assert!(
            m.html.as_deref().unwrap().contains("Shipped!"),
            "history kept"
        );
        assert_eq!(m.references, vec!["o1@acme.test", "o0@acme.test"]);
        assert_eq!(m.thread_key.as_deref(), Some("email:order 42"));
    }

    #[test]
    fn subjects_lose_their_reply_prefixes() {
        assert_eq!(thread_key(Some("Re: RE: Fwd: Order 42")), "email:order 42");
        assert_eq!(
            thread_key(Some("AW: [Ticket#7] Re[2]: Order  42")),
            "email:order 42"
        );
        assert_eq!(thread_key(Some("Réunion")), "email:réunion");
        assert_eq!(thread_key(None), "email:");
    }

    #[test]
    fn auto_replies_and_loops_are_recognised() {
        let ooo = cx_parse(
            "From: a@b.test\r\nAuto-Submitted: auto-replied\r\nSubject: Away\r\n\r\nI am away",
        );
        assert_eq!(ooo.kind, MailKind::Automatic);
        assert!(ooo.message.automatic);
        let bulk = cx_parse("From: a@b.test\r\nPrecedence: bulk\r\n\r\nNews");
        assert_eq!(bulk.kind, MailKind::Automatic);
        let looped = cx_parse("From: Support <support@acme.test>\r\n\r\nhello");
        assert_eq!(looped.kind, MailKind::Loop);
        let person = cx_parse("From: a@b.test\r\nAuto-Submitted: no\r\n\r\nhello");
        assert_eq!(person.kind, MailKind::Customer);
    }

    #[test]
    fn a_bounce_names_the_mail_that_failed() {
        let dsn = "From: MAILER-DAEMON@mx.test\r\nTo: support@acme.test\r\nSubject: Undelivered\r\n\
            MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n\
            --b\r\nContent-Type: text/plain\r\n\r\nYour mail could not be delivered.\r\n\
            --b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.test\r\n\r\nFinal-Recipient: rfc822; gone@customer.test\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\
            --b\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: support@acme.test\r\nMessage-ID: <sb-42.c7-abc@acme.test>\r\nSubject: Hi\r\n\r\n--b--\r\n";
        match cx_parse(dsn).kind {
            MailKind::Bounce { original, reason } => {
                assert_eq!(original, vec!["sb-42.c7-abc@acme.test"]);
                assert!(reason.contains("550 5.1.1"), "{reason}");
            }
            other => panic!("not a bounce: {other:?}"),
        }
    }

    #[test]
    fn a_reply_tag_in_the_recipient_threads_the_mail() {
        let tags = ThreadTags::new(b"k".to_vec());
        let to = tags.reply_address("support@acme.test", 31);
        let raw = format!("From: a@b.test\r\nTo: {to}\r\nSubject: new words\r\n\r\nhello");
        let own = vec![];
        let mail = parse_mail(
            raw.as_bytes(),
            &ParseContext {
                tags: &tags,
                own_addresses: &own,
            },
        );
        assert_eq!(mail.message.conversation_hint, Some(31));
    }

    #[test]
    fn mails_without_message_id_get_a_stable_digest_id() {
        let a = cx_parse("From: a@b.test\r\n\r\nhello");
        let b = cx_parse("From: a@b.test\r\n\r\nhello");
        assert!(a.message.external_id.starts_with("sha256:"));
        assert_eq!(a.message.external_id, b.message.external_id);
    }

    #[test]
    fn a_line_that_only_looks_like_a_boundary_loses_nothing() {
        let raw = "From: a@b.test\r\nSubject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"bnd\"\r\n\r\n\
            --bnd\r\nContent-Type: text/plain\r\n\r\nfirst line\r\n--bndx goes on\r\nthe words after\r\n--bnd--\r\n";
        let mail = cx_parse(raw);
        let original = mail
            .message
            .attachments
            .iter()
            .find(|a| a.filename == "original.eml")
            .expect("kept whole");
        match &original.source {
            AttachmentSource::Inline(bytes) => assert_eq!(bytes, raw.as_bytes()),
            other => panic!("{other:?}"),
        }
        // An ordinary multipart mail is not flagged.
        let plain = "From: a@b.test\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"bnd\"\r\n\r\n\
            --bnd\r\nContent-Type: text/plain\r\n\r\nhello\r\n--bnd--  \r\n";
        assert!(cx_parse(plain).message.attachments.is_empty());
    }

    #[test]
    fn text_right_after_the_headers_is_the_body() {
        // No blank line: Python's `email` keeps the first line that is not a field as the body.
        let mail = cx_parse(
            "From: a@b.test\r\nSubject: Broken printer\r\nMessage-ID: <nb@b.test>\r\n\
             My printer stopped working\r\nafter the update.\r\n\r\nThanks, Peter\r\n",
        );
        let m = &mail.message;
        assert!(!mail.unreadable);
        assert_eq!(
            m.external_id, "nb@b.test",
            "the fields before the text still count"
        );
        assert_eq!(m.subject.as_deref(), Some("Broken printer"));
        assert_eq!(
            m.text,
            "My printer stopped working\nafter the update.\n\nThanks, Peter"
        );
    }

    #[test]
    fn different_mails_under_one_message_id_have_different_content_keys() {
        let one = cx_parse("From: a@b.test\r\nMessage-ID: <same@b.test>\r\n\r\nfirst");
        let two = cx_parse("From: a@b.test\r\nMessage-ID: <same@b.test>\r\n\r\nsecond");
        assert_eq!(one.message.external_id, two.message.external_id);
        assert_ne!(one.message.content_key, two.message.content_key);
        let again = cx_parse("From: a@b.test\r\nMessage-ID: <same@b.test>\r\n\r\nfirst");
        assert_eq!(one.message.content_key, again.message.content_key);
    }

    #[test]
    fn garbage_is_kept_whole_and_flagged() {
        let mail = parse_mail(
            b"",
            &ParseContext {
                tags: &ThreadTags::new(b"k".to_vec()),
                own_addresses: &[],
            },
        );
        assert!(mail.unreadable);
        assert_eq!(mail.message.attachments.len(), 1);
    }

    #[test]
    fn nul_bytes_never_reach_the_store() {
        let mail = cx_parse("From: a@b.test\r\nSubject: a\0b\r\n\r\nhel\0lo");
        assert!(!mail.message.text.contains('\0'));
        assert!(!mail.message.subject.unwrap().contains('\0'));
    }
}
