//! ARCHITECTURE.md (and spec/library.md) against the tree they describe: the paths they name
//! exist, score-core's module-tree block lists every entry of `src/` (and nothing that is gone),
//! the front door they list is the crate root's item set, and every `score_core::name` they
//! mention is at the root.

#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn architecture() -> String {
    std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap()
}

/// The documents that describe score-core's doors, by name.
fn door_docs() -> Vec<(&'static str, String)> {
    ["ARCHITECTURE.md", "spec/library.md"]
        .into_iter()
        .map(|d| (d, std::fs::read_to_string(root().join(d)).unwrap()))
        .collect()
}

/// The text of each `code span` of a Markdown text (fenced blocks are not spans).
fn code_spans(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fenced = false;
    for line in md.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let mut parts = line.split('`');
        parts.next();
        while let (Some(span), Some(_)) = (parts.next(), parts.next()) {
            out.push(span.to_string());
        }
    }
    out
}

/// The repository paths a text names in code spans: spans that start with a top-level folder
/// of the repository. A `<name>` placeholder cuts the path there (its parent must exist).
fn named_paths(md: &str) -> BTreeSet<String> {
    const TOP: &[&str] = &[
        "crates/",
        "examples/",
        "fuzz/",
        "spec/",
        "docs/",
        "testdata/",
        "schemas/",
        "deploy/",
        "web/",
        "editors/",
        "tools/",
        ".ci/",
    ];
    code_spans(md)
        .into_iter()
        .filter(|s| TOP.iter().any(|t| s.starts_with(t)))
        .filter(|s| !s.contains(char::is_whitespace))
        .map(|s| match s.find('<') {
            Some(at) => s[..at]
                .rsplit_once('/')
                .map_or(s.clone(), |(d, _)| d.to_string()),
            None => s.trim_end_matches('/').to_string(),
        })
        .collect()
}

#[test]
fn every_path_architecture_names_exists() {
    for (doc, text) in door_docs() {
        let missing: Vec<String> = named_paths(&text)
            .into_iter()
            .filter(|p| !root().join(p).exists())
            .collect();
        assert!(
            missing.is_empty(),
            "{doc} names paths that do not exist: {missing:?}"
        );
    }
}

#[test]
fn the_path_scan_sees_a_planted_path() {
    let md = "a `crates/x/src/lib.rs` b `crates/targets/<name>/src` c `not/a/path` \
              `crates/with space`\n```\n`crates/in/fence`\n```\n";
    assert_eq!(
        named_paths(md).into_iter().collect::<Vec<_>>(),
        ["crates/targets", "crates/x/src/lib.rs"]
    );
}

/// The first word of each line of the fenced block that follows `heading` (score-core's module
/// tree), with the comma-separated names of a `src/a.rs, b.rs` line, as paths under `src/`.
fn tree_block_entries(md: &str, heading: &str) -> BTreeSet<String> {
    let after = &md[md.find(heading).expect("the module-tree heading")..];
    let start = after.find("```").unwrap() + 3;
    let block = &after[start..];
    let block = &block[block.find('\n').unwrap() + 1..block.find("```").unwrap()];
    let mut out = BTreeSet::new();
    for line in block.lines() {
        let Some(first) = line.split_whitespace().next() else {
            continue;
        };
        let Some(path) = first.strip_prefix("src/") else {
            continue; // a continuation line of the description
        };
        let dir = path.rsplit_once('/').map(|(d, _)| format!("{d}/"));
        out.insert(path.trim_end_matches([',', '/']).to_string());
        if first.ends_with(',') {
            // `src/diag.rs, fix.rs, ...`: the rest of the line are siblings.
            for name in line.split(',').skip(1) {
                let name = name.trim();
                out.insert(format!("{}{name}", dir.clone().unwrap_or_default()));
            }
        }
    }
    out
}

#[test]
fn the_module_tree_block_is_score_core_src() {
    let listed = tree_block_entries(&architecture(), "## score-core: two doors, one module tree");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let actual: BTreeSet<String> = std::fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let missing: Vec<&String> = actual.difference(&listed).collect();
    let gone: Vec<&String> = listed.difference(&actual).collect();
    assert!(
        missing.is_empty() && gone.is_empty(),
        "ARCHITECTURE.md's module tree of score-core: not listed {missing:?}, listed but absent {gone:?}"
    );
}

/// The front-door list of a document: the code spans after "the crate root, for embedders",
/// up to the sentence about the documented modules.
fn listed_front_door(md: &str) -> BTreeSet<String> {
    let from = md
        .find("the crate root, for embedders")
        .expect("the front door bullet");
    let list = &md[from..];
    let end = ["; the types they carry", ", and the documented modules"]
        .iter()
        .filter_map(|m| list.find(m))
        .min()
        .expect("the end of the front-door list");
    code_spans(&list[..end]).into_iter().collect()
}

#[test]
fn the_front_door_listed_is_the_root() {
    let lib =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    let (items, docs, hidden) = super::architecture::root_public(&lib);
    let items: BTreeSet<String> = items.into_iter().collect();
    let known: BTreeSet<String> = items.iter().cloned().chain(docs).chain(hidden).collect();
    for (doc, md) in door_docs() {
        assert_eq!(
            listed_front_door(&md),
            items,
            "{doc}'s front door against score-core's root"
        );
        // Every `score_core::name` the document mentions is a root item or module.
        let mut unknown = Vec::new();
        for (at, _) in md.match_indices("score_core::") {
            let name: String = md[at + "score_core::".len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !known.contains(&name) {
                unknown.push(name);
            }
        }
        assert!(
            unknown.is_empty(),
            "{doc} names score_core::{unknown:?}, which is not at the root"
        );
    }
}
