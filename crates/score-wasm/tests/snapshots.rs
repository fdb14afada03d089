//! score-wasm's compile gives the CLI's bytes: for every fixture of the three targets
//! (`testdata/<target>/<case>/`, the convention of the test kit, `crates/testkit`), `compile` with
//! the case's files, its `options.yaml` passed as YAML `targetOptions`, its `overrides.yaml` as
//! `overrideFiles` (the fixture kit merges it as the CLI's `--override-file` does) and the fixture seed
//! produces exactly the text of the case's insta snapshot (rendered as the target crate's test
//! renders it). This runs the same Rust code the wasm build runs, minus the JavaScript
//! conversion of arguments and results.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use score_wasm::{compile, CompileOptions, CompileOutput, NamedText};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The body of an insta snapshot file (after its `---` header).
fn snapshot_body(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let rest = text.strip_prefix("---\n").expect("insta header");
    let end = rest.find("\n---\n").expect("insta header end");
    rest[end + 5..].to_string()
}

/// What the target crates' fixture tests snapshot (see the test kit's `crates/testkit/src/<target>.rs`).
fn render(target: &str, out: &CompileOutput) -> String {
    let text = |i: usize| out.files[i].text.clone().expect("UTF-8 output");
    match target {
        "compose" => {
            let mut s = text(0);
            for f in &out.files[1..] {
                s.push_str(&format!("\n--- {} ---\n", f.path));
                match (&f.text, &f.bytes) {
                    (Some(t), _)
                        if !t
                            .bytes()
                            .any(|b| b < 0x20 && !matches!(b, b'\n' | b'\t' | b'\r')) =>
                    {
                        s.push_str(t)
                    }
                    (Some(t), _) => s.push_str(&format!("<{} bytes: {:?}>", t.len(), t.as_bytes())),
                    (None, Some(b)) => s.push_str(&format!("<{} bytes: {:?}>", b.len(), b)),
                    (None, None) => unreachable!("a file has text or bytes"),
                }
            }
            for d in &out.directories {
                s.push_str(&format!("\n--- {d}/ (directory) ---\n"));
            }
            s
        }
        "k8s" => {
            assert_eq!(out.files.len(), 1, "one manifests file");
            text(0)
        }
        "terraform" => (0..out.files.len())
            .map(|i| format!("=== {} ===\n{}", out.files[i].path, text(i)))
            .collect::<Vec<_>>()
            .join("\n"),
        other => panic!("no rendering for target {other}"),
    }
}

fn check_target(target: &str, snapshot: &str) {
    let dir = root().join("testdata").join(target);
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no cases in {}", dir.display());
    let mut failures = Vec::new();
    for case in &cases {
        let mut names: Vec<String> = std::fs::read_dir(case)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let read = |n: &str| std::fs::read_to_string(case.join(n)).ok();
        let file = |n: &str| NamedText {
            name: n.to_string(),
            text: read(n),
        };
        let scores: Vec<NamedText> = names
            .iter()
            .filter(|n| n.starts_with("score") && n.ends_with(".yaml"))
            .map(|n| file(n))
            .collect();
        let provisioners: Vec<NamedText> = read("provisioners.yaml")
            .map(|_| vec![file("provisioners.yaml")])
            .unwrap_or_default();
        let environment: BTreeMap<String, String> = read("environment.yaml")
            .map(|t| serde_saphyr::from_str(&t).expect("environment.yaml"))
            .unwrap_or_default();
        let options = CompileOptions {
            seed: Some("test-seed".into()),
            environment,
            target_options: read("options.yaml").map(serde_json::Value::String),
            // The fixture kit merges overrides.yaml as the CLI's --override-file does.
            override_files: read("overrides.yaml")
                .map(|_| vec![file("overrides.yaml")])
                .unwrap_or_default(),
            ..Default::default()
        };
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        match compile(target, scores, provisioners, options) {
            Ok(out) => {
                let want = snapshot_body(&case.join(format!("{snapshot}.snap")));
                let got = render(target, &out);
                // insta ignores trailing line breaks when it compares.
                if got.trim_end_matches('\n') != want.trim_end_matches('\n') {
                    failures.push(format!(
                        "{target}/{name}: output differs from {snapshot}.snap"
                    ));
                }
            }
            Err(d) => failures.push(format!("{target}/{name}: {d}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!("{target}: {} cases equal their snapshots", cases.len());
}

#[test]
fn compose_cases_equal_the_snapshots() {
    check_target("compose", "compose.yaml");
}

#[test]
fn k8s_cases_equal_the_snapshots() {
    check_target("k8s", "manifests.yaml");
}

#[test]
fn terraform_cases_equal_the_snapshots() {
    check_target("terraform", "main.tf");
}
