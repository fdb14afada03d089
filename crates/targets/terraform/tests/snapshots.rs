//! Every case folder in `testdata/terraform/` compiled through the whole engine with a fixed seed,
//! snapshotted, and checked by the real tools: `terraform fmt -check` (byte-identical formatting)
//! and HashiCorp's HCL parser (pygohcl, hcl2json).
//!
//! A case folder holds `score*.yaml` (sorted by name), optionally `provisioners.yaml` (user
//! provisioners, before the defaults) and `options.yaml` (the target's typed options).

use std::path::{Path, PathBuf};
use std::process::Command;

use score_core::unstable::state::State;
use score_core::CompileInputs;
use score_target_terraform::TerraformOptions;
use score_target_terraform::TerraformTarget;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

fn cases_dir() -> PathBuf {
    workspace().join("testdata/terraform")
}

struct Case {
    name: String,
    scores: Vec<(String, String)>,
    provisioners: Option<String>,
    options: TerraformOptions,
}

fn load_case(dir: &Path) -> Case {
    let mut scores = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in &entries {
        let file = p.file_name().unwrap().to_string_lossy().to_string();
        if file.starts_with("score") && file.ends_with(".yaml") {
            scores.push((file, std::fs::read_to_string(p).unwrap()));
        }
    }
    assert!(
        !scores.is_empty(),
        "case {} has no score*.yaml",
        dir.display()
    );
    let provisioners = std::fs::read_to_string(dir.join("provisioners.yaml")).ok();
    let options: TerraformOptions = std::fs::read_to_string(dir.join("options.yaml"))
        .map(|t| serde_saphyr::from_str(&t).expect("options.yaml: terraform options"))
        .unwrap_or_default();
    Case {
        name: dir.file_name().unwrap().to_string_lossy().to_string(),
        scores,
        provisioners,
        options,
    }
}

fn cases() -> Vec<Case> {
    let dir = cases_dir();
    assert!(
        dir.is_dir(),
        "missing test data directory {}",
        dir.display()
    );
    let mut dirs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(
        dirs.len() >= 8,
        "expected the terraform cases, found {}",
        dirs.len()
    );
    dirs.iter().map(|d| load_case(d)).collect()
}

fn compile(case: &Case) -> Vec<(String, String)> {
    let mut st = State::new_random();
    st.seed = "test-seed".into();
    let provs: Vec<(&str, &str)> = case
        .provisioners
        .as_deref()
        .map(|p| vec![("provisioners.yaml", p)])
        .unwrap_or_default();
    let mut inputs = CompileInputs {
        score_files: case.scores.clone(),
        ..CompileInputs::default()
    };
    for (n, t) in provs {
        inputs = inputs.provisioner_file(n, t);
    }
    let artefacts = score_core::compile(&TerraformTarget::new(case.options.clone()), &inputs, st)
        .unwrap_or_else(|d| panic!("case {}: {d:?}", case.name))
        .artefacts;
    artefacts
        .files
        .into_iter()
        .map(|(p, b)| (p.display().to_string(), String::from_utf8(b).unwrap()))
        .collect()
}

fn joined(files: &[(String, String)]) -> String {
    files
        .iter()
        .map(|(p, t)| format!("=== {p} ===\n{t}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn snapshots() {
    for case in cases() {
        let files = compile(&case);
        assert_eq!(files[0].0, "main.tf", "primary output first");
        insta::assert_snapshot!(case.name.clone(), joined(&files));
    }
}

#[test]
fn deterministic() {
    for case in cases() {
        assert_eq!(compile(&case), compile(&case), "case {}", case.name);
    }
}

/// No Score placeholder survives, and every Terraform interpolation that is not an escape
/// (`$${`) references something Terraform knows (a module, variable, resource or function).
#[test]
fn no_score_placeholders() {
    let allowed = ["module.", "var.", "urlencode(", "aws_sqs_queue."];
    for case in cases() {
        for (path, text) in compile(&case) {
            for needle in ["${metadata.", "${resources."] {
                assert!(
                    !text.contains(needle),
                    "{}/{path} contains {needle}",
                    case.name
                );
            }
            let bytes = text.as_bytes();
            for (i, _) in text.match_indices("${") {
                if i > 0 && bytes[i - 1] == b'$' {
                    continue;
                }
                let rest = &text[i + 2..];
                assert!(
                    allowed.iter().any(|a| rest.starts_with(a)),
                    "{}/{path}: unexpected interpolation at {}",
                    case.name,
                    &text[i..text.len().min(i + 40)]
                );
            }
        }
    }
}

/// The two-workload acceptance example: a shared postgres (one module for both workloads),
/// redis, a volume, files and probes; the second workload reaches the first via service-port.
#[test]
fn acceptance_example() {
    let case = load_case(&cases_dir().join("acceptance"));
    let files = compile(&case);
    assert_eq!(files.len(), 1, "no variables.tf without variables");
    let main = &files[0].1;
    assert_eq!(main.matches("module \"postgres_shared_db\" {").count(), 1);
    assert_eq!(main.matches("module \"redis_orders_cache\" {").count(), 1);
    assert!(main
        .contains("resource \"kubernetes_persistent_volume_claim_v1\" \"volume_orders_data\" {"));
    for w in ["orders", "web"] {
        assert!(main.contains(&format!("resource \"kubernetes_deployment_v1\" \"{w}\" {{")));
        assert!(main.contains(&format!("resource \"kubernetes_secret_v1\" \"{w}\" {{")));
    }
    assert!(main.contains("resource \"kubernetes_service_v1\" \"orders\" {"));
    assert!(!main.contains("resource \"kubernetes_service_v1\" \"web\""));
    // service-port gives plain values, concatenated into a literal.
    assert!(main.contains("value = \"http://orders:80/api\""));
    // A bare expression, not a string.
    assert!(main.contains("value = module.postgres_shared_db.host"));
    // Secrets only through secret_key_ref: no env `value` holds a password.
    assert!(!main.contains("value = module.postgres_shared_db.password"));
    assert!(main.contains("\"frontend.DB_PASSWORD\" = module.postgres_shared_db.password"));
    // The file with expressions becomes a template string.
    assert!(main.contains(
        "\"service: orders\\ndatabase: ${module.postgres_shared_db.host}:${module.postgres_shared_db.port}\\n\""
    ));
}

fn validators() -> Option<(PathBuf, PathBuf, PathBuf)> {
    let ws = workspace();
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
        "terraform validators missing ({}, {}, {} or `node`); run `bash .ci/validators`",
        tf.display(),
        py.display(),
        hcl2json.display()
    );
    assert!(std::env::var_os("CI").is_none(), "{msg}");
    eprintln!("SKIP: {msg}");
    None
}

/// `terraform fmt -check` accepts every emitted file byte for byte, and HashiCorp's parser
/// (pygohcl and hcl2json) parses it.
#[test]
fn external_validators() {
    let Some((tf, py, hcl2json)) = validators() else {
        return;
    };
    for case in cases() {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in compile(&case) {
            let file = dir.path().join(&path);
            std::fs::write(&file, &text).unwrap();
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
                case.name,
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
                case.name,
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
            case.name,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
