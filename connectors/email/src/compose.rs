//! Outgoing mail: the agent's reply as a multipart message that threads in every client. It
//! carries a stable Message-ID (the same on every retry), In-Reply-To and References, the agent's
//! name, a tagged Reply-To and a plain-text part beside the HTML.

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::Message;

/// Everything one outgoing mail says. Message-IDs are written without angle brackets.
#[derive(Clone, Debug, Default)]
pub struct Draft {
    pub message_id: String,
    pub from_name: Option<String>,
    pub from_address: String,
    pub reply_to: Option<String>,
    pub to: Vec<(Option<String>, String)>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    pub subject: String,
    pub in_reply_to: Option<String>,
    /// Oldest first, as the header lists them.
    pub references: Vec<String>,
    pub text: String,
    pub html: String,
    pub attachments: Vec<DraftAttachment>,
    /// Sent by the hub itself (not an agent): marked so that the other side never answers it.
    pub automatic: bool,
}

#[derive(Clone, Debug)]
pub struct DraftAttachment {
    pub filename: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("invalid address {0:?}")]
    Address(String),
    #[error("the mail has no recipient")]
    NoRecipient,
    #[error("cannot build the mail: {0}")]
    Build(String),
}

fn mailbox(name: Option<&str>, address: &str) -> Result<Mailbox, ComposeError> {
    let address = address
        .trim()
        .parse()
        .map_err(|_| ComposeError::Address(address.to_string()))?;
    Ok(Mailbox::new(
        name.map(|n| n.replace(['\r', '\n'], " ")),
        address,
    ))
}

fn angle(id: &str) -> String {
    format!("<{}>", id.trim_matches(|c| c == '<' || c == '>'))
}

pub fn compose(draft: &Draft) -> Result<Message, ComposeError> {
    if draft.to.is_empty() {
        return Err(ComposeError::NoRecipient);
    }
    let mut builder = Message::builder()
        .message_id(Some(angle(&draft.message_id)))
        .from(mailbox(draft.from_name.as_deref(), &draft.from_address)?)
        .subject(draft.subject.replace(['\r', '\n'], " "));
    if let Some(reply_to) = &draft.reply_to {
        builder = builder.reply_to(mailbox(None, reply_to)?);
    }
    for (name, address) in &draft.to {
        builder = builder.to(mailbox(name.as_deref(), address)?);
    }
    for address in &draft.cc {
        builder = builder.cc(mailbox(None, address)?);
    }
    for address in &draft.bcc {
        builder = builder.bcc(mailbox(None, address)?);
    }
    if let Some(parent) = &draft.in_reply_to {
        builder = builder.in_reply_to(angle(parent));
    }
    if !draft.references.is_empty() {
        let refs: Vec<String> = draft.references.iter().map(|r| angle(r)).collect();
        builder = builder.references(refs.join(" "));
    }
    // Tells the other side's auto-responders not to answer (RFC 3834 and Exchange's header).
    builder = builder.raw_header(HeaderValue::new(
        HeaderName::new_from_ascii_str("X-Auto-Response-Suppress"),
        "All".into(),
    ));
    if draft.automatic {
        builder = builder.raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-replied".into(),
        ));
    }
    builder = builder.raw_header(HeaderValue::new(
        HeaderName::new_from_ascii_str("X-Loop"),
        draft.from_address.to_lowercase(),
    ));

    let body = MultiPart::alternative_plain_html(draft.text.clone(), draft.html.clone());
    let message = if draft.attachments.is_empty() {
        builder.multipart(body)
    } else {
        let mut mixed = MultiPart::mixed().multipart(body);
        for a in &draft.attachments {
            let content_type = ContentType::parse(&a.content_type)
                .unwrap_or(ContentType::parse("application/octet-stream").expect("valid"));
            let part: SinglePart =
                Attachment::new(a.filename.clone()).body(a.data.clone(), content_type);
            mixed = mixed.singlepart(part);
        }
        builder.multipart(mixed)
    };
    message.map_err(|e| ComposeError::Build(e.to_string()))
}

/// The agent's words as HTML: paragraphs, line breaks, links, and `**bold**` / `_italic_`, the
/// little formatting the console's reply box offers.
pub fn text_to_html(text: &str) -> String {
    let mut out = String::new();
    for paragraph in text.replace("\r\n", "\n").split("\n\n") {
        if paragraph.trim().is_empty() {
            continue;
        }
        out.push_str("<p>");
        let lines: Vec<String> = paragraph.lines().map(inline).collect();
        out.push_str(&lines.join("<br>\n"));
        out.push_str("</p>\n");
    }
    out
}

fn inline(line: &str) -> String {
    let mut out = String::new();
    for (i, word) in line.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let escaped = crate::html::escape(word);
        if (word.starts_with("https://") || word.starts_with("http://")) && word.len() > 8 {
            out.push_str(&format!("<a href=\"{escaped}\">{escaped}</a>"));
        } else {
            out.push_str(&escaped);
        }
    }
    emphasis(&emphasis(&out, "**", "strong"), "_", "em")
}

fn emphasis(s: &str, mark: &str, tag: &str) -> String {
    let parts: Vec<&str> = s.split(mark).collect();
    if parts.len() < 3 || parts.len().is_multiple_of(2) {
        return s.to_string();
    }
    let mut out = String::new();
    for (i, p) in parts.iter().enumerate() {
        if i % 2 == 1 && !p.is_empty() && !p.contains("href=") {
            out.push_str(&format!("<{tag}>{p}</{tag}>"));
        } else if i % 2 == 1 {
            out.push_str(&format!("{mark}{p}{mark}"));
        } else {
            out.push_str(p);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> Draft {
        Draft {
            message_id: "sb-5.c7-aaaaaaaaaaaa@acme.test".into(),
            from_name: Some("Ana (Acme Support)".into()),
            from_address: "support@acme.test".into(),
            reply_to: Some("support+c7-aaaaaaaaaaaa@acme.test".into()),
            to: vec![(Some("Bob".into()), "bob@customer.test".into())],
            cc: vec!["boss@customer.test".into()],
            subject: "Re: Order 42".into(),
            in_reply_to: Some("r2@customer.test".into()),
            references: vec!["o1@customer.test".into(), "r2@customer.test".into()],
            text: "Hello".into(),
            html: "<p>Hello</p>".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_reply_carries_its_thread_headers_and_both_parts() {
        let raw = String::from_utf8(compose(&draft()).unwrap().formatted()).unwrap();
        for expected in [
            "Message-ID: <sb-5.c7-aaaaaaaaaaaa@acme.test>",
            "In-Reply-To: <r2@customer.test>",
            "References: <o1@customer.test> <r2@customer.test>",
            "Reply-To: support+c7-aaaaaaaaaaaa@acme.test",
            "Cc: boss@customer.test",
            "text/plain",
            "text/html",
        ] {
            assert!(raw.contains(expected), "missing {expected} in\n{raw}");
        }
        assert!(
            raw.contains("Ana (Acme Support)") || raw.contains("=?utf-8?"),
            "{raw}"
        );
        assert!(!raw.contains("Auto-Submitted"));
    }

    #[test]
    fn the_mail_parses_back_to_the_same_thread() {
        let raw = compose(&draft()).unwrap().formatted();
        let tags = crate::ThreadTags::new(b"k".to_vec());
        let parsed = crate::parse_mail(
            &raw,
            &crate::ParseContext {
                tags: &tags,
                own_addresses: &[],
            },
        );
        assert_eq!(parsed.message.external_id, "sb-5.c7-aaaaaaaaaaaa@acme.test");
        assert_eq!(
            parsed.message.references,
            vec!["r2@customer.test", "o1@customer.test"]
        );
        assert_eq!(parsed.message.text, "Hello");
    }

    #[test]
    fn attachments_and_blind_copies_go_out_right() {
        let mut d = draft();
        d.bcc = vec!["audit@acme.test".into()];
        d.attachments = vec![DraftAttachment {
            filename: "invoice.pdf".into(),
            content_type: "application/pdf".into(),
            data: b"%PDF-1.4 tiny".to_vec(),
        }];
        let message = compose(&d).unwrap();
        let envelope: Vec<String> = message
            .envelope()
            .to()
            .iter()
            .map(|a| a.to_string())
            .collect();
        assert!(
            envelope.contains(&"audit@acme.test".to_string()),
            "BCC is a recipient: {envelope:?}"
        );
        let raw = String::from_utf8(message.formatted()).unwrap();
        assert!(
            !raw.contains("audit@acme.test"),
            "but not a header anyone sees"
        );
        let tags = crate::ThreadTags::new(b"k".to_vec());
        let parsed = crate::parse_mail(
            raw.as_bytes(),
            &crate::ParseContext {
                tags: &tags,
                own_addresses: &[],
            },
        );
        assert_eq!(parsed.message.attachments.len(), 1);
        assert_eq!(parsed.message.attachments[0].filename, "invoice.pdf");
        assert_eq!(
            parsed.message.attachments[0].source,
            switchboard_connector_core::AttachmentSource::Inline(b"%PDF-1.4 tiny".to_vec())
        );
    }

    #[test]
    fn bad_addresses_are_refused_clearly() {
        let mut d = draft();
        d.to = vec![(None, "not an address".into())];
        assert!(matches!(compose(&d), Err(ComposeError::Address(_))));
        d.to.clear();
        assert!(matches!(compose(&d), Err(ComposeError::NoRecipient)));
    }

    #[test]
    fn agent_text_becomes_simple_html() {
        let html = text_to_html("Hi **Bob**,\nsee https://acme.test/a?b=1&c=2\n\n_Thanks_ <3");
        assert!(html.contains("<strong>Bob</strong>"));
        assert!(html.contains("<a href=\"https://acme.test/a?b=1&amp;c=2\">"));
        assert!(html.contains("<em>Thanks</em> &lt;3"));
        assert_eq!(html.matches("<p>").count(), 2);
    }
}
