//! Folding quoted history and signatures away from the part of a reply the customer just wrote.
//! Nothing is thrown away: the caller keeps the whole body; this only finds where the new text
//! ends.

/// Where a plain-text reply's own words end: `(visible, folded)`, both trimmed. `folded` is the
/// quoted history and signature, empty when there was none.
pub fn fold(text: &str) -> (String, String) {
    let lines: Vec<&str> = text.lines().collect();
    let cut = quote_start(&lines).unwrap_or(lines.len());
    let cut = signature_start(&lines[..cut]).unwrap_or(cut);
    let visible = lines[..cut].join("\n").trim().to_string();
    let folded = lines[cut..].join("\n").trim().to_string();
    if visible.is_empty() {
        // All of it was "quote" (a forward, or a client that only quotes): show it all.
        return (text.trim().to_string(), String::new());
    }
    (visible, folded)
}

/// Endings of the attribution line clients put above quoted history ("On … wrote:"), in the
/// languages customers write in most.
const ATTRIBUTION_ENDINGS: &[&str] = &[
    "wrote:",
    "writes:",
    "schrieb:",
    "a écrit :",
    "a écrit:",
    "escribió:",
    "escreveu:",
    "ha scritto:",
    "schreef:",
    "skrev:",
    "kirjoitti:",
    "napisał:",
    "написал:",
    "написала:",
    "yazdı:",
    "έγραψε:",
    "כתב:",
    "كتب:",
    "نوشت:",
    "写道：",
    "寫道：",
    "のメッセージ:",
    "님이 작성:",
];

const SEPARATORS: &[&str] = &[
    "-----original message-----",
    "----- original message -----",
    "-------- original message --------",
    "-----ursprüngliche nachricht-----",
    "-----message d'origine-----",
    "-----mensaje original-----",
    "________________________________",
];

fn is_attribution(line: &str) -> bool {
    let line = line.trim();
    if line.is_empty() || line.len() >= 400 {
        return false;
    }
    let lower = line.to_lowercase();
    // Arabic and Persian put the verb before the name: "في <date>، كتب <name>:".
    let verb_first = (lower.starts_with("في ") && lower.contains("كتب"))
        || (lower.starts_with("در ") && lower.contains("نوشت"));
    (verb_first && (lower.ends_with(':') || lower.ends_with("：")))
        || ATTRIBUTION_ENDINGS.iter().any(|end| lower.ends_with(end))
}

fn starts_with_header(line: &str, names: &[&str]) -> bool {
    let lower = line.trim_start().to_lowercase();
    names.iter().any(|n| lower.starts_with(n))
}

/// An Outlook-style header block: "From:" followed closely by "Sent:"/"Date:" and "To:"/"Subject:".
fn is_header_block(lines: &[&str], at: usize) -> bool {
    if !starts_with_header(
        lines[at],
        &["from:", "von:", "de :", "de:", "da:", "от:", "من:"],
    ) {
        return false;
    }
    let window = &lines[at + 1..lines.len().min(at + 6)];
    let dated = window.iter().any(|l| {
        starts_with_header(
            l,
            &[
                "sent:",
                "date:",
                "gesendet:",
                "envoyé :",
                "enviado:",
                "отправлено:",
                "التاريخ:",
            ],
        )
    });
    let addressed = window.iter().any(|l| {
        starts_with_header(
            l,
            &[
                "to:",
                "subject:",
                "an:",
                "betreff:",
                "à :",
                "para:",
                "objet :",
                "кому:",
                "إلى:",
            ],
        )
    });
    dated && addressed
}

fn quote_start(lines: &[&str]) -> Option<usize> {
    for (i, line) in lines.iter().enumerate() {
        let lower = line.trim().to_lowercase();
        if SEPARATORS.iter().any(|s| lower.starts_with(s)) && i > 0 {
            return Some(i);
        }
        if is_attribution(line) {
            return Some(i);
        }
        // Gmail wraps a long attribution over two lines: "On Mon, … <a@b" / "> wrote:".
        if lower.starts_with("on ") && lines.get(i + 1).is_some_and(|next| is_attribution(next)) {
            return Some(i);
        }
        if is_header_block(lines, i) && i > 0 {
            return Some(i);
        }
        // A run of "> " lines that goes on to the end (blank lines allowed) is quoted history.
        if line.starts_with('>')
            && lines[i..]
                .iter()
                .all(|l| l.starts_with('>') || l.trim().is_empty())
        {
            return Some(i);
        }
    }
    None
}

/// The usual sign-off separator ("-- ") and the mobile footers clients add.
fn signature_start(lines: &[&str]) -> Option<usize> {
    let footers = [
        "sent from my iphone",
        "sent from my ipad",
        "sent from my android",
        "sent from outlook",
        "get outlook for",
        "sent from mail for windows",
        "sent from yahoo mail",
        "von meinem iphone gesendet",
        "envoyé de mon iphone",
    ];
    for (i, line) in lines.iter().enumerate() {
        if (*line == "-- " || *line == "--") && i > 0 {
            return Some(i);
        }
        let lower = line.trim().to_lowercase();
        if i > 0
            && footers.iter().any(|f| lower.starts_with(f))
            && lines[i + 1..].iter().all(|l| l.trim().is_empty())
        {
            return Some(i);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn gmail_quotes_fold_away() {
        let text = "Thanks, that worked!\n\nOn Mon, 3 Nov 2026 at 10:00, Acme Support <s@acme.test> wrote:\n> Try restarting.\n> Ana\n";
        let (visible, folded) = fold(text);
        assert_eq!(visible, "Thanks, that worked!");
        assert!(folded.starts_with("On Mon"));
        assert!(folded.contains("> Try restarting."));
    }

    #[test]
    fn a_wrapped_attribution_and_a_signature_fold_away() {
        let text = "Still broken.\n-- \nBob Smith\nACME Corp\nOn Tue, 4 Nov 2026 at 09:12, Support Team <support@acme.test>\nwrote:\n> old\n";
        let (visible, folded) = fold(text);
        assert_eq!(visible, "Still broken.");
        assert!(folded.contains("Bob Smith"));
        assert!(folded.contains("> old"));
    }

    #[test]
    fn outlook_header_blocks_fold_away() {
        let text = "Please call me.\r\n\r\n________________________________\r\nFrom: Support <support@acme.test>\r\nSent: Monday, 3 November 2026 10:00\r\nTo: Bob\r\nSubject: RE: Order\r\n\r\nOld text";
        let (visible, folded) = fold(text);
        assert_eq!(visible, "Please call me.");
        assert!(folded.contains("Old text"));
    }

    #[test]
    fn inline_answers_between_quotes_stay_visible() {
        let text = "> Which model?\nThe X200.\n> Since when?\nYesterday.";
        let (visible, folded) = fold(text);
        assert_eq!(visible, text);
        assert!(folded.is_empty());
    }

    #[test]
    fn arabic_replies_fold_their_history() {
        let text = "شكرا لكم\n\nفي الإثنين، كتب فريق الدعم:\n> مرحبا";
        let (visible, folded) = fold(text);
        assert_eq!(visible, "شكرا لكم");
        assert!(folded.contains("مرحبا"));
    }

    #[test]
    fn a_mail_that_is_all_quote_is_shown_whole() {
        let text = "> forwarded line one\n> line two";
        assert_eq!(fold(text), (text.to_string(), String::new()));
    }
}
