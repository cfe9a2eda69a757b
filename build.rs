//! Joins the website widget's modules (web/widget/, and web/shared/dom.js which the console
//! shares) into the one classic script `/widget.js` serves, and minifies it; likewise the
//! preview of it an inbox's settings page frames (`/console/widget-preview.js`).
//!
//! The parts are ES modules so that editors, Biome and the console read them as modules. A site
//! embeds one plain `<script>` tag, though, and must not have to build anything: joining drops
//! each `import` statement and each `export` keyword and wraps the whole in one function, so no
//! name reaches the host page. The parts share that scope in the order of `VIEW_PARTS`; the
//! stylesheet comes first, as the string `WIDGET_CSS`. Then oxc's minifier (a build dependency
//! only: nothing of it is in the binary) drops comments and whitespace and shortens the names
//! inside that function, because every visitor of every site downloads the result (bench
//! scenario widget-size measures it). A part that does not parse fails the build, not a visitor.
//!
//! It also compresses what the binary serves of its own (the widget, web/console/, web/shared/)
//! with brotli and gzip at their best, once per build: the encoder stays out of the binary, no
//! request waits for compression, and the compressed forms are read from the binary's pages
//! rather than copied onto the heap. Each file `x` gets `x.br` and `x.gz` under OUT_DIR, empty
//! where compressing does not make it smaller (src/http/static_files.rs reads them so).

use std::io::Write as _;
use std::path::Path;

use oxc_allocator::Allocator;
use oxc_codegen::{Codegen, CodegenOptions, CommentOptions};
use oxc_mangler::MangleOptions;
use oxc_minifier::{CompressOptions, Minifier, MinifierOptions};
use oxc_parser::Parser;
use oxc_span::SourceType;

const STYLE: &str = "web/widget/style.css";

/// The modules both scripts are made of. Each part only uses names from the parts above it (a
/// test in src/http/assets checks).
const VIEW_PARTS: &[&str] = &[
    "web/shared/dom.js",
    "web/widget/strings.js",
    "web/widget/attachments.js",
    "web/widget/transport.js",
    "web/widget/conversation.js",
    "web/widget/view.js",
];

/// What starts each script, after the view's parts: main.js boots the widget on a visitor's
/// page; preview.js draws the settings an inbox's settings page posts, so that visitors download
/// none of that.
const SCRIPTS: &[(&str, &str)] = &[
    ("widget.js", "web/widget/main.js"),
    ("widget-preview.js", "web/widget/preview.js"),
];

const BANNER: &str =
    "/* Switchboard website chat, joined and minified from web/widget/ (build.rs). One \
     script tag, no framework: everything lives in a shadow DOM. Protocol: docs/widget.md. */\n";

fn main() {
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed={STYLE}");
    let css = style(&read(STYLE));
    for (name, starter) in SCRIPTS {
        let parts: Vec<&str> = VIEW_PARTS.iter().copied().chain([*starter]).collect();
        let script = join(&css, &parts);
        write(&out, name, &script);
        compress_into(&out, name, script.as_bytes());
        // The parts as the tests read them, so each list above is written once.
        let list: String = parts
            .iter()
            .map(|p| format!("include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/{p}\")),\n"))
            .collect();
        write(&out, &format!("{name}.parts.rs"), &format!("&[\n{list}]"));
    }
    for dir in SERVED_DIRS {
        compress_dir(&out, dir);
    }
}

/// The parts in one function's scope, the stylesheet first as `WIDGET_CSS`, minified.
fn join(css: &str, parts: &[&str]) -> String {
    let mut joined = String::from("(() => {\n'use strict';\nconst WIDGET_CSS = String.raw`");
    joined.push_str(css);
    joined.push_str("`;\n");
    for part in parts {
        println!("cargo::rerun-if-changed={part}");
        joined.push_str(&module(&read(part)));
    }
    joined.push_str("})();\n");
    format!("{BANNER}{}\n", minify(&joined))
}

/// The folders whose every file the hub serves as it is (src/http/assets.rs says which).
const SERVED_DIRS: &[&str] = &["web/console", "web/shared"];

fn compress_dir(out: &str, dir: &str) {
    println!("cargo::rerun-if-changed={dir}");
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {dir}: {e}"));
    for entry in entries {
        let path = entry.expect("a folder entry").path();
        if !path.is_file() {
            continue;
        }
        let body = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path:?}: {e}"));
        let name = path.to_str().expect("web/ file names are UTF-8");
        compress_into(out, name, &body);
    }
}

/// Writes `<out>/<name>.br` and `.gz` (folders made as needed), each empty unless smaller.
fn compress_into(out: &str, name: &str, body: &[u8]) {
    let smaller = |packed: Vec<u8>| {
        if packed.len() < body.len() {
            packed
        } else {
            Vec::new()
        }
    };
    let base = Path::new(out).join(name);
    let folder = base.parent().expect("a file has a folder");
    std::fs::create_dir_all(folder).unwrap_or_else(|e| panic!("cannot make {folder:?}: {e}"));
    for (coding, packed) in [("br", brotli(body)), ("gz", gzip(body))] {
        let path = base.with_extension(match base.extension() {
            Some(ext) => format!("{}.{coding}", ext.to_string_lossy()),
            None => coding.to_string(),
        });
        std::fs::write(&path, smaller(packed))
            .unwrap_or_else(|e| panic!("cannot write {path:?}: {e}"));
    }
}

fn brotli(body: &[u8]) -> Vec<u8> {
    // The window need be no larger than the file.
    let lgwin = (usize::BITS - body.len().max(1).leading_zeros()).clamp(16, 24) as i32;
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin,
        ..Default::default()
    };
    let mut packed = Vec::new();
    brotli::BrotliCompress(&mut &body[..], &mut packed, &params)
        .expect("compressing into memory cannot fail");
    packed
}

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder
        .write_all(body)
        .and_then(|()| encoder.finish())
        .expect("compressing into memory cannot fail")
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
