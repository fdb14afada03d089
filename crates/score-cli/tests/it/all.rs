//! `score-gen all` end to end: it writes the three targets' outputs, byte-identical to what the
//! single-target commands write from the same state, and writes nothing when any target fails.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::run_in as score_gen;

fn example(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(rel)
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every regular file under `root`, relative path → bytes.
fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn hello() -> String {
    example("hello/score.yaml").display().to_string()
}

#[test]
fn writes_all_three_outputs_identical_to_the_single_target_commands() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let hello = hello();
    ok(&score_gen(
        dir,
        &["all", &hello, "-o", "out", "--project", "demo"],
    ));

    let all = tree(&dir.join("out"));
    let names: Vec<&str> = all.keys().map(String::as_str).collect();
    for want in ["compose.yaml", "manifests.yaml", "terraform/main.tf"] {
        assert!(names.contains(&want), "missing {want}: {names:?}");
    }
    assert!(
        names
            .iter()
            .any(|n| n.starts_with(".score-gen/mounts/hello/web/")),
        "compose mount of hello's config file missing: {names:?}"
    );
    let compose = String::from_utf8(all["compose.yaml"].clone()).unwrap();
    assert!(compose.starts_with("name: demo\n"), "{compose}");
    assert!(compose.contains("hello-web:"), "{compose}");
    let manifests = String::from_utf8(all["manifests.yaml"].clone()).unwrap();
    assert!(manifests.contains("kind: Deployment"), "{manifests}");
    let tf = String::from_utf8(all["terraform/main.tf"].clone()).unwrap();
    assert!(tf.contains("resource \""), "{tf}");
    for t in ["compose", "k8s", "terraform"] {
        assert!(
            dir.join(".score-gen").join(t).join("state.yaml").is_file(),
            "{t} state not saved"
        );
    }

    // The single-target commands on the same (now saved) state must produce the same bytes.
    ok(&score_gen(
        dir,
        &[
            "compose",
            &hello,
            "-o",
            "single/compose.yaml",
            "--project",
            "demo",
        ],
    ));
    ok(&score_gen(
        dir,
        &["k8s", &hello, "-o", "single/manifests.yaml"],
    ));
    ok(&score_gen(
        dir,
        &["terraform", &hello, "-o", "single/terraform/main.tf"],
    ));
    let single = tree(&dir.join("single"));
    assert_eq!(
        all.keys().collect::<Vec<_>>(),
        single.keys().collect::<Vec<_>>()
    );
    for (k, v) in &all {
        assert!(
            single[k] == *v,
            "{k} differs:\n--- all\n{}\n--- single\n{}",
            String::from_utf8_lossy(v),
            String::from_utf8_lossy(&single[k])
        );
    }

    // And `all` again is byte-stable.
    ok(&score_gen(
        dir,
        &["all", &hello, "-o", "out", "--project", "demo"],
    ));
    assert_eq!(tree(&dir.join("out")), all);
}

#[cfg(unix)]
#[test]
fn applies_file_modes_to_compose_mounts() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    ok(&score_gen(
        tmp.path(),
        &["all", &hello(), "-o", "out", "--project", "demo"],
    ));
    let mounts = tmp.path().join("out/.score-gen/mounts/hello/web");
    let file = std::fs::read_dir(&mounts)
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().contains("config.yaml"))
        .expect("config.yaml mount");
    let mode = file.metadata().unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode, 0o644,
        "hello's config.yaml has mode 0644 in the Score file"
    );
}

#[test]
fn namespace_reaches_k8s_and_terraform() {
    let tmp = tempfile::tempdir().unwrap();
    ok(&score_gen(
        tmp.path(),
        &[
            "all",
            &hello(),
            "-o",
            "out",
            "--namespace",
            "shop",
            "--generate-namespace",
        ],
    ));
    let manifests = std::fs::read_to_string(tmp.path().join("out/manifests.yaml")).unwrap();
    assert!(manifests.contains("kind: Namespace"), "{manifests}");
    assert!(manifests.contains("namespace: shop"), "{manifests}");
    // Terraform: every object in var.namespace, whose default is the namespace given.
    let tf = std::fs::read_to_string(tmp.path().join("out/terraform/main.tf")).unwrap();
    assert!(tf.contains("namespace = var.namespace"), "{tf}");
    let vars = std::fs::read_to_string(tmp.path().join("out/terraform/variables.tf")).unwrap();
    assert!(vars.contains("default     = \"shop\""), "{vars}");
}

#[test]
fn an_invalid_file_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "apiVersion: score.dev/v1b1\nmetadata:\n  name: bad\ncontainers:\n  main:\n    imagee: nginx\n",
    )
    .unwrap();
    let out = score_gen(
        tmp.path(),
        &[
            "all",
            &hello(),
            bad.to_str().unwrap(),
            "-o",
            "out",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON diagnostics");
    let diags = doc["diagnostics"].as_array().expect("diagnostics");
    assert!(
        diags
            .iter()
            .any(|d| d["message"].as_str().unwrap_or("").contains("imagee")),
        "{doc:#}"
    );
    assert!(
        !tmp.path().join("out").exists(),
        "output written on failure"
    );
    assert!(
        !tmp.path().join(".score-gen").exists(),
        "state written on failure"
    );
}

#[test]
fn a_provisioning_failure_names_each_target_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("score.yaml");
    std::fs::write(
        &f,
        "apiVersion: score.dev/v1b1\nmetadata:\n  name: odd\ncontainers:\n  main:\n    image: nginx\nresources:\n  thing:\n    type: no-such-type\n",
    )
    .unwrap();
    let out = score_gen(
        tmp.path(),
        &["all", "score.yaml", "-o", "out", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON diagnostics");
    let messages: Vec<&str> = doc["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter_map(|d| d["message"].as_str())
        .collect();
    for t in ["compose: ", "k8s: ", "terraform: "] {
        assert!(
            messages
                .iter()
                .any(|m| m.starts_with(t) && m.contains("no-such-type")),
            "no {t}diagnostic: {messages:#?}"
        );
    }
    assert!(
        !tmp.path().join("out").exists(),
        "output written on failure"
    );
    for t in ["compose", "k8s", "terraform"] {
        assert!(
            !tmp.path()
                .join(".score-gen")
                .join(t)
                .join("state.yaml")
                .exists(),
            "{t} state saved although the run failed"
        );
    }
}

#[test]
fn stdout_is_not_an_output_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let out = score_gen(tmp.path(), &["all", &hello(), "-o", "-"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("needs a directory"), "{stderr}");
    assert!(!tmp.path().join(".score-gen").exists());
}
