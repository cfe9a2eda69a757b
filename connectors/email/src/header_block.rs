//! The header block of a raw mail as it came: its fields one by one, and where the body starts,
//! also when a broken client left out the blank line between the two.
//!
//! The rule is the one Python's `email` package follows (and RFC 5322 implies): the header block
//! is fields and their continuation lines; the first line that is neither (a blank line, or any
//! other text) ends it. A blank line is dropped as the separator; any other line is the first
//! line of the body. mail-parser instead skips such a line as a broken field and goes on looking
//! for the blank line, so a mail whose text follows its Subject directly lost all its words.

use std::borrow::Cow;

/// One header field with its continuation lines, line endings as they came.
pub(crate) struct Field<'a> {
    pub name: &'a [u8],
    pub raw: &'a [u8],
}

pub(crate) struct HeaderBlock<'a> {
    pub fields: Vec<Field<'a>>,
    /// Where the body starts in the raw bytes (after the blank line, if there is one).
    pub body_start: usize,
    /// The body starts at a line of text, with no blank line before it.
    pub unseparated: bool,
}

pub(crate) fn read(raw: &[u8]) -> HeaderBlock<'_> {
    let mut fields: Vec<Field<'_>> = Vec::new();
    let mut field_start = 0;
    let mut at = 0;
    while at < raw.len() {
        let end = raw[at..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(raw.len(), |i| at + i + 1);
        let line = &raw[at..end];
        let content = line.strip_suffix(b"\n").unwrap_or(line);
        let content = content.strip_suffix(b"\r").unwrap_or(content);
        if content.is_empty() {
            return HeaderBlock {
                fields,
                body_start: end,
                unseparated: false,
            };
        }
        if matches!(content[0], b' ' | b'\t') {
            match fields.last_mut() {
                Some(field) => field.raw = &raw[field_start..end],
                None => fields.push(Field {
                    name: b"",
                    raw: line,
                }),
            }
        } else if let Some(name) = field_name(content) {
            field_start = at;
            fields.push(Field { name, raw: line });
        } else {
            return HeaderBlock {
                fields,
                body_start: at,
                unseparated: true,
            };
        }
        at = end;
    }
    HeaderBlock {
        fields,
        body_start: raw.len(),
        unseparated: false,
    }
}

/// The mail with a blank line put where its header block runs into its text, so that a parser
/// that waits for the blank line sees the body where Python's `email` does. A mail with no
/// field at all before its first line of text is left as it is: it has no header block to end.
pub(crate) fn with_separator(raw: &[u8]) -> Cow<'_, [u8]> {
    let block = read(raw);
    if !block.unseparated || block.fields.is_empty() {
        return Cow::Borrowed(raw);
    }
    let at = block.body_start;
    let eol: &[u8] = if raw[..at].ends_with(b"\r\n") {
        b"\r\n"
    } else {
        b"\n"
    };
    let mut out = Vec::with_capacity(raw.len() + eol.len());
    out.extend_from_slice(&raw[..at]);
    out.extend_from_slice(eol);
    out.extend_from_slice(&raw[at..]);
    Cow::Owned(out)
}

/// The name of a field line: printable ASCII up to the colon, as Python reads it, also with the
/// blanks before the colon that RFC 822's obsolete syntax allowed. An mbox `From ` line counts
/// as a field too (Python's rule; mail-parser skips it).
fn field_name(line: &[u8]) -> Option<&[u8]> {
    if line.starts_with(b"From ") {
        return Some(b"From ");
    }
    let name_end = line
        .iter()
        .position(|b| !(33..=126).contains(b) || *b == b':')?;
    let name = &line[..name_end];
    let rest = &line[name_end..];
    let after_blanks = rest
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t'))
        .map(|i| &rest[i..])?;
    after_blanks.starts_with(b":").then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blank_line_ends_the_header_block() {
        let raw = b"From: a@b.test\r\nSubject: x\r\n  folded\r\n\r\nBody: not a field\r\n";
        let block = read(raw);
        let names: Vec<&[u8]> = block.fields.iter().map(|f| f.name).collect();
        assert_eq!(names, vec![&b"From"[..], b"Subject"]);
        assert_eq!(block.fields[1].raw, b"Subject: x\r\n  folded\r\n");
        assert!(!block.unseparated);
        assert_eq!(&raw[block.body_start..], b"Body: not a field\r\n");
        assert!(matches!(with_separator(raw), Cow::Borrowed(_)));
    }

    #[test]
    fn a_line_of_text_after_the_fields_starts_the_body() {
        let raw = b"From: a@b.test\nSubject: x\nMy printer is broken.\nHelp!\n";
        let block = read(raw);
        assert!(block.unseparated);
        assert_eq!(&raw[block.body_start..], b"My printer is broken.\nHelp!\n");
        assert_eq!(
            &*with_separator(raw),
            b"From: a@b.test\nSubject: x\n\nMy printer is broken.\nHelp!\n"
        );
        let crlf = b"Subject: x\r\nHello there: a colon after a space\r\n";
        assert_eq!(
            &*with_separator(crlf),
            b"Subject: x\r\n\r\nHello there: a colon after a space\r\n"
        );
    }

    #[test]
    fn odd_but_valid_fields_do_not_end_the_block() {
        let raw = b"From sender@b.test Mon Nov  2 09:00:00 2026\nSubject : old style\nX-Tab:\tv\n\t\n\ttab-only line above\n\nbody\n";
        let block = read(raw);
        assert_eq!(block.fields.len(), 3);
        assert!(!block.unseparated);
        assert_eq!(&raw[block.body_start..], b"body\n");
    }

    #[test]
    fn text_with_no_field_before_it_is_left_alone() {
        let raw = b"just some bytes\nand more\n";
        assert!(read(raw).fields.is_empty());
        assert!(matches!(with_separator(raw), Cow::Borrowed(_)));
    }
}
