//! `score-gen validate` end to end: exit codes, and every rejection names its file and line.

use crate::common::exe;
use std::path::PathBuf;
use std::process::Output;

fn testdata(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(rel)
}

fn score_gen(args: &[&str]) -> Output {
    exe("score-gen")
        .command()
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run score-gen")
}

fn validate_json(rel: &str) -> (i32, serde_json::Value) {
    let path = testdata(rel);
    let out = score_gen(&["validate", "--format", "json", path.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), doc)
}

/// Asserts `rel` is rejected with exit 1 and a diagnostic at `line` whose message contains `needle`.
fn assert_rejected_at(rel: &str, line: u64, needle: &str) {
    let (code, doc) = validate_json(rel);
    assert_eq!(code, 1, "{rel}: exit code, output {doc:#}");
    assert_eq!(doc["valid"], false);
    let diags = doc["files"][0]["diagnostics"]
        .as_array()
        .expect("diagnostics");
    assert!(
        diags.iter().any(|d| d["line"] == line
            && d["message"].as_str().unwrap_or("").contains(needle)
            && d["file"]
                .as_str()
                .unwrap_or("")
                .ends_with(rel.rsplit('/').next().unwrap())),
        "{rel}: no diagnostic at line {line} containing {needle:?}: {doc:#}"
    );
}

#[test]
fn duplicate_key_names_the_second_line() {
    assert_rejected_at("validate/duplicate-key.yaml", 7, "image");
}

#[test]
fn unknown_container_field_names_its_line() {
    assert_rejected_at("validate/unknown-field.yaml", 7, "imagee");
}

#[test]
fn bad_memory_quantity_names_its_line() {
    assert_rejected_at("validate/bad-memory.yaml", 9, "");
    assert_rejected_at("validate/bad-memory-string.yaml", 9, "12 Gi");
}

#[test]
fn undeclared_resource_names_its_line() {
    assert_rejected_at(
        "validate/undeclared-resource.yaml",
        8,
        "${resources.db.host}",
    );
}

#[test]
fn future_api_version_names_its_line() {
    assert_rejected_at("validate/bad-api-version.yaml", 1, "score.dev/v1b1");
}

#[test]
fn garbage_is_rejected_not_panicking() {
    let (code, doc) = validate_json("validate/garbage.bin");
    assert_eq!(code, 1, "{doc:#}");
    let msg = doc["files"][0]["diagnostics"][0]["message"]
        .as_str()
        .unwrap_or("");
    assert!(msg.contains("UTF-8"), "{msg}");
}

#[test]
fn alias_bomb_is_rejected() {
    let (code, doc) = validate_json("validate/alias-bomb.yaml");
    assert_eq!(code, 1, "{doc:#}");
    let msg = doc["files"][0]["diagnostics"][0]["message"]
        .as_str()
        .unwrap_or("");
    assert!(msg.to_lowercase().contains("alias"), "{msg}");
}

#[test]
fn valid_example_exits_zero() {
    let path = testdata("../examples/hello/score.yaml");
    let out = score_gen(&["validate", path.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("valid (workload 'hello')"));
}

#[test]
fn human_output_shows_file_line_and_snippet() {
    let path = testdata("validate/unknown-field.yaml");
    let out = score_gen(&["validate", "--color", "never", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown-field.yaml:7:5"), "{err}");
    assert!(err.contains("imagee: typo"), "snippet missing: {err}");
}

#[test]
fn usage_errors_exit_two() {
    let out = score_gen(&["validate"]);
    assert_eq!(out.status.code(), Some(2));
    let out = score_gen(&["no-such-command"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn missing_file_is_a_user_error() {
    let out = score_gen(&["validate", "/nonexistent/score.yaml"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn every_command_has_help() {
    for cmd in [
        vec!["--help"],
        vec!["validate", "--help"],
        vec!["init", "--help"],
        vec!["compose", "--help"],
        vec!["k8s", "--help"],
        vec!["terraform", "--help"],
        vec!["provisioners", "list", "--help"],
        vec!["resources", "list", "--help"],
        vec!["resources", "get-outputs", "--help"],
    ] {
        let out = score_gen(&cmd);
        assert!(out.status.success(), "{cmd:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage"),
            "{cmd:?}"
        );
    }
    let out = score_gen(&["--version"]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("score-gen "));
}

#[test]
fn version_and_shell_completions() {
    let o = score_gen(&["version"]);
    assert!(o.status.success());
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        format!("score-gen {}\n", env!("CARGO_PKG_VERSION"))
    );
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef score-gen"),
        ("fish", "complete -c score-gen"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let o = score_gen(&["completion", shell]);
        assert!(o.status.success(), "{shell}");
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            text.contains(marker),
            "{shell}: {}",
            &text[..text.len().min(200)]
        );
        // Every subcommand is completed.
        for sub in ["compose", "k8s", "terraform", "provisioners"] {
            assert!(text.contains(sub), "{shell} lacks {sub}");
        }
    }
}
