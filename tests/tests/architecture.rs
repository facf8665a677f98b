//! The layering rules of ARCHITECTURE.md, checked on the source: which module may
//! import which, no import loops, and no SQL outside the gateway's store.
//!
//! A module's imports are every `crate::…`, `super::…` and `self::…` path it names in
//! code (not in comments), in `use` declarations (groups expanded) and inline. A path
//! counts as a dependency on the longest module it names: `crate::store::runners::X`
//! on `store::runners`. Two granularities are checked for loops: the top-level modules
//! (a folder counts as one), and the files (leaving out a file's edges to its own
//! ancestors and descendants, which is how a folder re-exports its parts).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// "Top-level module A never imports top-level module B", with the reason. The
/// gateway's layers, top to bottom: start-up (`main`, `cli`, `serve`, `run_agent`,
/// `demo`), `http` (mounting `grpc`) → `operations` → `read_model`, `fleet` → `store`;
/// `agent` → `process`;
/// `web` (HTTP plumbing shared by `http` and `agent`); leaves that import nothing of
/// the gateway (`error`, `mutex`, `capacity`, `shutdown`, `private_files`) or only `error`
/// (`auth`).
const GATEWAY_RULES: &[(&str, &[&str], &str)] = &[
    (
        "http",
        &[
            "store",
            "fleet",
            "read_model",
            "agent",
            "process",
            "demo",
            "serve",
            "cli",
        ],
        "handlers call operations; they never reach past them",
    ),
    (
        "grpc",
        &[
            "http",
            "store",
            "fleet",
            "read_model",
            "agent",
            "process",
            "demo",
            "serve",
            "cli",
        ],
        "gRPC is a transport like HTTP: it calls operations and reaches nothing past them",
    ),
    (
        "operations",
        &["http", "grpc", "web", "demo", "serve", "cli", "run_agent"],
        "operations do not know the transport that calls them",
    ),
    (
        "read_model",
        &[
            "http",
            "grpc",
            "web",
            "operations",
            "fleet",
            "agent",
            "process",
            "demo",
            "serve",
            "cli",
        ],
        "the read model is built from the store alone",
    ),
    (
        "fleet",
        &[
            "http",
            "grpc",
            "web",
            "operations",
            "demo",
            "serve",
            "cli",
            "run_agent",
        ],
        "the fleet (agent registry, installer) sits below the operations",
    ),
    (
        "store",
        &[
            "http",
            "grpc",
            "web",
            "operations",
            "read_model",
            "fleet",
            "agent",
            "process",
            "demo",
            "serve",
            "cli",
            "run_agent",
        ],
        "the store knows nothing above it",
    ),
    (
        "agent",
        &[
            "http",
            "grpc",
            "operations",
            "read_model",
            "fleet",
            "store",
            "demo",
            "serve",
            "cli",
            "run_agent",
        ],
        "agents run sandboxes for whoever calls them, in the gateway or in an agent process",
    ),
    (
        "process",
        &[
            "http",
            "grpc",
            "web",
            "operations",
            "read_model",
            "fleet",
            "store",
            "agent",
            "auth",
            "demo",
            "serve",
            "cli",
            "run_agent",
        ],
        "processes are the bottom layer",
    ),
    (
        "web",
        &[
            "http",
            "grpc",
            "operations",
            "read_model",
            "fleet",
            "store",
            "agent",
            "demo",
            "serve",
            "cli",
        ],
        "HTTP plumbing knows no resource",
    ),
    (
        "auth",
        &[
            "http",
            "grpc",
            "web",
            "operations",
            "read_model",
            "fleet",
            "store",
            "agent",
            "process",
            "demo",
            "serve",
            "cli",
            "run_agent",
        ],
        "who is calling is a plain value; transports find it out",
    ),
];

/// Leaves: modules that import nothing of the gateway.
const GATEWAY_LEAVES: &[&str] = &["error", "mutex", "capacity", "shutdown", "private_files"];

#[test]
fn gateway_layers_hold() {
    let graph = ModuleGraph::read("gateway/src");
    let mut problems = graph.rule_violations(GATEWAY_RULES);
    problems.extend(graph.leaf_violations(GATEWAY_LEAVES));
    problems.extend(graph.loops());
    assert!(
        problems.is_empty(),
        "gateway/src breaks ARCHITECTURE.md:\n{}",
        problems.join("\n")
    );
}

#[test]
fn domain_crate_has_no_import_loops() {
    let graph = ModuleGraph::read("crates/sandbox-api/src");
    let problems = graph.loops();
    assert!(
        problems.is_empty(),
        "crates/sandbox-api/src has import loops:\n{}",
        problems.join("\n")
    );
}

#[test]
fn no_sql_outside_the_store() {
    let src = workspace().join("gateway/src");
    let mut problems = Vec::new();
    for file in rust_files(&src) {
        let relative = file.strip_prefix(&src).unwrap();
        if relative.starts_with("store") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for (number, line) in strip_comments(&text).lines().enumerate() {
            if looks_like_sql(line) {
                problems.push(format!(
                    "{}:{}: SQL outside store/: {}",
                    relative.display(),
                    number + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn looks_like_sql(line: &str) -> bool {
    let Some(quoted) = line.split_once('"').map(|(_, rest)| rest) else {
        return false;
    };
    [
        "INSERT INTO",
        "DELETE FROM",
        "CREATE TABLE",
        "CREATE TRIGGER",
    ]
    .iter()
    .any(|k| quoted.contains(k))
        || (quoted.contains("UPDATE ") && quoted.contains(" SET "))
        || (quoted.contains("SELECT ") && quoted.contains(" FROM "))
}

/// Modules (by path from the crate root, `""` for the root) and what each imports.
struct ModuleGraph {
    /// Module → the modules it names.
    imports: BTreeMap<String, BTreeSet<String>>,
    files: BTreeMap<String, PathBuf>,
}

impl ModuleGraph {
    /// The modules under `src`, a source folder of the workspace (`gateway/src`).
    fn read(src: &str) -> ModuleGraph {
        let root = workspace().join(src);
        let sources: Vec<(String, String, PathBuf)> = rust_files(&root)
            .into_iter()
            .map(|file| {
                let relative = file.strip_prefix(&root).unwrap();
                let text = std::fs::read_to_string(&file).unwrap();
                (module_of(relative), text, Path::new(src).join(relative))
            })
            .collect();
        ModuleGraph::from_sources(
            sources
                .iter()
                .map(|(module, text, file)| (module.as_str(), text.as_str(), file.clone())),
        )
    }

    fn from_sources<'a>(sources: impl Iterator<Item = (&'a str, &'a str, PathBuf)>) -> ModuleGraph {
        let sources: Vec<_> = sources.collect();
        let modules: BTreeSet<String> = sources.iter().map(|(m, _, _)| m.to_string()).collect();
        let mut imports = BTreeMap::new();
        let mut files = BTreeMap::new();
        for (module, text, file) in &sources {
            let targets = referenced_paths(text)
                .into_iter()
                .filter_map(|path| absolute(module, &path))
                .filter_map(|path| longest_module(&modules, &path))
                // The crate root is where `mod` lives, not a layer; an inline test
                // module's `super::*` at the top level reaches it.
                .filter(|target| target != module && !target.is_empty())
                .collect();
            imports.insert(module.to_string(), targets);
            files.insert(module.to_string(), file.clone());
        }
        ModuleGraph { imports, files }
    }

    fn rule_violations(&self, rules: &[(&str, &[&str], &str)]) -> Vec<String> {
        let mut problems = Vec::new();
        for (module, targets) in &self.imports {
            for (layer, forbidden, why) in rules {
                if top(module) != *layer {
                    continue;
                }
                for target in targets.iter().filter(|t| forbidden.contains(&top(t))) {
                    problems.push(format!(
                        "{} imports `{target}`: `{layer}` never imports `{}` ({why})",
                        self.files[module].display(),
                        top(target)
                    ));
                }
            }
        }
        problems
    }

    fn leaf_violations(&self, leaves: &[&str]) -> Vec<String> {
        self.imports
            .iter()
            .filter(|(module, _)| leaves.contains(&top(module)))
            .flat_map(|(module, targets)| {
                targets
                    .iter()
                    .filter(|t| top(t) != top(module))
                    .map(move |t| format!("{module} is a leaf but imports `{t}`"))
            })
            .collect()
    }

    /// Every loop, at the top-level and at the file granularity, as `a → b → a`.
    fn loops(&self) -> Vec<String> {
        let mut top_edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut file_edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (module, targets) in &self.imports {
            for target in targets {
                if top(module) != top(target) {
                    top_edges
                        .entry(top(module).to_owned())
                        .or_default()
                        .insert(top(target).to_owned());
                }
                if !is_ancestor(module, target) && !is_ancestor(target, module) {
                    file_edges
                        .entry(module.clone())
                        .or_default()
                        .insert(target.clone());
                }
            }
        }
        let mut problems: Vec<String> = cycles(&top_edges)
            .into_iter()
            .map(|c| format!("top-level modules loop: {}", c.join(" → ")))
            .collect();
        problems.extend(
            cycles(&file_edges)
                .into_iter()
                .map(|c| format!("modules loop: {}", c.join(" → "))),
        );
        problems
    }
}

/// The top-level module of a module path (`store` for `store::runners`).
fn top(module: &str) -> &str {
    module.split("::").next().unwrap_or(module)
}

fn is_ancestor(ancestor: &str, module: &str) -> bool {
    ancestor.is_empty() || module.starts_with(&format!("{ancestor}::"))
}

/// The shortest loop through each node not already on a reported loop, so that one
/// broken rule is reported about once, not once per path.
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let nodes: BTreeSet<&String> = edges.keys().chain(edges.values().flatten()).collect();
    let mut found = Vec::new();
    let mut seen: BTreeSet<&String> = BTreeSet::new();
    for start in &nodes {
        if seen.contains(start) {
            continue;
        }
        // A shortest path back to `start`, breadth first.
        let mut previous: BTreeMap<&String, &String> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([*start]);
        let mut closing = None;
        while let Some(node) = queue.pop_front() {
            for next in edges.get(node).into_iter().flatten() {
                if next == *start {
                    closing = Some(node);
                    break;
                }
                if !previous.contains_key(next) {
                    previous.insert(next, node);
                    queue.push_back(next);
                }
            }
            if closing.is_some() {
                break;
            }
        }
        if let Some(mut node) = closing {
            let mut path = vec![(*start).clone()];
            let mut back = vec![node.clone()];
            while node != *start {
                node = previous[node];
                if node != *start {
                    back.push(node.clone());
                }
            }
            back.reverse();
            path.extend(back);
            path.push((*start).clone());
            for member in &path {
                seen.insert(nodes.iter().find(|n| **n == member).unwrap());
            }
            found.push(path);
        }
    }
    found
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// `store/runners.rs` → `store::runners`; `store/mod.rs` → `store`; `main.rs` → ``.
fn module_of(relative: &Path) -> String {
    let mut parts: Vec<String> = relative
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts.join("::")
}

/// The text without `//` comments (doc comments included) and string contents.
fn strip_comments(text: &str) -> String {
    text.lines()
        .map(|line| {
            let mut in_string = false;
            let mut previous = ' ';
            for (i, c) in line.char_indices() {
                if c == '"' && previous != '\\' {
                    in_string = !in_string;
                }
                if !in_string && c == '/' && line[i + 1..].starts_with('/') {
                    return &line[..i];
                }
                previous = c;
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `crate::`, `super::` and `self::` path in the code, `use` groups expanded.
fn referenced_paths(text: &str) -> Vec<String> {
    let code = strip_comments(text);
    let mut paths = Vec::new();
    // `use` declarations, whole (they may span lines and nest braces).
    let mut rest = code.as_str();
    while let Some(start) = find_keyword(rest, "use ") {
        let after = &rest[start + 4..];
        let end = after.find(';').unwrap_or(after.len());
        let tree = normalize(&after[..end]);
        if ["crate::", "super::", "self::"]
            .iter()
            .any(|root| tree.starts_with(root))
        {
            expand_use(&tree, "", &mut paths);
        }
        rest = &after[end..];
    }
    // Paths inline in code.
    for root in ["crate::", "super::"] {
        let mut rest = code.as_str();
        while let Some(at) = rest.find(root) {
            let before = rest[..at].chars().last();
            let path: String = rest[at..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            if !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                paths.push(path.trim_end_matches(':').to_owned());
            }
            rest = &rest[at + root.len()..];
        }
    }
    paths
        .into_iter()
        .filter(|p| p.starts_with("crate::") || p.starts_with("super::") || p.starts_with("self::"))
        .collect()
}

/// A use tree on one line with no spaces but those around `as`.
fn normalize(tree: &str) -> String {
    let mut text = tree.split_whitespace().collect::<Vec<_>>().join(" ");
    for token in ["::", "{", "}", ","] {
        text = text
            .replace(&format!(" {token}"), token)
            .replace(&format!("{token} "), token);
    }
    text
}

fn find_keyword(text: &str, keyword: &str) -> Option<usize> {
    let mut offset = 0;
    while let Some(at) = text[offset..].find(keyword) {
        let at = offset + at;
        let before = text[..at].chars().last();
        if !before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            return Some(at);
        }
        offset = at + keyword.len();
    }
    None
}

/// `a::{b, c::{d, e as f}}` with prefix `p` → `p::a::b`, `p::a::c::d`, `p::a::c::e`.
fn expand_use(tree: &str, prefix: &str, out: &mut Vec<String>) {
    let join = |head: &str| {
        if prefix.is_empty() {
            head.to_owned()
        } else if head == "self" {
            prefix.to_owned()
        } else {
            format!("{prefix}::{head}")
        }
    };
    let tree = tree
        .trim_start_matches("pub(crate)")
        .trim_start_matches("pub");
    match tree.find('{') {
        None => {
            let item = tree.split(" as ").next().unwrap_or(tree);
            out.push(join(item.trim_end_matches("::*")));
        }
        Some(open) => {
            let head = tree[..open].trim_end_matches("::");
            let close = tree
                .rfind('}')
                .filter(|close| *close > open)
                .unwrap_or(tree.len());
            let inner = &tree[open + 1..close];
            let prefix = if head.is_empty() {
                prefix.to_owned()
            } else {
                join(head)
            };
            for part in split_top_level(inner) {
                if !part.is_empty() {
                    expand_use(part, &prefix, out);
                }
            }
        }
    }
}

fn split_top_level(text: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// `super::x` from `a::b` (a file) → `a::x`; from `a` (a folder's mod.rs) → `x`.
fn absolute(module: &str, path: &str) -> Option<String> {
    let mut segments: Vec<&str> = path.split("::").collect();
    let mut base: Vec<&str> = if module.is_empty() {
        Vec::new()
    } else {
        module.split("::").collect()
    };
    match segments.first().copied() {
        Some("crate") => {
            segments.remove(0);
            Some(segments.join("::"))
        }
        Some("self" | "super") => {
            // `self` is the module itself and `super` its parent, for a folder's
            // `mod.rs` as for a file. (An inline `mod tests` block's `super` is read as
            // its file's parent: an edge to an ancestor, which no check counts.)
            while let Some(first) = segments.first().copied() {
                match first {
                    "self" => {
                        segments.remove(0);
                    }
                    "super" => {
                        segments.remove(0);
                        base.pop();
                    }
                    _ => break,
                }
            }
            base.extend(segments);
            Some(base.join("::"))
        }
        _ => None,
    }
}

fn longest_module(modules: &BTreeSet<String>, path: &str) -> Option<String> {
    let segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
    (0..=segments.len())
        .rev()
        .map(|n| segments[..n].join("::"))
        .find(|candidate| modules.contains(candidate))
}

/// The checks themselves can fail: a rule broken and a loop made on purpose, in a
/// small tree of modules given as text.
#[test]
fn a_broken_rule_and_a_loop_are_reported() {
    let sources = [
        ("", "mod store; mod http; mod auth;", "main.rs"),
        (
            "store",
            "use crate::auth::Caller;\npub mod runners;",
            "store/mod.rs",
        ),
        (
            "store::runners",
            "use super::Result; use crate::http::{AppState, self};",
            "store/runners.rs",
        ),
        (
            "http",
            "use crate::store::runners::{self as rows};\n// crate::auth in a comment",
            "http/mod.rs",
        ),
        ("auth", "pub struct Caller;", "auth.rs"),
    ];
    let graph = ModuleGraph::from_sources(
        sources
            .iter()
            .map(|(module, text, file)| (*module, *text, PathBuf::from(file))),
    );
    assert_eq!(
        graph.imports["http"],
        BTreeSet::from(["store::runners".to_owned()])
    );
    assert_eq!(
        graph.imports["store::runners"],
        BTreeSet::from(["store".to_owned(), "http".to_owned()])
    );
    let broken = graph.rule_violations(&[("store", &["http"], "the store knows nothing above it")]);
    assert_eq!(broken.len(), 1, "{broken:?}");
    assert!(
        broken[0].contains("store/runners.rs imports `http`"),
        "{broken:?}"
    );
    let loops = graph.loops();
    assert!(
        loops
            .iter()
            .any(|l| l == "top-level modules loop: http → store → http"),
        "{loops:?}"
    );
    assert!(
        loops
            .iter()
            .any(|l| l == "modules loop: http → store::runners → http"),
        "{loops:?}"
    );
    assert!(graph.leaf_violations(&["auth"]).is_empty());
    assert_eq!(graph.leaf_violations(&["store"]).len(), 2);
}

#[test]
fn use_trees_expand() {
    let mut out = Vec::new();
    expand_use(
        &normalize("crate::store::{self, Store,\n    runners::{self as rows, Capacity}}"),
        "",
        &mut out,
    );
    assert_eq!(
        out,
        [
            "crate::store",
            "crate::store::Store",
            "crate::store::runners",
            "crate::store::runners::Capacity"
        ]
    );
    assert!(looks_like_sql(
        r#"    "UPDATE runners SET capacity_json = ?1 WHERE id = ?2","#
    ));
    assert!(!looks_like_sql("// UPDATE runners SET"));
}
