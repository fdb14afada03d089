//! The terraform target's side of the test kit: its cases, compile helpers and the real tools
//! (`terraform fmt -check`, HashiCorp's HCL parser via pygohcl and hcl2json). Included by
//! `cases.rs` and `it/main.rs`, each of which also includes the shared kit as `kit`.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

use score_target_terraform::{TerraformOptions, TerraformTarget};

use crate::kit;

/// `testdata/terraform/`: the case folders of this target.
pub const TARGET: &str = "terraform";
/// The snapshot beside each case: `testdata/terraform/<case>/main.tf.snap` (every emitted file).
pub const SNAPSHOT: &str = "main.tf";

/// One fixture folder of `testdata/terraform/` (see the test kit for the convention).
pub type Case = kit::Case<TerraformOptions>;

pub fn load_case(name: &str) -> Case {
    kit::load_case(TARGET, name)
}

/// Compiles a case with the fixed seed: every emitted file as (path, text), `main.tf` first.
pub fn compile(case: &Case) -> Vec<(String, String)> {
    kit::must_compile(&TerraformTarget::new(case.options.clone()), case)
        .artefacts
        .files
        .into_iter()
        .map(|(p, b)| (p.display().to_string(), String::from_utf8(b).unwrap()))
        .collect()
}

/// Every file, headed by its path: the snapshot text.
pub fn joined(files: &[(String, String)]) -> String {
    files
        .iter()
        .map(|(p, t)| format!("=== {p} ===\n{t}"))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn validators() -> Option<(PathBuf, PathBuf, PathBuf)> {
    let ws = kit::workspace_root();
    let tf = ws.join(".venv-validators/bin/terraform");
    let py = ws.join(".venv-validators/bin/python");
    let hcl2json = ws.join(".validators/node_modules/@cdktf/hcl2json");
    let node_ok = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if tf.exists() && py.exists() && hcl2json.join("package.json").exists() && node_ok {
        return Some((tf, py, hcl2json));
    }
    let msg = format!(
        "the terraform validators ({}, {}, {} and `node`)",
        tf.display(),
        py.display(),
        hcl2json.display()
    );
    kit::validator_missing(&msg);
    None
}

/// `terraform fmt -check` accepts every emitted file byte for byte, and HashiCorp's parser
/// (pygohcl and hcl2json) parses it.
pub fn external_validators(name: &str, files: &[(String, String)]) {
    let Some((tf, py, hcl2json)) = validators() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let file = dir.path().join(path);
        std::fs::write(&file, text).unwrap();
        let out = Command::new(&py)
            .args([
                "-c",
                "import pygohcl,sys; pygohcl.loads(open(sys.argv[1]).read())",
            ])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pygohcl rejects {}/{path}: {}",
            name,
            String::from_utf8_lossy(&out.stderr)
        );
        let out = Command::new("node")
            .args([
                "-e",
                "const m = require(process.argv[1]); m.parse('f.tf', require('fs').readFileSync(process.argv[2], 'utf8')).then(() => {}).catch(e => { console.error(String(e)); process.exit(1); })",
            ])
            .arg(&hcl2json)
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "hcl2json rejects {}/{path}: {}{}",
            name,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = Command::new(&tf)
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .env("CHECKPOINT_DISABLE", "1")
        .args(["fmt", "-check", "-diff"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "terraform fmt -check fails for {}:\n{}{}",
        name,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
