//! `score-gen terraform` end to end: a configuration that applies as it is (main.tf and the
//! default modules beside it), and `-o -` refused when there is more than one file to write.

use crate::common;
use common::run_in;

const SCORE: &str = "apiVersion: score.dev/v1b1
metadata: {name: orders}
containers:
  api:
    image: ghcr.io/example/orders:1.0.0
    variables:
      DB_HOST: ${resources.db.host}
resources:
  db: {type: postgres}
";

const PLAIN: &str = "apiVersion: score.dev/v1b1
metadata: {name: hello}
containers:
  web: {image: nginx}
";

#[test]
fn writes_the_default_modules_beside_main_tf() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("score.yaml"), SCORE).unwrap();
    let out = run_in(dir, &["terraform", "score.yaml", "-o", "infra/"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let main = std::fs::read_to_string(dir.join("infra/main.tf")).unwrap();
    assert!(main.contains("= \"./modules/postgres\"\n"), "{main}");
    for f in ["main.tf", "variables.tf", "outputs.tf"] {
        assert!(dir.join("infra/modules/postgres").join(f).is_file(), "{f}");
    }
}

#[test]
fn stdout_takes_one_file_only() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("score.yaml"), SCORE).unwrap();
    std::fs::write(dir.join("plain.yaml"), PLAIN).unwrap();

    let out = run_in(dir, &["terraform", "score.yaml", "-o", "-"]);
    assert_eq!(out.status.code(), Some(1), "refused like every diagnostic");
    assert!(out.stdout.is_empty(), "nothing on stdout");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "the terraform output needs 3 more files beside main.tf (modules/postgres/main.tf"
        ),
        "{err}"
    );
    assert!(err.contains("-o infra/"), "{err}");
    assert!(err.contains("score::usage::invalid-arguments"), "{err}");
    assert!(!dir.join("modules").exists(), "nothing written");

    // A configuration of one file still goes to stdout.
    let out = run_in(dir, &["terraform", "plain.yaml", "-o", "-"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("resource \"kubernetes_deployment_v1\" \"hello\""));
}
