//! Attachment names and content types: checked strictly when a file is uploaded, and made safe
//! for download headers whatever is stored (rows from before these checks, other channels).
//! A stored value with a line break must never turn a download into a 500 or a forged header.

/// The longest file name kept, in characters.
pub const FILENAME_MAX: usize = 255;
/// The longest content type kept, parameters included.
pub const CONTENT_TYPE_MAX: usize = 255;

/// Why an uploaded name or type was refused; the caller names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetaError {
    #[error("is empty")]
    Empty,
    #[error("is longer than {0} characters")]
    TooLong(usize),
    #[error("contains a control character")]
    Control,
    #[error("contains a path separator")]
    Path,
    #[error("is not a media type like image/png")]
    NotMediaType,
    #[error("{0} is not an accepted type")]
    NotAccepted(String),
}

/// Characters that change how text is shown or parsed without being visible: C0/C1 controls and
/// the bidirectional overrides that disguise `invoice\u{202e}fdp.exe` as `invoice.pdf`.
fn is_hidden_control(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// An uploaded file name, trimmed: no controls, no path, at most [`FILENAME_MAX`] characters.
pub fn check_filename(raw: &str) -> Result<String, MetaError> {
    let name = raw.trim();
    if name.is_empty() || name == "." || name == ".." {
        return Err(MetaError::Empty);
    }
    if name.chars().any(is_hidden_control) {
        return Err(MetaError::Control);
    }
    if name.contains(['/', '\\']) {
        return Err(MetaError::Path);
    }
    if name.chars().count() > FILENAME_MAX {
        return Err(MetaError::TooLong(FILENAME_MAX));
    }
    Ok(name.to_string())
}

/// RFC 9110 `tchar`.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A content type in canonical form (`type/subtype; name=value`, type and parameter names
/// lowercased), or why it is not one. Only printable ASCII survives, so the result is always a
/// valid header value.
pub fn parse_content_type(raw: &str) -> Result<String, MetaError> {
    if raw.chars().any(is_hidden_control) {
        return Err(MetaError::Control);
    }
    if raw.len() > CONTENT_TYPE_MAX {
        return Err(MetaError::TooLong(CONTENT_TYPE_MAX));
    }
    let mut parts = raw.split(';');
    let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let (kind, subtype) = essence.split_once('/').ok_or(MetaError::NotMediaType)?;
    if !is_token(kind) || !is_token(subtype) {
        return Err(MetaError::NotMediaType);
    }
    let mut canonical = essence.clone();
    for param in parts {
        let param = param.trim();
        if param.is_empty() {
            continue;
        }
        let (name, value) = param.split_once('=').ok_or(MetaError::NotMediaType)?;
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
        let quoted = value.len() >= 2
            && value.starts_with('"')
            && value.ends_with('"')
            && value[1..value.len() - 1]
                .bytes()
                .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\');
        if !is_token(&name) || !(is_token(value) || quoted) {
            return Err(MetaError::NotMediaType);
        }
        canonical.push_str(&format!("; {name}={value}"));
    }
    Ok(canonical)
}

/// Whether a canonical content type is on the allow-list (`type/subtype` or `type/*`).
pub fn content_type_allowed(content_type: &str, allowed: &[String]) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    allowed.iter().any(|pattern| {
        let pattern = pattern.trim();
        match pattern.strip_suffix("/*") {
            Some(family) => essence
                .split_once('/')
                .is_some_and(|(kind, _)| kind.eq_ignore_ascii_case(family)),
            None => pattern.eq_ignore_ascii_case(essence),
        }
    })
}

/// The `Content-Type` a stored attachment is served with: its own when it parses, otherwise
/// bytes of no particular kind.
pub fn download_content_type(stored: &str) -> String {
    parse_content_type(stored).unwrap_or_else(|_| "application/octet-stream".into())
}

/// An RFC 6266 `Content-Disposition: attachment` for any stored name: an ASCII `filename`
/// fallback for old clients, and the real name as UTF-8 in `filename*`.
pub fn content_disposition(stored: &str) -> String {
    let clean: String = stored
        .chars()
        .filter(|c| !is_hidden_control(*c))
        .map(|c| if matches!(c, '/' | '\\') { '_' } else { c })
        .collect();
    let clean = clean.trim();
    let clean = if clean.is_empty() {
        "attachment"
    } else {
        clean
    };
    let ascii: String = clean
        .chars()
        .map(|c| match c {
            ' '..='~' if c != '"' && c != '%' => c,
            _ => '_',
        })
        .collect();
    let mut encoded = String::new();
    for byte in clean.bytes() {
        // RFC 8187 attr-char: everything else is percent-encoded.
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_controls_paths_or_overrides_are_refused() {
        assert_eq!(check_filename("  report.pdf "), Ok("report.pdf".into()));
        assert_eq!(
            check_filename("résumé 2024.pdf"),
            Ok("résumé 2024.pdf".into())
        );
        assert_eq!(check_filename("a\nb.png"), Err(MetaError::Control));
        assert_eq!(
            check_filename("a\r\nSet-Cookie: x"),
            Err(MetaError::Control)
        );
        assert_eq!(
            check_filename("invoice\u{202e}fdp.exe"),
            Err(MetaError::Control)
        );
        assert_eq!(check_filename("../etc/passwd"), Err(MetaError::Path));
        assert_eq!(check_filename(".."), Err(MetaError::Empty));
        assert_eq!(check_filename(" "), Err(MetaError::Empty));
        assert_eq!(
            check_filename(&"a".repeat(256)),
            Err(MetaError::TooLong(FILENAME_MAX))
        );
    }

    #[test]
    fn content_types_are_parsed_into_canonical_form() {
        assert_eq!(parse_content_type("image/PNG"), Ok("image/png".into()));
        assert_eq!(
            parse_content_type("Text/Plain ; Charset=UTF-8"),
            Ok("text/plain; charset=UTF-8".into())
        );
        assert_eq!(
            parse_content_type("text/plain; name=\"a b.txt\""),
            Ok("text/plain; name=\"a b.txt\"".into())
        );
        for bad in [
            "image/png\r\nSet-Cookie: a=b",
            "png",
            "image/",
            "/png",
            "image/png; charset",
            "image/p ng",
            "image/png; name=\"a\"b\"",
        ] {
            assert!(parse_content_type(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_allow_list_takes_exact_types_and_families() {
        let allowed = vec!["image/*".to_string(), "application/pdf".to_string()];
        assert!(content_type_allowed("image/png", &allowed));
        assert!(content_type_allowed("application/pdf; x=1", &allowed));
        assert!(!content_type_allowed("text/html", &allowed));
        assert!(!content_type_allowed("imagex/png", &allowed));
    }

    #[test]
    fn any_stored_value_becomes_safe_download_headers() {
        assert_eq!(
            download_content_type("image/png\r\nSet-Cookie: a=b"),
            "application/octet-stream"
        );
        assert_eq!(download_content_type("image/png"), "image/png");
        assert_eq!(
            content_disposition("a\n\"b\".png"),
            "attachment; filename=\"a_b_.png\"; filename*=UTF-8''a%22b%22.png"
        );
        assert_eq!(
            content_disposition("résumé.pdf"),
            "attachment; filename=\"r_sum_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"
        );
        assert_eq!(
            content_disposition("\r\n"),
            "attachment; filename=\"attachment\"; filename*=UTF-8''attachment"
        );
        for stored in [
            "a\r\nSet-Cookie: x=1",
            "\u{0}\u{7f}",
            "日本語.txt",
            "50% off.pdf",
        ] {
            axum::http::HeaderValue::from_str(&content_disposition(stored))
                .unwrap_or_else(|e| panic!("{stored:?}: {e}"));
        }
    }
}
