//! The CLI's share of ARCHITECTURE.md's checkable sentences:
//!
//! - the target table (`src/targets.rs`) is the one place that lists targets: no other source
//!   file of the CLI names one in its code (subcommands, `all`, help texts and flags come from
//!   the table's rows);
//! - `spec/diagnostic-codes.md` lists exactly core's codes and those of every target of the
//!   table, each code well-formed and defined once.

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
