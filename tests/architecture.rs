//! The shape of `src/`, checked by reading the source: events are published in one place (the
//! desk), files stay small enough to read, and top-level modules depend on each other one way.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `src/`, with its path relative to the crate root.
fn sources() -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("src/ is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    walk(&root.join("src"), &mut files);
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("a source file is UTF-8");
            (path.strip_prefix(root).unwrap().to_path_buf(), text)
        })
        .collect()
}

/// The top-level module a file belongs to: `src/http/mod.rs` and `src/http.rs` are both `http`.
fn top_module(path: &Path) -> Option<String> {
    let mut parts = path.strip_prefix("src").ok()?.components();
    let first = parts.next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then(|| name.to_string())
}

/// Code without comments, so that a doc comment naming `publish(` or `crate::http` is no use.
fn code_only(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Files that call `publish(` outside the desk and the bus that defines it.
fn publishers_outside_desk(files: &[(PathBuf, String)]) -> Vec<String> {
    files
        .iter()
        .filter(|(path, _)| !path.starts_with("src/desk") && path != Path::new("src/bus.rs"))
        .filter(|(_, text)| code_only(text).contains("publish("))
        .map(|(path, _)| path.display().to_string())
        .collect()
}

#[test]
fn only_the_desk_publishes_events() {
    let offenders = publishers_outside_desk(&sources());
    assert!(
        offenders.is_empty(),
        "these files publish events themselves instead of going through the desk: {offenders:?}"
    );
}

/// The longest a file under `src/` may be.
const MAX_LINES: usize = 600;

fn long_files(files: &[(PathBuf, String)]) -> Vec<(String, usize)> {
    files
        .iter()
        .map(|(path, text)| (path.display().to_string(), text.lines().count()))
        .filter(|(_, lines)| *lines > MAX_LINES)
        .collect()
}

#[test]
fn no_source_file_is_over_600_lines() {
    let long = long_files(&sources());
    assert!(
        long.is_empty(),
        "over {MAX_LINES} lines: {long:?}; split them by what they hold"
    );
}

/// The top-level modules named after `crate::` in `code`: `crate::store::Store` and
/// `use crate::{bus::EventBus, domain}` both count.
fn crate_uses(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        // `switchboard_crate::` or `my_crate::` are other paths.
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level names of a group: split at commas outside nested braces.
            let mut depth = 0;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        found.extend(first_ident(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 {
                    item.push(c);
                }
            }
            found.extend(first_ident(&item));
        } else {
            found.extend(first_ident(rest));
        }
    }
    found
}

fn first_ident(text: &str) -> Option<String> {
    let ident: String = text
        .trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!ident.is_empty()).then_some(ident)
}

/// Which top-level module uses which, from the files' `crate::` paths.
fn module_graph(files: &[(PathBuf, String)]) -> BTreeMap<String, BTreeSet<String>> {
    let modules: BTreeSet<String> = files.iter().filter_map(|(p, _)| top_module(p)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, text) in files {
        let Some(from) = top_module(path) else {
            continue;
        };
        let uses = graph.entry(from.clone()).or_default();
        for to in crate_uses(&code_only(text)) {
            if to != from && modules.contains(&to) {
                uses.insert(to);
            }
        }
    }
    graph
}

/// One cycle of the graph, as the path that closes it (`a -> b -> a`), if there is any.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Visiting,
        Done,
    }
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Visiting) => {
                let start = path.iter().position(|n| n == node).unwrap();
                let mut cycle = path[start..].to_vec();
                cycle.push(node.to_string());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(node.to_string(), Mark::Visiting);
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, marks, path) {
                return Some(cycle);
            }
        }
        path.pop();
        marks.insert(node.to_string(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in graph.keys() {
        if let Some(cycle) = visit(node, graph, &mut marks, &mut Vec::new()) {
            return Some(cycle);
        }
    }
    None
}

#[test]
fn top_level_modules_have_no_import_cycle() {
    let graph = module_graph(&sources());
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "top-level modules import each other in a circle: {}",
            cycle.join(" -> ")
        );
    }
}

// The checks themselves, on made-up sources: each one can fail.

fn file(path: &str, text: &str) -> (PathBuf, String) {
    (PathBuf::from(path), text.to_string())
}

#[test]
fn the_publish_check_finds_a_publisher_outside_the_desk() {
    let files = [
        file("src/desk/reply.rs", "self.bus.publish(&events);"),
        file("src/bus.rs", "fn publish(&self, events: &[Event]);"),
        file("src/http/handlers/x.rs", "// no publish( here\nfn f() {}"),
        file("src/widget/socket.rs", "state.bus.publish(&events);"),
    ];
    assert_eq!(
        publishers_outside_desk(&files),
        vec!["src/widget/socket.rs"]
    );
}

#[test]
fn the_length_check_finds_a_long_file() {
    let files = [
        file("src/short.rs", "fn f() {}\n"),
        file("src/long.rs", &"\n".repeat(MAX_LINES + 1)),
    ];
    assert_eq!(
        long_files(&files),
        vec![("src/long.rs".to_string(), MAX_LINES + 1)]
    );
}

#[test]
fn the_cycle_check_finds_a_cycle_and_prints_it() {
    let files = [
        file(
            "src/http/mod.rs",
            "use crate::{domain::Id, widget::{hub, x}};",
        ),
        file("src/widget/hub.rs", "use crate::store::Store;"),
        file(
            "src/store/mod.rs",
            "fn f() { crate::http::error::ApiError::x() }",
        ),
        file("src/domain.rs", "use switchboard_crate::x; // crate::http"),
    ];
    let graph = module_graph(&files);
    assert_eq!(
        graph["http"],
        ["domain", "widget"].map(String::from).into_iter().collect()
    );
    assert!(graph["domain"].is_empty());
    assert_eq!(
        find_cycle(&graph).unwrap(),
        ["http", "widget", "store", "http"].map(String::from)
    );
    let acyclic = module_graph(&files[..2]);
    assert_eq!(find_cycle(&acyclic), None);
}
