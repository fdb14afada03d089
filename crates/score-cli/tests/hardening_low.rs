//! The "Low" hardening findings of issue 13, end to end: each test names the finding it covers
//! and failed before its fix.
#![cfg(unix)]

use std::path::Path;
use std::process::{Command, Output};

fn score_gen(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_score-gen"))
        .args(["--color", "never"])
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run score-gen")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const HEAD: &str =
    "apiVersion: score.dev/v1b1\nmetadata:\n  name: app\ncontainers:\n  main:\n    image: nginx\n";

/// Finding: integral floats and leading-zero ports reached the model as "internal error, please
/// report". score-go accepts them (the schema's `integer` admits 80.0, mapstructure converts), so
/// we do; a fractional port is a schema error at the value.
#[test]
fn integral_float_and_leading_zero_ports_are_ports() {
    let dir = tempfile::tempdir().unwrap();
    let score = format!(
        "{HEAD}    livenessProbe:\n      httpGet:\n        port: 8080.0\n        path: /\nservice:\n  ports:\n    web:\n      port: 80.0\n      targetPort: 8080.0\n    alt:\n      port: 081\n    sci:\n      port: 1e2\n"
    );
    std::fs::write(dir.path().join("score.yaml"), score).unwrap();
    let o = score_gen(dir.path(), &["compose", "score.yaml", "-o", "compose.yaml"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(!err.contains("internal"), "{err}");
    let out = std::fs::read_to_string(dir.path().join("compose.yaml")).unwrap();
    assert!(
        out.contains("expose:\n    - \"8080\"\n    - \"81\"\n    - \"100\"\n"),
        "{out}"
    );
    assert!(!out.contains("80.0"), "{out}");

    std::fs::write(
        dir.path().join("frac.yaml"),
        format!("{HEAD}service:\n  ports:\n    web:\n      port: 80.5\n"),
    )
    .unwrap();
    let o = score_gen(dir.path(), &["validate", "frac.yaml"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("score::schema::violation"), "{err}");
    assert!(err.contains("[frac.yaml:10:13]"), "{err}");
}
