//! Helpers shared by the k8s target tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

use base64::Engine as _;
use serde_json::Value;

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

fn workspace() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../.."))
}

/// Runs `kubernetes-validate --strict -k 1.30.0` on `yaml`. Every document must pass; a WARN
/// (schema not found) is accepted only for Gateway API kinds, which the tool does not ship.
/// A missing validator skips locally and fails when `CI` is set.
pub fn kubernetes_validate(yaml: &str, name: &str) {
    let bin = workspace().join(".venv-validators/bin/kubernetes-validate");
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
            assert!(
                line.contains("gateway.networking.k8s.io"),
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
