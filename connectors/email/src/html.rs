//! Email HTML made safe to show: ammonia keeps the formatting and drops scripts, event handlers,
//! forms, frames and every URL scheme that could run code. Inline `style` is kept (mail layout
//! depends on it); the console shows the result in a sandboxed iframe, so a style cannot reach
//! beyond that frame. Remote images are kept too, and load when an agent opens the whole mail.

use std::collections::HashSet;

/// The most HTML kept per message; bigger bodies are kept whole as an attachment instead.
pub const MAX_HTML_BYTES: usize = 2 * 1024 * 1024;

pub fn sanitize(html: &str) -> String {
    let schemes: HashSet<&str> = ["http", "https", "mailto", "tel", "cid"]
        .into_iter()
        .collect();
    ammonia::Builder::default()
        .url_schemes(schemes)
        .link_rel(Some("noopener noreferrer nofollow"))
        .add_generic_attributes([
            "style", "dir", "lang", "align", "bgcolor", "width", "height",
        ])
        .add_tag_attributes("td", ["colspan", "rowspan", "valign"])
        .add_tag_attributes("table", ["cellpadding", "cellspacing", "border"])
        .add_tag_attributes("font", ["color", "face", "size"])
        .add_tags(["font", "center"])
        .clean(html)
        .to_string()
}

/// Plain text as HTML, for mails that have no HTML part of their own.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_and_handlers_are_dropped_and_formatting_stays() {
        let dirty = r#"<p style="color:red" onclick="steal()">Hi <b>there</b><script>alert(1)</script>
            <a href="javascript:alert(1)">x</a><img src="cid:logo@acme"><iframe src="https://evil"></iframe></p>"#;
        let clean = sanitize(dirty);
        assert!(clean.contains("<b>there</b>"));
        assert!(clean.contains("color:red"));
        assert!(clean.contains("cid:logo@acme"));
        for bad in ["script", "onclick", "javascript", "iframe"] {
            assert!(!clean.contains(bad), "{bad} survived: {clean}");
        }
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;");
    }
}
