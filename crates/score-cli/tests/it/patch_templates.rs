//! `init --patch-templates` then generate, with the real binary in a temp project
//! (spec/patching.md).

use crate::common;
use common::{fails, ok, read, run_in};

const SCORE: &str = "\
apiVersion: score.dev/v1b1
metadata:
  name: web
containers:
  main:
    image: nginx:1.27
    variables:
      DEBUG: \"true\"
";

const READ_ONLY: &str = "\
{{ range $name, $svc := .Compose.services }}
- op: set
  path: services.{{ $name }}.read_only
  value: true
{{ end }}
";

const NO_DEBUG: &str = "\
- op: delete
  path: services.web-main.environment.DEBUG
";

const REPLICAS: &str = "\
{{ range $i, $m := .Manifests }}{{ if eq $m.kind \"Deployment\" }}
- op: set
  path: {{ $i }}.spec.replicas
  value: 2
{{ end }}{{ end }}
";

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("score.yaml"), SCORE).unwrap();
    std::fs::create_dir(dir.path().join("patches")).unwrap();
    for (name, text) in [
        ("read-only.tpl", READ_ONLY),
        ("no-debug.tpl", NO_DEBUG),
        ("replicas.tpl", REPLICAS),
        ("broken.tpl", "- op: set\n  path: {{ if }}\n"),
    ] {
        std::fs::write(dir.path().join("patches").join(name), text).unwrap();
    }
    dir
}

#[test]
fn init_stores_compose_patch_templates_and_every_generate_applies_them() {
    let dir = project();
    let d = dir.path();
    let err = run_in(
        d,
        &[
            "init",
            "--no-sample",
            "--patch-templates",
            "patches/read-only.tpl",
            "--patch-templates",
            "patches/no-debug.tpl",
        ],
    );
    ok(&err);
    let stderr = String::from_utf8_lossy(&err.stderr);
    assert!(
        stderr.contains(".score-gen/compose/patch-templates.yaml"),
        "{stderr}"
    );
    let stored = read(d, ".score-gen/compose/patch-templates.yaml");
    assert!(stored.contains("origin: patches/read-only.tpl"), "{stored}");
    assert!(stored.contains("remote: false"), "{stored}");
    // The template is stored as fetched: later edits of the source do not change the project.
    std::fs::write(d.join("patches/read-only.tpl"), "- op: nonsense\n").unwrap();

    ok(&run_in(d, &["compose", "score.yaml", "-o", "compose.yaml"]));
    let first = read(d, "compose.yaml");
    assert!(first.contains("read_only: true"), "{first}");
    assert!(!first.contains("DEBUG"), "{first}");
    // Again: the same bytes.
    ok(&run_in(d, &["compose", "score.yaml", "-o", "compose.yaml"]));
    assert_eq!(read(d, "compose.yaml"), first);

    // -v says which templates applied.
    let out = run_in(d, &["-v", "compose", "score.yaml", "-o", "-"]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(ok(&out), first);
    assert!(
        stderr.contains("applying patch template patches/read-only.tpl"),
        "{stderr}"
    );

    // init without the flag keeps the list; with it, replaces it.
    ok(&run_in(d, &["init", "--no-sample"]));
    assert_eq!(read(d, ".score-gen/compose/patch-templates.yaml"), stored);
    ok(&run_in(
        d,
        &[
            "init",
            "--no-sample",
            "--patch-templates",
            "patches/no-debug.tpl",
        ],
    ));
    ok(&run_in(d, &["compose", "score.yaml", "-o", "compose.yaml"]));
    let now = read(d, "compose.yaml");
    assert!(
        !now.contains("read_only") && !now.contains("DEBUG"),
        "{now}"
    );

    // The k8s target has its own list (none here): its output is unpatched.
    ok(&run_in(d, &["k8s", "score.yaml", "-o", "manifests.yaml"]));
    assert!(!read(d, "manifests.yaml").contains("replicas"));
}

#[test]
fn k8s_patch_templates_apply_to_k8s_and_all() {
    let dir = project();
    let d = dir.path();
    ok(&run_in(
        d,
        &[
            "init",
            "--target",
            "k8s",
            "--no-sample",
            "--patch-templates",
            "patches/replicas.tpl",
        ],
    ));
    ok(&run_in(d, &["k8s", "score.yaml", "-o", "manifests.yaml"]));
    assert!(read(d, "manifests.yaml").contains("replicas: 2"));
    ok(&run_in(d, &["all", "score.yaml", "-o", "out"]));
    assert!(read(d, "out/manifests.yaml").contains("replicas: 2"));
    assert!(!read(d, "out/compose.yaml").contains("read_only"));
}

#[test]
fn init_refuses_bad_templates_and_targets_without_patches() {
    let dir = project();
    let d = dir.path();
    let stderr = fails(&run_in(
        d,
        &[
            "init",
            "--no-sample",
            "--patch-templates",
            "patches/read-only.tpl",
            "--patch-templates",
            "patches/broken.tpl",
        ],
    ));
    assert!(stderr.contains("score::patch::template-syntax"), "{stderr}");
    assert!(stderr.contains("patches/broken.tpl"), "{stderr}");
    assert!(!d.join(".score-gen").exists(), "nothing is written");

    let stderr = fails(&run_in(
        d,
        &["init", "--patch-templates", "patches/missing.tpl"],
    ));
    assert!(stderr.contains("score::fetch::failed"), "{stderr}");

    let stderr = fails(&run_in(
        d,
        &[
            "init",
            "--target",
            "terraform",
            "--patch-templates",
            "patches/no-debug.tpl",
        ],
    ));
    assert!(stderr.contains("no patch templates"), "{stderr}");
}

#[test]
fn a_failing_patch_fails_the_generate_and_writes_nothing() {
    let dir = project();
    let d = dir.path();
    std::fs::write(
        d.join("patches/bad-path.tpl"),
        "- op: set\n  path: services.web-main.environment.*\n  value: x\n",
    )
    .unwrap();
    ok(&run_in(
        d,
        &[
            "init",
            "--no-sample",
            "--patch-templates",
            "patches/bad-path.tpl",
        ],
    ));
    let stderr = fails(&run_in(d, &["compose", "score.yaml", "-o", "compose.yaml"]));
    assert!(stderr.contains("score::patch::apply-failed"), "{stderr}");
    assert!(stderr.contains("operation 1"), "{stderr}");
    assert!(!d.join("compose.yaml").exists());
}
