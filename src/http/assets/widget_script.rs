//! The website widget's script as served at `/widget.js`: its modules in web/widget/, joined
//! into one classic script and minified at build time (build.rs, where the why is); and the
//! preview of it that an inbox's settings page frames, `/console/widget-preview.js`.

/// The script as served, and its brotli and gzip forms.
pub(super) static WIDGET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/widget.js"));
pub(super) static WIDGET_BROTLI: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/widget.js.br"));
pub(super) static WIDGET_GZIP: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/widget.js.gz"));

/// The preview script, and its brotli and gzip forms.
pub(super) static PREVIEW: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/widget-preview.js"));
pub(super) static PREVIEW_BROTLI: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/widget-preview.js.br"));
pub(super) static PREVIEW_GZIP: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/widget-preview.js.gz"));

/// The modules each is joined from, in order (the lists are build.rs's).
#[cfg(test)]
const PARTS: &[&str] = include!(concat!(env!("OUT_DIR"), "/widget.js.parts.rs"));
#[cfg(test)]
const PREVIEW_PARTS: &[&str] = include!(concat!(env!("OUT_DIR"), "/widget-preview.js.parts.rs"));

#[cfg(test)]
mod tests {
    use super::*;

    fn served() -> &'static str {
        std::str::from_utf8(WIDGET).unwrap()
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
    fn the_served_script_is_one_minified_classic_script_without_modules() {
        let script = served();
        assert!(script.starts_with("/* Switchboard website chat"));
        let body = script.lines().nth(1).expect("the banner, then the script");
        assert_eq!(
            script.lines().count(),
            2,
            "one line of script after the banner"
        );
        assert!(!body.contains("import ") && !body.contains("export "));
        assert!(!body.contains("biome-ignore"), "comments stay in web/");
        // The stylesheet is in, without its comments and indentation.
        assert!(body.contains(":host{all:initial;}"), "{body:.200}");
        // Names inside the one function are shortened; what the page reads is not.
        assert!(!body.contains("class WidgetView"));
        assert!(body.contains("websiteToken"));
        assert!(body.len() < 24 * 1024, "{} bytes", body.len());
    }

    #[test]
    fn visitors_download_nothing_of_the_preview_and_the_preview_nothing_of_the_visitor_boot() {
        // Property names survive minifying: the message the console posts names the preview.
        let preview = std::str::from_utf8(PREVIEW).unwrap();
        assert!(preview.contains("switchboardPreview"));
        assert!(!served().contains("switchboardPreview"));
        // The preview never opens a session: the boot that does is main.js's alone.
        assert!(served().contains("startSession"));
        assert!(!preview.contains("window.Switchboard"));
    }

    #[test]
    fn the_stylesheets_quoted_text_survives_its_squeezing() {
        // build.rs drops ": ", ", " and " {" from the stylesheet, which would change a quoted
        // string holding one.
        let css = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/web/widget/style.css"));
        for quoted in css.split('"').skip(1).step_by(2) {
            for squeezed in [": ", ", ", " {"] {
                assert!(!quoted.contains(squeezed), "{quoted:?} holds {squeezed:?}");
            }
        }
    }

    #[test]
    fn every_imported_name_is_declared_by_an_earlier_part() {
        // In one shared scope an import is only a promise: the part that keeps it must come first.
        for parts in [PARTS, PREVIEW_PARTS] {
            imports_come_after_their_declarations(parts);
        }
    }

    fn imports_come_after_their_declarations(parts: &[&str]) {
        let mut known = vec!["WIDGET_CSS".to_string()];
        for part in parts {
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
        for parts in [PARTS, PREVIEW_PARTS] {
            let mut seen = std::collections::HashSet::new();
            for name in parts.iter().flat_map(|part| declared(part)) {
                assert!(seen.insert(name.clone()), "`{name}` is declared twice");
            }
        }
    }
}
