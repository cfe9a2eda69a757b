//! Joins the website widget's modules (web/widget/, and web/shared/dom.js which the console
//! shares) into the one classic script `/widget.js` serves, and minifies it.
//!
//! The parts are ES modules so that editors, Biome and the console read them as modules. A site
//! embeds one plain `<script>` tag, though, and must not have to build anything: joining drops
//! each `import` statement and each `export` keyword and wraps the whole in one function, so no
//! name reaches the host page. The parts share that scope in the order of `PARTS`; the
//! stylesheet comes first, as the string `WIDGET_CSS`. Then oxc's minifier (a build dependency
//! only: nothing of it is in the binary) drops comments and whitespace and shortens the names
//! inside that function, because every visitor of every site downloads the result (bench
//! scenario widget-size measures it). A part that does not parse fails the build, not a visitor.

use std::path::Path;

use oxc_allocator::Allocator;
use oxc_codegen::{Codegen, CodegenOptions, CommentOptions};
use oxc_mangler::MangleOptions;
use oxc_minifier::{CompressOptions, Minifier, MinifierOptions};
use oxc_parser::Parser;
use oxc_span::SourceType;

const STYLE: &str = "web/widget/style.css";

/// Each part only uses names from the parts above it (a test in src/http/assets checks).
const PARTS: &[&str] = &[
    "web/shared/dom.js",
    "web/widget/strings.js",
    "web/widget/attachments.js",
    "web/widget/transport.js",
    "web/widget/conversation.js",
    "web/widget/view.js",
    "web/widget/preview.js",
    "web/widget/main.js",
];

const BANNER: &str =
    "/* Switchboard website chat, joined and minified from web/widget/ (build.rs). One \
     script tag, no framework: everything lives in a shadow DOM. Protocol: docs/widget.md. */\n";

fn main() {
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed={STYLE}");
    let mut joined = String::from("(() => {\n'use strict';\nconst WIDGET_CSS = String.raw`");
    joined.push_str(&style(&read(STYLE)));
    joined.push_str("`;\n");
    for part in PARTS {
        println!("cargo::rerun-if-changed={part}");
        joined.push_str(&module(&read(part)));
    }
    joined.push_str("})();\n");
    let minified = format!("{BANNER}{}\n", minify(&joined));
    write(&out, "widget.js", &minified);
    // The parts as the tests read them, so the list above is written once.
    let list: String = PARTS
        .iter()
        .map(|p| format!("include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/{p}\")),\n"))
        .collect();
    write(&out, "widget_parts.rs", &format!("&[\n{list}]"));
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

fn write(dir: &str, name: &str, text: &str) {
    let path = Path::new(dir).join(name);
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("cannot write {path:?}: {e}"));
}

/// The stylesheet without its comments and indentation. It goes inside a raw template literal,
/// which a backtick or `${` would break.
fn style(css: &str) -> String {
    assert!(!css.contains('`'), "{STYLE} may not contain a backtick");
    assert!(!css.contains("${"), "{STYLE} may not contain `${{`");
    let mut rest = css;
    let mut text = String::new();
    while let Some(start) = rest.find("/*") {
        text.push_str(&rest[..start]);
        rest = rest[start..]
            .split_once("*/")
            .map_or("", |(_, after)| after);
    }
    text.push_str(rest);
    // Newlines are whitespace to CSS: lines are joined, with a space only where two tokens
    // would otherwise touch, so the script stays on one line.
    let mut joined = String::new();
    for line in text.lines().map(str::trim).filter(|line| !line.is_empty()) {
        let glued = joined.is_empty()
            || joined.ends_with(['{', ';', '}', ','])
            || line.starts_with(['{', '}']);
        if !glued {
            joined.push(' ');
        }
        joined.push_str(line);
    }
    // The spaces after a property's colon, after a comma and before a block's brace are the
    // reader's; no quoted text in the stylesheet holds one of them (a test checks).
    joined
        .replace(": ", ":")
        .replace(", ", ",")
        .replace(" {", "{")
}

/// One module in the shared scope: `import` statements (which the formatter may wrap over
/// several lines, up to their `;`) dropped, and a line's leading `export ` cut.
fn module(source: &str) -> String {
    let mut text = String::new();
    let mut in_import = false;
    for line in source.lines() {
        if in_import || line.starts_with("import ") {
            in_import = !line.trim_end().ends_with(';');
            continue;
        }
        text.push_str(line.strip_prefix("export ").unwrap_or(line));
        text.push('\n');
    }
    text
}

fn minify(script: &str) -> String {
    let allocator = Allocator::default();
    let parsed = Parser::new(&allocator, script, SourceType::cjs()).parse();
    if !parsed.diagnostics.is_empty() {
        let errors: Vec<String> = parsed.diagnostics.iter().map(|d| d.to_string()).collect();
        panic!("the joined widget script does not parse: {errors:#?}");
    }
    let mut program = parsed.program;
    let options = MinifierOptions {
        mangle: Some(MangleOptions::default()),
        mangle_properties: None,
        compress: Some(CompressOptions::smallest()),
    };
    let minified = Minifier::new(options).minify(&allocator, &mut program);
    Codegen::new()
        .with_options(CodegenOptions {
            minify: true,
            comments: CommentOptions::disabled(),
            ..CodegenOptions::default()
        })
        .with_scoping(minified.scoping)
        .build(&program)
        .code
}
