//! The website widget's modules, joined at compile time into the one classic script served at
//! `/widget.js`.
//!
//! The parts are ES modules in `web/`, so editors, Biome and the console (which shares
//! `web/shared/dom.js`) read them as modules. A site embeds one plain `<script>` tag, though, and
//! must not have to build anything: joining drops each `import` statement and each `export`
//! keyword and wraps the whole in one function, so no name reaches the host page. The parts share
//! that scope, in the order of `PARTS`; the stylesheet comes first, as the string `WIDGET_CSS`.
//! Comment lines, blank lines and indentation are for the reader of `web/`, not for every
//! visitor's download: they are left out (bench scenario widget-size measures the result).
//! Done in `const` evaluation, a part that breaks the rules below fails the build, not a visitor.

macro_rules! web {
    ($path:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/web/", $path))
    };
}

const STYLE: &str = web!("widget/style.css");

/// Each part only uses names from the parts above it (a test checks).
const PARTS: &[&str] = &[
    web!("shared/dom.js"),
    web!("widget/strings.js"),
    web!("widget/attachments.js"),
    web!("widget/transport.js"),
    web!("widget/conversation.js"),
    web!("widget/view.js"),
    web!("widget/main.js"),
];

const OPENING: &str =
    "/* Switchboard website chat, joined from web/widget/ (src/http/assets/widget_script.rs).\n   \
     One script tag, no framework: everything lives in a shadow DOM. Protocol: docs/widget.md. */\n\
     (() => {\n'use strict';\nconst WIDGET_CSS = String.raw`";
const AFTER_STYLE: &str = "`;\n";
const CLOSING: &str = "})();\n";

const LEN: usize = join(&mut Out {
    buf: &mut [],
    len: 0,
});

/// The script as served.
pub(super) static WIDGET: [u8; LEN] = {
    let mut buf = [0; LEN];
    join(&mut Out {
        buf: &mut buf,
        len: 0,
    });
    buf
};

/// Where the joined bytes go; with an empty buffer it only counts them, which sizes `WIDGET`.
struct Out<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl Out<'_> {
    const fn push(&mut self, bytes: &[u8], from: usize, to: usize) {
        let mut i = from;
        while i < to {
            if self.len < self.buf.len() {
                self.buf[self.len] = bytes[i];
            }
            self.len += 1;
            i += 1;
        }
    }

    const fn push_all(&mut self, text: &str) {
        self.push(text.as_bytes(), 0, text.len());
    }
}

const fn join(out: &mut Out) -> usize {
    out.push_all(OPENING);
    push_style(out, STYLE.as_bytes());
    out.push_all(AFTER_STYLE);
    let mut part = 0;
    while part < PARTS.len() {
        push_module(out, PARTS[part].as_bytes());
        part += 1;
    }
    out.push_all(CLOSING);
    out.len
}

/// The stylesheet without its comments and indentation. It goes inside a raw template literal,
/// which a backtick or `${` would break.
const fn push_style(out: &mut Out, css: &[u8]) {
    let mut i = 0;
    let mut line_start = true;
    while i < css.len() {
        if starts_with(css, i, b"/*") {
            while i < css.len() && !starts_with(css, i, b"*/") {
                i += 1;
            }
            i += 2;
            continue;
        }
        let byte = css[i];
        i += 1;
        if line_start && (byte == b' ' || byte == b'\n') {
            continue;
        }
        line_start = byte == b'\n';
        assert!(
            byte != b'`',
            "web/widget/style.css may not contain a backtick"
        );
        assert!(
            !(byte == b'$' && i < css.len() && css[i] == b'{'),
            "web/widget/style.css may not contain `${{`"
        );
        out.push(&[byte], 0, 1);
    }
}

/// One module, line by line: an `import` statement (which the formatter may wrap over several
/// lines, up to its `;`) is dropped, a line's leading `export ` is cut, and so are comment lines,
/// blank lines and indentation. That is sound because no part has a string spanning lines (a
/// test checks).
const fn push_module(out: &mut Out, source: &[u8]) {
    let mut start = 0;
    let mut in_import = false;
    while start < source.len() {
        let mut end = start;
        while end < source.len() && source[end] != b'\n' {
            end += 1;
        }
        let mut text = start;
        while text < end && source[text] == b' ' {
            text += 1;
        }
        if in_import || starts_with(source, start, b"import ") {
            in_import = !(end > start && source[end - 1] == b';');
        } else if text < end && !starts_with(source, text, b"//") {
            if starts_with(source, start, b"export ") {
                text = start + b"export ".len();
            }
            out.push(source, text, end);
            out.push_all("\n");
        }
        start = end + 1;
    }
}

const fn starts_with(source: &[u8], at: usize, prefix: &[u8]) -> bool {
    if source.len() - at < prefix.len() {
        return false;
    }
    let mut i = 0;
    while i < prefix.len() {
        if source[at + i] != prefix[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn served() -> &'static str {
        std::str::from_utf8(&WIDGET).unwrap()
    }

    /// The names a module declares at its top level (after `export`, if any).
    fn declared(source: &str) -> Vec<String> {
        let mut names = Vec::new();
        for line in source.lines() {
            let line = line.strip_prefix("export ").unwrap_or(line);
            for keyword in ["async function ", "function ", "class ", "const ", "let "] {
                if let Some(rest) = line.strip_prefix(keyword) {
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '$')
                        .collect();
                    names.push(name);
                    break;
                }
            }
        }
        names
    }

    /// The names a module imports, from single-line or wrapped `import { a, b } from '…';`.
    fn imported(source: &str) -> Vec<String> {
        let mut names = Vec::new();
        let mut statement = String::new();
        for line in source.lines() {
            if statement.is_empty() && !line.starts_with("import ") {
                continue;
            }
            statement.push_str(line);
            if !line.ends_with(';') {
                continue;
            }
            let list = statement
                .split_once('{')
                .and_then(|(_, rest)| rest.split_once('}'))
                .map(|(list, _)| list)
                .expect("widget parts import named bindings only");
            names.extend(list.split(',').map(|n| n.trim().to_string()));
            statement.clear();
        }
        names
    }

    #[test]
    fn the_served_script_is_one_classic_script_without_modules() {
        let script = served();
        assert!(script.starts_with("/* Switchboard website chat"));
        assert!(script.ends_with("})();\n"));
        for line in script.lines() {
            assert!(!line.starts_with("import "), "left in: {line}");
            assert!(!line.starts_with("export "), "left in: {line}");
        }
        assert!(script.contains("const WIDGET_CSS = String.raw`:host {\nall: initial;\n}\n"));
        assert!(script.contains("\nclass WidgetView {\n"));
        assert!(!script.contains("biome-ignore"), "comments stay in web/");
        assert!(script.trim_end().ends_with("start();\n})();"));
    }

    #[test]
    fn no_part_has_a_string_spanning_lines() {
        // Dropping indentation and comment lines would change such a string's text.
        for part in PARTS {
            for line in part.lines() {
                assert!(
                    line.matches('`').count() % 2 == 0,
                    "a template literal spans lines here: {line}"
                );
            }
        }
    }

    #[test]
    fn every_imported_name_is_declared_by_an_earlier_part() {
        // In one shared scope an import is only a promise: the part that keeps it must come first.
        let mut known = vec!["WIDGET_CSS".to_string()];
        for part in PARTS {
            for name in imported(part) {
                assert!(
                    known.contains(&name),
                    "`{name}` is imported before any part declares it"
                );
            }
            known.extend(declared(part));
        }
    }

    #[test]
    fn no_two_parts_declare_the_same_name() {
        // Modules keep their names apart; in the joined scope a second `function h` would
        // silently replace the first.
        let mut seen = std::collections::HashSet::new();
        for name in PARTS.iter().flat_map(|part| declared(part)) {
            assert!(seen.insert(name.clone()), "`{name}` is declared twice");
        }
    }
}
