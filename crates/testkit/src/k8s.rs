//! The k8s target's side of the test kit: its cases, compile helpers, the leak check and
//! `kubernetes-validate`. Used by the k8s crate's `cases.rs` and `it/main.rs`, and by
//! score-cli's `ecosystem.rs`.

use std::path::PathBuf;
use std::process::Command;

use base64::Engine as _;
use score_core::target::ResolvedProject;
use score_core::State;
use score_target_k8s::{K8sOptions, K8sTarget};
use serde_json::Value;

use crate as kit;

/// `testdata/k8s/`: the case folders of this target.
pub const TARGET: &str = "k8s";
/// The snapshot beside each case: `testdata/k8s/<case>/manifests.yaml.snap`.
pub const SNAPSHOT: &str = "manifests.yaml";

/// One fixture folder of `testdata/k8s/` (see the test kit for the convention).
pub type Case = kit::Case<K8sOptions>;

pub fn load_case(name: &str) -> Case {
    kit::load_case(TARGET, name)
}

/// A state with the fixed seed.
pub fn seeded() -> State {
    kit::test_state()
}

/// Compiles a case from `state`: the project, `manifests.yaml` and the new state.
pub fn run(case: &Case, state: State) -> (ResolvedProject, String, State) {
    let score_core::Compiled {
        project,
        artefacts,
        state,
    } = kit::compile_with_state(&K8sTarget::new(case.options.clone()), case, state)
        .unwrap_or_else(|d| panic!("case {} failed: {:#?}", case.name, d));
    assert_eq!(artefacts.files.len(), 1, "one manifests file");
    assert_eq!(artefacts.files[0].path, PathBuf::from("manifests.yaml"));
    let yaml = String::from_utf8(artefacts.files[0].content.clone()).expect("utf-8 manifests");
    (project, yaml, state)
}

/// The secret output values of every resource (strings), for the leak check.
pub fn secret_values(project: &ResolvedProject) -> Vec<String> {
    let mut out = Vec::new();
    for r in project.resources() {
        for k in &r.outputs.secret {
            match r.outputs.values.get(k) {
                Some(Value::String(s)) => out.push(s.clone()),
                Some(other) => out.push(other.to_string()),
                None => {}
            }
        }
    }
    out
}

pub fn b64(s: &str) -> String {
    b64_bytes(s.as_bytes())
}

pub fn b64_bytes(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// Fails if any of `secrets` appears anywhere in a document that is not a Secret.
pub fn assert_no_secret_in_clear(docs: &[Value], secrets: &[&str]) {
    assert!(!secrets.is_empty(), "nothing to look for");
    for d in docs {
        if d["kind"] == "Secret" {
            continue;
        }
        let text = serde_json::to_string(d).expect("json");
        for s in secrets {
            assert!(
                !text.contains(s),
                "secret value {s:?} in clear text in {} {}",
                d["kind"],
                d["metadata"]["name"]
            );
        }
    }
}

/// API groups kubernetes-validate has no schema for: a document of theirs is reported with a
/// WARN instead of passing.
pub const NO_SCHEMA_GROUPS: [&str; 2] = ["gateway.networking.k8s.io", "dapr.io"];

/// Runs `kubernetes-validate --strict -k 1.30.0` on `yaml`. Every document must pass; a WARN
/// (schema not found) is accepted only for the API groups of [`NO_SCHEMA_GROUPS`].
/// A missing validator skips locally and fails when `CI` is set.
pub fn kubernetes_validate(yaml: &str, name: &str) {
    let bin = kit::workspace_root().join(".venv-validators/bin/kubernetes-validate");
    if !bin.exists() {
        if std::env::var_os("CI").is_some() {
            panic!(
                "kubernetes-validate not installed at {} (run bash .ci/validators)",
                bin.display()
            );
        }
        eprintln!(
            "SKIP kubernetes-validate for {name}: not installed at {} (run bash .ci/validators)",
            bin.display()
        );
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join(format!("{name}.yaml"));
    std::fs::write(&file, yaml).expect("write manifests");
    let out = Command::new(&bin)
        .args(["--strict", "-k", "1.30.0"])
        .arg(&file)
        .output()
        .expect("run kubernetes-validate");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let all = format!("{stdout}{stderr}");
    assert!(
        out.status.success(),
        "kubernetes-validate failed for {name}:\n{all}\n--- manifests ---\n{yaml}"
    );
    let docs = yaml
        .split("\n---\n")
        .filter(|d| !d.trim().is_empty())
        .count();
    let mut passed = 0;
    let mut warned = 0;
    for line in all.lines() {
        if line.starts_with("WARN") {
            // kubernetes-validate ships no schema for these API groups (Gateway API, Dapr).
            assert!(
                NO_SCHEMA_GROUPS.iter().any(|g| line.contains(g)),
                "unexpected warning for {name}: {line}\n--- manifests ---\n{yaml}"
            );
            warned += 1;
        } else if line.starts_with("INFO") && line.contains(" passed ") {
            passed += 1;
        } else if line.starts_with("ERROR") {
            panic!("kubernetes-validate error for {name}: {line}\n{all}");
        }
    }
    assert_eq!(
        passed + warned,
        docs,
        "every document checked for {name}:\n{all}"
    );
}
