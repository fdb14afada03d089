//! Shared helpers for the compose target's integration tests: fixtures, compile, validators.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use score_core::unstable::state::State;
use score_core::Diagnostics;
use score_core::{compile, Artefacts, CompileInputs, ResolvedProject};
use score_target_compose::ComposeOptions;
use score_target_compose::ComposeTarget;
use serde_json::Value;

/// The workspace root (two levels above this crate's `crates/targets/compose`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

/// `testdata/compose/`.
pub fn cases_dir() -> PathBuf {
    workspace_root().join("testdata/compose")
}

/// One fixture folder: `score*.yaml` (sorted), optional `overrides.yaml` (merged into
/// `score.yaml` like `--overrides-file`), `provisioners.yaml`, `options.yaml` (the target's typed options; an unknown key is an error).
pub struct Case {
    pub name: String,
    pub scores: Vec<(String, String)>,
    pub provisioners: Vec<(String, String)>,
    pub options: ComposeOptions,
}

pub fn case_names() -> Vec<String> {
    let dir = cases_dir();
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("fixture directory {} is missing: {e}", dir.display()));
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no fixtures in {}", dir.display());
    names
}

pub fn load_case(name: &str) -> Case {
    let dir = cases_dir().join(name);
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).ok();
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("score") && n.ends_with(".yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "case {name} has no score.yaml");
    let mut scores = Vec::new();
    for f in files {
        let mut text = read(&f).unwrap();
        if f == "score.yaml" {
            if let Some(o) = read("overrides.yaml") {
                let base: Value = serde_saphyr::from_str(&text).expect("score.yaml parses");
                let overlay: Value = serde_saphyr::from_str(&o).expect("overrides.yaml parses");
                let merged = score_core::unstable::overrides::merge_overrides_file(&base, &overlay);
                text = serde_saphyr::to_string(&merged).unwrap();
            }
        }
        scores.push((f, text));
    }
    let provisioners = read("provisioners.yaml")
        .map(|t| vec![("provisioners.yaml".to_string(), t)])
        .unwrap_or_default();
    let options: ComposeOptions = read("options.yaml")
        .map(|s| serde_saphyr::from_str(&s).expect("options.yaml: compose options"))
        .unwrap_or_default();
    Case {
        name: name.to_string(),
        scores,
        provisioners,
        options,
    }
}

/// A state with the fixed seed, so generated names and passwords are byte-stable.
pub fn test_state() -> State {
    let mut st = State::new_random();
    st.seed = "test-seed".into();
    st
}

pub fn compile_case(case: &Case) -> Result<(ResolvedProject, Artefacts, State), Diagnostics> {
    compile_with_state(case, test_state())
}

pub fn compile_with_state(
    case: &Case,
    state: State,
) -> Result<(ResolvedProject, Artefacts, State), Diagnostics> {
    let inputs = CompileInputs {
        score_files: case.scores.clone(),
        provisioner_files: case.provisioners.clone(),
        ..CompileInputs::default()
    };
    compile(&ComposeTarget::new(case.options.clone()), &inputs, state)
        .map(|c| (c.project, c.artefacts, c.state))
}

/// Compiles a case or panics with its diagnostics.
pub fn must_compile(case: &Case) -> Artefacts {
    match compile_case(case) {
        Ok((_, a, _)) => a,
        Err(d) => panic!("case {} failed:\n{d}", case.name),
    }
}

/// compose.yaml text of artefacts.
pub fn compose_yaml(a: &Artefacts) -> String {
    assert_eq!(a.files[0].0, PathBuf::from("compose.yaml"));
    String::from_utf8(a.files[0].1.clone()).expect("compose.yaml is UTF-8")
}

fn validator_missing(what: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{what} is not installed, and CI is set: run `bash .ci/validators`");
    }
    eprintln!("SKIP: {what} is not installed; run `bash .ci/validators` to enable this check");
}

/// Validates against the compose-spec schema bundled by dclint. `Ok(false)` = skipped.
pub fn check_schema(yaml: &str) -> Result<bool, String> {
    let path = workspace_root().join(".validators/node_modules/dclint/schemas/compose.schema.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        validator_missing(&format!("compose-spec schema ({})", path.display()));
        return Ok(false);
    };
    let schema: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let validator = jsonschema::draft7::new(&schema).map_err(|e| e.to_string())?;
    let instance: Value = serde_saphyr::from_str(yaml).map_err(|e| e.to_string())?;
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(true)
    } else {
        Err(errors.join("\n"))
    }
}

/// Runs dclint with its style rules off (schema check only). `Ok(false)` = skipped.
pub fn check_dclint(name: &str, yaml: &str) -> Result<bool, String> {
    let root = workspace_root();
    let bin = root.join(".validators/node_modules/.bin/dclint");
    if !bin.exists() {
        validator_missing(&format!("dclint ({})", bin.display()));
        return Ok(false);
    }
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let config = dir.path().join(".dclintrc.json");
    std::fs::write(
        &config,
        r#"{ "rules": { "no-unbound-port-interfaces": 0, "service-keys-order": 0, "services-alphabetical-order": 0,
  "service-dependencies-alphabetical-order": 0, "service-ports-alphabetical-order": 0,
  "top-level-properties-order": 0, "require-quotes-in-ports": 0, "require-project-name-field": 0,
  "service-image-require-explicit-tag": 0 } }"#,
    )
    .map_err(|e| e.to_string())?;
    let file = dir.path().join(format!("{name}.compose.yaml"));
    std::fs::write(&file, yaml).map_err(|e| e.to_string())?;
    let out = Command::new(&bin)
        .arg("-c")
        .arg(&config)
        .arg(&file)
        .output()
        .map_err(|e| format!("cannot run dclint: {e}"))?;
    if out.status.success() {
        Ok(true)
    } else {
        Err(format!(
            "dclint failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// compose.yaml followed by every other artefact (path and text, or a byte count for binary).
pub fn render_artefacts(a: &Artefacts) -> String {
    let mut s = compose_yaml(a);
    for (path, bytes) in &a.files[1..] {
        s.push_str(&format!("\n--- {} ---\n", path.display()));
        let binary = bytes
            .iter()
            .any(|b| *b < 0x20 && !matches!(b, b'\n' | b'\t' | b'\r'));
        match std::str::from_utf8(bytes) {
            Ok(t) if !binary => s.push_str(t),
            _ => s.push_str(&format!("<{} bytes: {:?}>", bytes.len(), bytes)),
        }
    }
    s
}
