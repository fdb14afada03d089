//! The sentences of ARCHITECTURE.md that a test can check, checked on the sources:
//!
//! - core names no target: no line of score-core's code (comments aside) spells a target's
//!   name, except the few that name another tool's format ([`NAMES_A_FORMAT`]; an entry there
//!   that no longer matches fails too, so the list only shrinks);
//! - no target crate depends on another, and core on none;
//! - core does no I/O outside `host`: the clippy configuration that forbids it is in place,
//!   only `src/host/` (and one test-only function) lifts it, and CI runs clippy on core with
//!   `-D warnings`.

// Tests read the repository's files; the library's purity lint is for `src/`.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use score_testkit::scan;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn core_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The words that name a target of this repository (or its ecosystem), lower-cased.
const TARGET_WORDS: &[&str] = &["compose", "k8s", "kubernetes", "terraform"];

/// Places that name another tool's format, not a target of score-gen (the same checks apply).
const NAMES_A_FORMAT: &[(&str, &str)] = &[
    (
        "validate/hints.rs",
        "hints for a docker compose file or a Kubernetes manifest given as a Score file, and for their key names",
    ),
    (
        "load/yaml/simple.rs",
        "test data: a manifest's `app.kubernetes.io/name` label in a YAML sample",
    ),
];

/// The lines of score-core's code that name a target, by file (relative to `src/`).
fn core_hits(files: &[(String, String)]) -> BTreeMap<String, Vec<String>> {
    scan::lines_naming(files, TARGET_WORDS, false)
}

#[test]
fn core_names_no_target() {
    let files = scan::rust_files(&core_src(), true);
    assert!(files.len() > 20, "found only {} files", files.len());
    let hits = core_hits(&files);
    let entries = || NAMES_A_FORMAT.iter();
    let listed = |f: &str| entries().any(|(p, _)| f.starts_with(p));
    let new: Vec<&String> = hits
        .iter()
        .filter(|(f, _)| !listed(f))
        .flat_map(|(_, lines)| lines)
        .collect();
    assert!(
        new.is_empty(),
        "score-core's code names a target; target knowledge belongs in the target's crate \
         (declare it through the Target trait):\n{}",
        new.iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    let stale: Vec<&str> = entries()
        .map(|(p, _)| *p)
        .filter(|p| !hits.keys().any(|f| f.starts_with(p)))
        .collect();
    assert!(
        stale.is_empty(),
        "NAMES_A_FORMAT lists files that no longer name a target; remove them: {stale:?}"
    );
}

#[test]
fn the_scan_sees_a_planted_name() {
    let files = vec![
        (
            "a.rs".to_string(),
            "// compose in a comment\nlet x = 1;\n".to_string(),
        ),
        (
            "b.rs".to_string(),
            "let t = \"https://x\"; // k8s\nif name == \"k8s\" {}\n".to_string(),
        ),
    ];
    let hits = core_hits(&files);
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(
        hits["b.rs"],
        vec!["b.rs:2: if name == \"k8s\" {}".to_string()]
    );
}

/// `[dependencies]`-like tables of a Cargo.toml: the dependency names they list.
fn dependency_names(manifest: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_deps = false;
    for line in manifest.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            in_deps = t.contains("dependencies");
            continue;
        }
        if in_deps && let Some((name, _)) = t.split_once('=') {
            let name = name.trim();
            if !name.is_empty() && !name.starts_with('#') {
                out.push(name.split('.').next().unwrap().to_string());
            }
        }
    }
    out
}

#[test]
fn no_target_depends_on_another_and_core_on_none() {
    let targets_dir = root().join("crates/targets");
    let mut target_crates = Vec::new();
    for e in std::fs::read_dir(&targets_dir).unwrap() {
        let p = e.unwrap().path();
        let manifest = p.join("Cargo.toml");
        if manifest.is_file() {
            let text = std::fs::read_to_string(&manifest).unwrap();
            let name = text
                .lines()
                .find_map(|l| l.trim().strip_prefix("name = "))
                .unwrap()
                .trim_matches('"')
                .to_string();
            target_crates.push((name, text));
        }
    }
    target_crates.sort();
    assert!(target_crates.len() >= 3, "{target_crates:?}");
    let names: Vec<&str> = target_crates.iter().map(|(n, _)| n.as_str()).collect();
    for (name, text) in &target_crates {
        let deps = dependency_names(text);
        assert!(
            deps.iter().any(|d| d == "score-core"),
            "{name} reads score-core"
        );
        let bad: Vec<&String> = deps
            .iter()
            .filter(|d| names.contains(&d.as_str()))
            .collect();
        assert!(
            bad.is_empty(),
            "target crate {name} depends on target crate(s) {bad:?}"
        );
    }
    // The test kit reaches a target only through the feature named after it: each target's
    // tests ask for their own side of the kit, never another target's.
    for e in std::fs::read_dir(&targets_dir).unwrap() {
        let dir = e.unwrap().path();
        let Ok(text) = std::fs::read_to_string(dir.join("Cargo.toml")) else {
            continue;
        };
        let own = dir.file_name().unwrap().to_string_lossy().into_owned();
        for line in text
            .lines()
            .filter(|l| l.trim_start().starts_with("score-testkit"))
        {
            let asked: Vec<&str> = line
                .split_once("features")
                .map(|(_, f)| f.split('"').skip(1).step_by(2).collect())
                .unwrap_or_default();
            assert!(
                asked.iter().all(|f| *f == own),
                "{own}'s tests ask the test kit for another target's side: {line}"
            );
        }
    }
    let core = std::fs::read_to_string(root().join("crates/score-core/Cargo.toml")).unwrap();
    let bad: Vec<String> = dependency_names(&core)
        .into_iter()
        .filter(|d| names.contains(&d.as_str()) || d.starts_with("score-target"))
        .collect();
    assert!(
        bad.is_empty(),
        "score-core depends on target crate(s) {bad:?}"
    );
}

#[test]
fn dependency_scan_reads_the_tables() {
    let toml = "[package]\nname = \"x\"\n[dependencies]\nscore-core.workspace = true\nserde = \"1\"\n[dev-dependencies]\nscore-target-k8s = { path = \"..\" }\n[features]\nhost = []\n";
    assert_eq!(
        dependency_names(toml),
        ["score-core", "serde", "score-target-k8s"]
    );
}

#[test]
fn core_does_no_io_outside_host() {
    // The rule: clippy.toml forbids file system, process, environment and network calls ...
    let clippy =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("clippy.toml")).unwrap();
    for needle in [
        "std::fs::read_to_string",
        "std::fs::write",
        "std::fs::File",
        "std::process::Command",
        "std::env::var",
        "std::net::TcpStream",
    ] {
        assert!(
            clippy.contains(&format!("path = \"{needle}\"")),
            "clippy.toml lost {needle}"
        );
    }
    // ... only `host` lifts it (and one test-only corpus reader) ...
    let files = scan::rust_files(&core_src(), true);
    let lifted: Vec<&str> = files
        .iter()
        .filter(|(rel, text)| {
            !rel.starts_with("host/") && text.contains("allow(clippy::disallowed")
        })
        .map(|(rel, _)| rel.as_str())
        .collect();
    assert_eq!(
        lifted,
        ["load/yaml/fast.rs"],
        "a module outside host lifts the I/O rule"
    );
    let fast = &files
        .iter()
        .find(|(r, _)| r == "load/yaml/fast.rs")
        .unwrap()
        .1;
    let at = fast.find("allow(clippy::disallowed").unwrap();
    assert!(
        fast[..at].contains("#[cfg(test)]"),
        "load/yaml/fast.rs lifts the rule outside its tests"
    );
    // ... and CI runs clippy on core with warnings as errors.
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    assert!(
        ci.contains("cargo clippy --workspace --all-targets --locked -- -D warnings"),
        ".ci/run no longer runs clippy with -D warnings"
    );
    assert!(ci.contains("cargo clippy -q -p score-core --no-default-features --lib"));
}

/// The front door: every public item of the crate root (`src/lib.rs`), by name. An embedder
/// relies on these; anything else is reached through a module (`target` for target authors;
/// `input`, `diag`, `model`, `project` for the parts these carry; `host` for the I/O side). Adding a
/// name here is a decision about the public API, not a convenience.
const FRONT_DOOR: &[&str] = &[
    "CommandPolicy",
    "Code",
    "CompileInputs",
    "Compiled",
    "Diagnostic",
    "Diagnostics",
    "Environment",
    "LoadOptions",
    "LoadedWorkload",
    "Project",
    "ProvisionOptions",
    "ProvisionerSet",
    "State",
    "Target",
    "Workload",
    "compile",
    "load_workload",
    "parse_document",
    "score_schema",
];

/// The root's public modules: documented ones, then the pipeline's stage folders that are
/// public for score-gen's own tools only (`#[doc(hidden)]`, no stability promise).
const DOCUMENTED_MODULES: &[&str] = &[
    "diag", "host", "input", "model", "project", "quantity", "target",
];
const HIDDEN_MODULES: &[&str] = &["load", "provision", "validate"];

/// What a crate root declares public, from its source: (items, documented modules, hidden
/// modules), each sorted. A glob re-export (`pub use x::*`) is reported as the item `*`.
pub(super) fn root_public(lib: &str) -> (Vec<String>, Vec<String>, Vec<String>) {
    let code: String = lib
        .lines()
        .map(|l| scan::code_of(l).trim())
        .filter(|l| !l.starts_with("#![") && !l.starts_with("//"))
        .collect::<Vec<_>>()
        .join(" ");
    let (mut items, mut docs, mut hidden) = (Vec::new(), Vec::new(), Vec::new());
    // Statements and items at the top level end at `;` or at a `{ ... }` body; a `pub` starts
    // each one this scan cares about.
    let mut rest = code.as_str();
    let mut hidden_next = false;
    while let Some(at) = rest.find(['#', 'p']) {
        rest = &rest[at..];
        if rest.starts_with("#[doc(hidden)]") {
            hidden_next = true;
            rest = &rest["#[doc(hidden)]".len()..];
            continue;
        }
        let Some(item) = rest.strip_prefix("pub ") else {
            rest = &rest[1..];
            continue;
        };
        let word = |s: &str| -> String {
            s.trim_start()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect()
        };
        if let Some(m) = item.strip_prefix("mod ") {
            let name = word(m);
            if hidden_next {
                hidden.push(name);
            } else {
                docs.push(name);
            }
        } else if let Some(u) = item.strip_prefix("use ") {
            let stmt = &u[..u.find(';').unwrap()];
            let names = match (stmt.find('{'), stmt.rfind('}')) {
                (Some(a), Some(b)) => stmt[a + 1..b].split(',').map(str::to_string).collect(),
                _ => vec![stmt.rsplit("::").next().unwrap().to_string()],
            };
            for n in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
                let n = n.rsplit(" as ").next().unwrap();
                items.push(n.rsplit("::").next().unwrap().trim().to_string());
            }
        } else {
            for kw in [
                "fn ", "struct ", "enum ", "trait ", "type ", "const ", "static ", "macro ",
            ] {
                if let Some(n) = item.strip_prefix(kw) {
                    items.push(word(n));
                }
            }
        }
        hidden_next = false;
        rest = &item[1..];
    }
    for v in [&mut items, &mut docs, &mut hidden] {
        v.sort();
    }
    (items, docs, hidden)
}

#[test]
fn the_root_is_the_front_door_only() {
    let lib = std::fs::read_to_string(core_src().join("lib.rs")).unwrap();
    let (items, docs, hidden) = root_public(&lib);
    let mut want: Vec<&str> = FRONT_DOOR.to_vec();
    want.sort();
    assert_eq!(
        items, want,
        "score-core's root re-exports something new (or lost an item): the root is the \
         embedders' front door; put a stage's item in its module, a target author's in \
         `target`, and change FRONT_DOOR only on purpose"
    );
    assert!(FRONT_DOOR.len() <= 20, "the front door keeps growing");
    assert_eq!(
        docs, DOCUMENTED_MODULES,
        "the root's documented modules changed"
    );
    assert_eq!(
        hidden, HIDDEN_MODULES,
        "the root's hidden stage modules changed"
    );
}

#[test]
fn the_root_scan_sees_a_planted_reexport() {
    let lib = "//! doc\nmod a;\n#[doc(hidden)]\npub mod stage;\npub mod door;\n\
               pub use a::{x, y as z};\npub use stage::inner::*; // all of it\n\
               pub fn f() -> u8 { 1 }\n/// a pub use in a doc line is not code\nfn g() {}\n";
    let (items, docs, hidden) = root_public(lib);
    assert_eq!(items, ["*", "f", "x", "z"]);
    assert_eq!(docs, ["door"]);
    assert_eq!(hidden, ["stage"]);
}

#[test]
fn the_folder_tree_is_the_module_tree() {
    // No `#[path]` remount: a module lives where its folder says (the stage folders are
    // `src/load/`, `src/validate/`, `src/provision/`, `src/target/`, `src/project/`).
    let files = scan::rust_files(&core_src(), true);
    let remounts: Vec<String> = files
        .iter()
        .flat_map(|(rel, text)| {
            text.lines()
                .enumerate()
                .filter(|(_, l)| scan::code_of(l).contains("#[path"))
                .map(move |(i, l)| format!("{rel}:{}: {}", i + 1, l.trim()))
        })
        .collect();
    assert!(
        remounts.is_empty(),
        "#[path] in score-core's src:\n{}",
        remounts.join("\n")
    );
    for dir in ["load", "validate", "provision", "target", "project", "host"] {
        assert!(
            files.iter().any(|(rel, _)| rel == &format!("{dir}/mod.rs")),
            "src/{dir}/mod.rs is missing"
        );
    }
}

/// The scan itself: comments are stripped, string literals are code.
#[test]
fn the_scan_strips_comments_and_sees_strings() {
    assert_eq!(scan::code_of("let x = 1; // k8s"), "let x = 1; ");
    assert_eq!(
        scan::code_of("let u = \"https://x\"; // y"),
        "let u = \"https://x\"; "
    );
    assert_eq!(
        scan::code_of("let s = \"a\\\"//b\";"),
        "let s = \"a\\\"//b\";"
    );
    assert_eq!(scan::code_of("//! doc"), "");
}
