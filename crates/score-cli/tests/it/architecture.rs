//! The CLI's share of ARCHITECTURE.md's checkable sentences:
//!
//! - the target table (`src/targets.rs`) is the one place that lists targets: no other source
//!   file of the CLI names one in its code (subcommands, `all`, help texts and flags come from
//!   the table's rows);
//! - `spec/diagnostic-codes.md` lists exactly core's codes and those of every target of the
//!   table, each code well-formed and defined once;
//! - the CLI's modules form no cycle: each module's `crate::`, `super::`, `self::` and child
//!   paths (and its `mod` lines) are its uses, and no module reaches itself through them.

// Tests read the repository's files.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use score_core::diag::TargetCode;
use score_core::Code;

use score_testkit::scan;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn cli_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The targets of the table, each with its crate's codes. The table's `use` lines must name
/// exactly these crates (checked below), so a new row without a line here fails.
fn table_codes() -> BTreeMap<&'static str, &'static [TargetCode]> {
    BTreeMap::from([
        ("compose", score_target_compose::codes::ALL),
        ("k8s", score_target_k8s::codes::ALL),
        ("terraform", score_target_terraform::codes::ALL),
    ])
}

/// The words that name a target in this repository, lower-cased.
const TARGET_WORDS: &[&str] = &["\"compose\"", "\"k8s\"", "\"terraform\""];

/// Lines of `files` (relative name, text) whose code holds a target's name as a string, by file;
/// a `#[cfg(test)]` module at the end of a file (unit tests name targets to run them) is skipped.
fn hits(files: &[(String, String)]) -> BTreeMap<String, Vec<String>> {
    scan::lines_naming(files, TARGET_WORDS, true)
}

fn cli_files() -> Vec<(String, String)> {
    scan::rust_files(&cli_src(), false)
}

#[test]
fn the_cli_names_targets_only_in_its_table() {
    let files = cli_files();
    assert!(files.iter().any(|(n, _)| n == "targets.rs"));
    let found = hits(&files);
    let new: Vec<&String> = found
        .iter()
        .filter(|(f, _)| f.as_str() != "targets.rs")
        .flat_map(|(_, l)| l)
        .collect();
    assert!(
        new.is_empty(),
        "the CLI switches on a target name outside its table (src/targets.rs); ask the target \
         (Target trait) or add a column to the table:\n{}",
        new.iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn the_scan_sees_a_planted_switch() {
    let files = vec![
        ("a.rs".to_string(), "if info.name == \"k8s\" && kyaml {\n".to_string()),
        ("b.rs".to_string(), "// \"compose\" in a comment\nlet s = \"composer\";\n#[cfg(test)]\nmod tests {\n    run(\"terraform\");\n}\n".to_string()),
    ];
    let found = hits(&files);
    assert_eq!(found.keys().collect::<Vec<_>>(), ["a.rs"]);
}

#[test]
fn the_table_links_exactly_the_targets_whose_codes_are_checked() {
    let table = std::fs::read_to_string(cli_src().join("targets.rs")).unwrap();
    let linked: BTreeSet<&str> = table
        .lines()
        .filter_map(|l| l.trim().strip_prefix("use score_target_"))
        .filter_map(|l| l.split("::").next())
        .collect();
    let checked: BTreeSet<&str> = table_codes().keys().copied().collect();
    assert_eq!(linked, checked);
}

#[test]
fn the_spec_lists_exactly_the_codes_of_core_and_of_every_target() {
    let path = root().join("spec/diagnostic-codes.md");
    let spec = std::fs::read_to_string(&path).unwrap();
    let listed: BTreeSet<&str> = spec
        .lines()
        .filter(|l| l.starts_with("| `score::"))
        .filter_map(|l| l.split('`').nth(1))
        .collect();
    let shape = |s: &str| {
        let parts: Vec<&str> = s.split("::").collect();
        parts.len() == 3
            && parts[0] == "score"
            && !parts[1].is_empty()
            && parts[1]
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            && !parts[2].is_empty()
            && parts[2].split('-').all(|w| {
                !w.is_empty()
                    && w.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            })
    };
    let mut all = BTreeSet::new();
    for c in Code::ALL {
        assert!(all.insert(c.as_str()), "{} twice", c.as_str());
    }
    for (target, codes) in table_codes() {
        assert!(!codes.is_empty());
        for c in codes {
            let s = c.as_str();
            assert!(shape(s), "{s}");
            assert!(
                s.starts_with(&format!("score::{target}::")),
                "{s}: a target's codes are score::{target}::*"
            );
            let summary = c.summary();
            assert!(!summary.is_empty() && !summary.contains('\n') && !summary.ends_with('.'));
            assert!(all.insert(s), "{s} is defined twice");
            // The row names the constant that defines it.
            let row = spec
                .lines()
                .find(|l| l.starts_with(&format!("| `{s}`")))
                .unwrap_or_else(|| panic!("{s} is not in the spec"));
            assert!(
                row.contains(&format!("`score_target_{target}::codes::")),
                "{s}: the row names its constant: {row}"
            );
        }
    }
    let missing: Vec<_> = all.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "not in spec/diagnostic-codes.md: {missing:?}"
    );
    let stale: Vec<_> = listed.difference(&all).collect();
    assert!(
        stale.is_empty(),
        "in spec/diagnostic-codes.md but defined by nobody: {stale:?}"
    );
}

/// The module of a CLI source file (`lib.rs` → `crate`, `tool/state.rs` → `tool::state`);
/// `None` for the executables' files (`main.rs`, `bin/`), which are crates of their own.
fn module_of(file: &str) -> Option<String> {
    if file == "main.rs" || file.starts_with("bin/") {
        return None;
    }
    if file == "lib.rs" {
        return Some("crate".into());
    }
    let path = file.strip_suffix(".rs")?;
    let path = path.strip_suffix("/mod").unwrap_or(path);
    Some(path.replace('/', "::"))
}

/// `module::seg`, from the root `crate`.
fn join(module: &str, seg: &str) -> String {
    if module == "crate" {
        seg.to_string()
    } else {
        format!("{module}::{seg}")
    }
}

fn parent(module: &str) -> &str {
    module.rsplit_once("::").map_or("crate", |(p, _)| p)
}

/// The module a path names, from `base` through `segs`: the longest prefix that is a module
/// (`crate::generate::run` → `generate`; an item of the root → `crate`).
fn resolve(modules: &BTreeSet<String>, base: &str, segs: &[&str]) -> String {
    let mut at = base.to_string();
    for seg in segs {
        let next = join(&at, seg);
        if !modules.contains(&next) {
            break;
        }
        at = next;
    }
    at
}

/// The text of a `{...}` group starting at `open` (the brace), without the braces.
fn group(text: &str, open: usize) -> &str {
    let mut depth = 0;
    for (i, c) in text[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return &text[open + 1..open + i];
                }
            }
            _ => {}
        }
    }
    &text[open + 1..]
}

/// The modules a `use` group's members name, each relative to `base`.
fn group_uses(modules: &BTreeSet<String>, base: &str, body: &str, out: &mut BTreeSet<String>) {
    let mut depth = 0;
    let mut start = 0;
    let mut parts = Vec::new();
    for (i, c) in body.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&body[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&body[start..]);
    for part in parts.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        let (path, inner) = match part.find('{') {
            Some(b) => (part[..b].trim_end_matches("::"), Some(group(part, b))),
            None => (part.split(" as ").next().unwrap_or(part), None),
        };
        let segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
        let segs: Vec<&str> = segs.into_iter().filter(|s| *s != "self").collect();
        let at = resolve(modules, base, &segs);
        match inner {
            Some(inner) => group_uses(modules, &at, inner, out),
            None => {
                out.insert(at);
            }
        }
    }
}

/// The module graph of `files` (relative name, text): module → (module it uses → the first
/// line that uses it, `file:line: text`). A `#[cfg(test)] mod tests` at the end of a file is
/// left out (unit tests may use what they like), and so are comments.
fn module_graph(files: &[(String, String)]) -> BTreeMap<String, BTreeMap<String, String>> {
    let path = regex::Regex::new(r"(\$crate|\bcrate|\bsuper|\bself)((?:::\w+)*)(::\{)?").unwrap();
    let decl = regex::Regex::new(r"^\s*(?:pub(?:\([\w:]+\))?\s+)?mod\s+(\w+)\s*;").unwrap();
    let sources: Vec<(String, &str, &str)> = files
        .iter()
        .filter_map(|(f, text)| {
            let code = text.split("#[cfg(test)]\nmod tests").next().unwrap();
            Some((module_of(f)?, f.as_str(), code))
        })
        .collect();
    let modules: BTreeSet<String> = sources.iter().map(|(m, _, _)| m.clone()).collect();
    let mut graph: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (module, file, text) in &sources {
        let children: Vec<(&str, regex::Regex)> = modules
            .iter()
            .filter(|c| c.as_str() != "crate" && parent(c) == module.as_str())
            .map(|c| {
                let name = c.rsplit("::").next().unwrap();
                let re = regex::Regex::new(&format!(r"(?:^|[^:\w]){name}::")).unwrap();
                (name, re)
            })
            .collect();
        let edges = graph.entry(module.clone()).or_default();
        for (i, line) in text.lines().enumerate() {
            let code = scan::code_of(line);
            let mut used = BTreeSet::new();
            if let Some(c) = decl.captures(code) {
                used.insert(join(module, &c[1]));
            }
            for (name, re) in &children {
                if re.is_match(code) {
                    used.insert(join(module, name));
                }
            }
            for c in path.captures_iter(code) {
                // `pub(crate)`, `&self`: not a path.
                if c[2].is_empty() && c.get(3).is_none() {
                    continue;
                }
                let base = match &c[1] {
                    "super" => parent(module).to_string(),
                    "self" => module.clone(),
                    _ => "crate".to_string(),
                };
                let segs: Vec<&str> = c[2].split("::").filter(|s| !s.is_empty()).collect();
                let at = resolve(&modules, &base, &segs);
                match c.get(3) {
                    Some(open) => group_uses(&modules, &at, group(code, open.end() - 1), &mut used),
                    None => {
                        used.insert(at);
                    }
                }
            }
            for m in used.into_iter().filter(|m| m != module) {
                edges
                    .entry(m)
                    .or_insert_with(|| format!("{file}:{}: {}", i + 1, line.trim()));
            }
        }
    }
    graph
}

/// The cycles of `graph`: each strongly connected component of more than one module, with the
/// edges inside it (Tarjan's algorithm).
fn cycles(graph: &BTreeMap<String, BTreeMap<String, String>>) -> Vec<Vec<String>> {
    struct Walk<'a> {
        graph: &'a BTreeMap<String, BTreeMap<String, String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        out: Vec<Vec<String>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, v: &'a str) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            for w in self.graph.get(v).into_iter().flat_map(|e| e.keys()) {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let l = self.low[v].min(self.low[w]);
                    self.low.insert(v, l);
                } else if self.stack.contains(&w) {
                    let l = self.low[v].min(self.index[w]);
                    self.low.insert(v, l);
                }
            }
            if self.low[v] == self.index[v] {
                let at = self.stack.iter().rposition(|m| *m == v).unwrap();
                let members: BTreeSet<&str> = self.stack.drain(at..).collect();
                if members.len() > 1 {
                    let mut edges = Vec::new();
                    for m in &members {
                        for (to, line) in &self.graph[*m] {
                            if members.contains(to.as_str()) {
                                edges.push(format!("{m} -> {to}   ({line})"));
                            }
                        }
                    }
                    self.out.push(edges);
                }
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !walk.index.contains_key(v.as_str()) {
            walk.visit(v);
        }
    }
    walk.out
}

#[test]
fn the_cli_modules_form_no_cycle() {
    let files = scan::rust_files(&cli_src(), true);
    let graph = module_graph(&files);
    // The scan sees the layers it should: the root uses the commands, they use the helpers.
    assert!(graph["crate"].contains_key("commands"), "{graph:?}");
    assert!(graph["generate"].contains_key("files"), "{graph:?}");
    let found = cycles(&graph);
    assert!(
        found.is_empty(),
        "the CLI's modules use each other in a cycle; move what both need into a module below \
         them (the helpers: src/files.rs, src/render.rs, src/row.rs, ...; ARCHITECTURE.md, \
         \"score-cli: modules in layers\"):\n{}",
        found
            .iter()
            .map(|c| c.join("\n"))
            .collect::<Vec<_>>()
            .join("\n\n")
    );
}

#[test]
fn the_module_scan_sees_a_planted_cycle() {
    let file = |n: &str, t: &str| (n.to_string(), t.to_string());
    let files = vec![
        file(
            "lib.rs",
            "mod a;\nmod b;\nmod c;\nmod d;\npub struct Format;\nfn main() { a::run() }\n",
        ),
        file(
            "a.rs",
            "use crate::{b::{self, x}, d};\npub fn run() { x() }\n",
        ),
        file("b.rs", "pub fn x() { super::c::y() }\n"),
        // c uses a root item: the root uses c (it declares it), so that is a cycle too.
        file("c.rs", "pub fn y() -> crate::Format { crate::Format }\n"),
        // Comments and unit tests are not uses.
        file(
            "d.rs",
            "// crate::a::run()\n#[cfg(test)]\nmod tests {\n    use crate::a;\n}\n",
        ),
        file("main.rs", "fn main() { score_cli::run() }\n"),
    ];
    let graph = module_graph(&files);
    assert_eq!(
        graph["a"].keys().collect::<Vec<_>>(),
        ["b", "d"],
        "{graph:?}"
    );
    assert!(graph["d"].is_empty(), "{graph:?}");
    assert!(!graph.contains_key("main"));
    let found = cycles(&graph);
    assert_eq!(found.len(), 1, "{found:?}");
    let text = found[0].join("\n");
    assert!(
        text.contains("c -> crate   (c.rs:1: pub fn y() -> crate::Format"),
        "{text}"
    );
    assert!(
        text.contains("crate -> a") && text.contains("b -> c"),
        "{text}"
    );
    assert!(!text.contains("-> d"), "{text}");
}
