//! The `environment` resource with the real binary: score-gen passes the environment it runs in
//! to the library, which reads `${resources.<env>.K}` from it where the output cannot leave it
//! for deploy time (compose: resource params and file contents; k8s: everywhere). Each test sets
//! or removes its own variables on the child process.

use crate::common;
use common::{fails, ok, read};

use std::path::Path;
use std::process::Output;

/// `score-gen ARGS` in `dir` with `set` added to and `unset` removed from its environment.
fn run_env(dir: &Path, args: &[&str], set: &[(&str, &str)], unset: &[&str]) -> Output {
    let mut c = common::exe("score-gen").command();
    c.args(args).current_dir(dir).env("NO_COLOR", "1");
    for (k, v) in set {
        c.env(k, v);
    }
    for k in unset {
        c.env_remove(k);
    }
    c.output().expect("run score-gen")
}

const FRONTEND: &str = "apiVersion: score.dev/v1b1
metadata: {name: web}
containers:
  main:
    image: nginx
    variables:
      DEBUG: ${resources.env.SG_TEST_DEBUG}
      API: http://${resources.api.hostname}:${resources.api.port}
resources:
  env: {type: environment}
  api:
    type: service-port
    params:
      workload: ${resources.env.SG_TEST_BACKEND}
      port: http
";

const BACKEND: &str = "apiVersion: score.dev/v1b1
metadata: {name: backend}
containers: {main: {image: api:1}}
service: {ports: {http: {port: 8080}}}
";

fn project() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("temp dir");
    std::fs::write(d.path().join("score.yaml"), FRONTEND).unwrap();
    std::fs::write(d.path().join("backend.yaml"), BACKEND).unwrap();
    d
}

#[test]
fn compose_reads_params_from_the_environment_and_leaves_variables_to_compose() {
    let d = project();
    let p = d.path();
    let args = [
        "compose",
        "backend.yaml",
        "score.yaml",
        "--env-file",
        ".env",
    ];
    ok(&run_env(
        p,
        &args,
        &[("SG_TEST_BACKEND", "backend"), ("SG_TEST_DEBUG", "1")],
        &[],
    ));
    let compose = read(p, "compose.yaml");
    // The param was read when score-gen ran; the variable is compose's interpolation.
    assert!(compose.contains("API: http://backend:8080"), "{compose}");
    assert!(compose.contains("DEBUG: ${SG_TEST_DEBUG}"), "{compose}");
    assert!(!compose.contains("SG_TEST_BACKEND"), "{compose}");
    // The .env skeleton lists what compose reads, not what score-gen already read.
    let env = read(p, ".env");
    assert!(env.contains("SG_TEST_DEBUG="), "{env}");
    assert!(!env.contains("SG_TEST_BACKEND"), "{env}");
}

#[test]
fn compose_with_the_param_variable_unset_is_an_error_at_the_param() {
    let d = project();
    let p = d.path();
    let e = fails(&run_env(
        p,
        &["compose", "backend.yaml", "score.yaml"],
        &[("SG_TEST_DEBUG", "1")],
        &["SG_TEST_BACKEND"],
    ));
    assert!(
        e.contains("environment variable 'SG_TEST_BACKEND' is not set"),
        "{e}"
    );
    assert!(e.contains("score.yaml:14:17"), "{e}");
    assert!(e.contains("score::substitute::environment-unset"), "{e}");
    assert!(
        e.contains("set SG_TEST_BACKEND in the environment score-gen runs in"),
        "{e}"
    );
    assert!(!p.join("compose.yaml").exists(), "nothing is written");

    // The same in JSON, for CI.
    let o = run_env(
        p,
        &[
            "compose",
            "backend.yaml",
            "score.yaml",
            "--message-format",
            "json",
        ],
        &[],
        &["SG_TEST_BACKEND"],
    );
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("\"score::substitute::environment-unset\""),
        "{out}"
    );
}

#[test]
fn k8s_reads_every_environment_reference_when_it_runs() {
    let d = project();
    let p = d.path();
    let args = ["k8s", "backend.yaml", "score.yaml", "-o", "manifests.yaml"];
    ok(&run_env(
        p,
        &args,
        &[
            ("SG_TEST_BACKEND", "backend"),
            ("SG_TEST_DEBUG", "$(HOME) on"),
        ],
        &[],
    ));
    let m = read(p, "manifests.yaml");
    // A `$` from the environment is text: escaped from the kubelet's `$(VAR)` expansion.
    assert!(m.contains("value: $$(HOME) on"), "{m}");
    assert!(m.contains("value: http://backend:8080"), "{m}");
    assert!(!m.contains("${"), "{m}");

    let e = fails(&run_env(
        p,
        &args,
        &[("SG_TEST_BACKEND", "backend")],
        &["SG_TEST_DEBUG"],
    ));
    assert!(
        e.contains("environment variable 'SG_TEST_DEBUG' is not set"),
        "{e}"
    );
    assert!(e.contains("score.yaml:7:14"), "{e}");
}
