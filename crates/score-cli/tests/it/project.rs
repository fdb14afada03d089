//! The additive project (spec/state.md, "The project"): every workload a run is given stays in
//! the target's state until a run removes it, a run without files regenerates them all, and the
//! outputs always cover every workload, byte for byte the same as one run given all the files.

use crate::common;

use std::path::Path;
use std::process::Output;

use common::{score_gen, stderr};

const A: &str = "\
apiVersion: score.dev/v1b1
metadata:
  name: workload-a
containers:
  main:
    image: nginx:1.27
    files:
      /etc/greeting.txt:
        source: greeting.txt
service:
  ports:
    web:
      port: 8080
      targetPort: 80
resources:
  db:
    type: postgres
";

// Refers to workload-a, which a separate earlier run added.
const B: &str = "\
apiVersion: score.dev/v1b1
metadata:
  name: workload-b
containers:
  main:
    image: busybox:1.36
    variables:
      A_URL: http://${resources.peer.hostname}:${resources.peer.port}
resources:
  peer:
    type: service-port
    params:
      workload: workload-a
      port: web
";

const C: &str = "\
apiVersion: score.dev/v1b1
metadata:
  name: workload-c
containers:
  main:
    image: busybox:1.36
";

/// A project directory: A (with its file source in `svc/`), B and C.
fn project() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("svc")).unwrap();
    std::fs::write(d.path().join("svc/a.yaml"), A).unwrap();
    std::fs::write(d.path().join("svc/greeting.txt"), "hello from svc\n").unwrap();
    std::fs::write(d.path().join("b.yaml"), B).unwrap();
    std::fs::write(d.path().join("c.yaml"), C).unwrap();
    d
}

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "exit {:?}\n{}",
        o.status.code(),
        stderr(o)
    );
}

fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn state(dir: &Path, target: &str) -> String {
    read(dir, &format!(".score-gen/{target}/state.yaml"))
}

#[test]
fn two_runs_add_up_and_a_bare_run_regenerates_the_same_bytes() {
    let d = project();
    let p = d.path();
    ok(&score_gen(p, &["compose", "svc/a.yaml"]));
    // B refers to workload-a, which only the state knows now.
    ok(&score_gen(p, &["compose", "b.yaml"]));
    let both = read(p, "compose.yaml");
    assert!(both.contains("workload-a-main:"), "{both}");
    assert!(both.contains("workload-b-main:"), "{both}");
    assert!(both.contains("A_URL: http://workload-a:80"), "{both}");
    // The file source of A is read from A's directory, whatever the run was given.
    let mount = read(p, ".score-gen/mounts/workload-a/main/etc%2Fgreeting.txt");
    assert_eq!(mount, "hello from svc\n");

    ok(&score_gen(p, &["compose"]));
    assert_eq!(read(p, "compose.yaml"), both, "a bare run regenerates");
    ok(&score_gen(p, &["compose", "b.yaml", "svc/a.yaml"]));
    assert_eq!(
        read(p, "compose.yaml"),
        both,
        "one run with every file gives the same bytes as the runs that added them"
    );

    // The stored document serves when the Score file is gone.
    std::fs::remove_file(p.join("svc/a.yaml")).unwrap();
    ok(&score_gen(p, &["compose"]));
    assert_eq!(read(p, "compose.yaml"), both);
    let st = state(p, "compose");
    assert!(st.starts_with("{\n  \"version\": 3,\n"), "{st}");
    assert!(st.contains("\"file\": \"svc/a.yaml\""), "{st}");
    assert!(st.contains("\"dir\": \"svc\""), "{st}");
}

#[test]
fn a_run_with_a_file_replaces_that_workload_only() {
    let d = project();
    let p = d.path();
    ok(&score_gen(p, &["compose", "svc/a.yaml", "c.yaml"]));
    std::fs::write(p.join("c.yaml"), C.replace("busybox:1.36", "busybox:1.37")).unwrap();
    // Editing a file changes nothing until the file is given again (as score-compose).
    ok(&score_gen(p, &["compose"]));
    assert!(read(p, "compose.yaml").contains("busybox:1.36"));
    ok(&score_gen(p, &["compose", "c.yaml"]));
    let out = read(p, "compose.yaml");
    assert!(out.contains("busybox:1.37"), "{out}");
    assert!(out.contains("workload-a-main:"), "{out}");
}

#[test]
fn overrides_and_image_are_kept_with_the_workload() {
    let d = project();
    let p = d.path();
    ok(&score_gen(
        p,
        &[
            "compose",
            "c.yaml",
            "--override-property",
            "containers.main.variables.MODE=blue",
        ],
    ));
    ok(&score_gen(p, &["compose", "svc/a.yaml"]));
    let out = read(p, "compose.yaml");
    assert!(out.contains("MODE: blue"), "{out}");
    // Overrides need the one file they apply to.
    let o = score_gen(p, &["compose", "--override-property", "a.b=c"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("apply to exactly one Score file"));
}

#[test]
fn remove_drops_a_workload_and_keeps_its_resources() {
    let d = project();
    let p = d.path();
    ok(&score_gen(p, &["compose", "svc/a.yaml", "c.yaml"]));
    ok(&score_gen(p, &["compose", "--remove", "workload-c"]));
    let out = read(p, "compose.yaml");
    assert!(!out.contains("workload-c"), "{out}");
    assert!(out.contains("workload-a-main:"), "{out}");
    assert!(!state(p, "compose").contains("workload-c"));

    let o = score_gen(p, &["compose", "--remove", "workload-x"]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("there is no workload 'workload-x' in the compose project"),
        "{e}"
    );
    assert!(e.contains("the project's workloads: workload-a"), "{e}");

    let o = score_gen(p, &["compose", "c.yaml", "--remove", "workload-c"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("also given as a Score file"));

    // Removing the last workload writes an empty project; the resources stay in the state.
    ok(&score_gen(p, &["compose", "--remove", "workload-a"]));
    assert!(read(p, "compose.yaml").contains("services: {}"));
    assert!(state(p, "compose").contains("postgres.default#workload-a.db"));
    // Nothing left to regenerate.
    let o = score_gen(p, &["compose"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no workloads in the compose project"));
}

#[test]
fn a_removed_workload_that_another_needs_is_an_error_and_nothing_changes() {
    let d = project();
    let p = d.path();
    ok(&score_gen(p, &["compose", "svc/a.yaml", "b.yaml"]));
    let before = (read(p, "compose.yaml"), state(p, "compose"));
    let o = score_gen(p, &["compose", "--remove", "workload-a"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("unknown workload 'workload-a'"),
        "{}",
        stderr(&o)
    );
    assert_eq!((read(p, "compose.yaml"), state(p, "compose")), before);
}

#[test]
fn each_target_has_its_own_project() {
    let d = project();
    let p = d.path();
    ok(&score_gen(p, &["compose", "svc/a.yaml"]));
    ok(&score_gen(p, &["k8s", "c.yaml"]));
    let k8s = read(p, "manifests.yaml");
    assert!(k8s.contains("name: workload-c"), "{k8s}");
    assert!(!k8s.contains("workload-a"), "{k8s}");
    ok(&score_gen(p, &["compose", "c.yaml"]));
    let compose = read(p, "compose.yaml");
    assert!(compose.contains("workload-a-main:") && compose.contains("workload-c-main:"));
}

#[test]
fn all_adds_to_each_targets_project() {
    let d = project();
    let p = d.path();
    ok(&score_gen(p, &["all", "svc/a.yaml", "-o", "out"]));
    ok(&score_gen(p, &["all", "b.yaml", "-o", "out"]));
    for (file, needle) in [
        ("out/compose.yaml", "workload-b-main:"),
        ("out/manifests.yaml", "name: workload-b"),
        ("out/terraform/main.tf", "workload-b"),
    ] {
        let text = read(p, file);
        assert!(text.contains(needle), "{file}: {text}");
        assert!(text.contains("workload-a"), "{file}: {text}");
    }
    let first = read(p, "out/manifests.yaml");
    ok(&score_gen(p, &["all", "-o", "out"]));
    assert_eq!(read(p, "out/manifests.yaml"), first);
    ok(&score_gen(
        p,
        &["all", "--remove", "workload-b", "-o", "out"],
    ));
    for file in [
        "out/compose.yaml",
        "out/manifests.yaml",
        "out/terraform/main.tf",
    ] {
        let text = read(p, file);
        assert!(!text.contains("workload-b"), "{file}: {text}");
        assert!(text.contains("workload-a"), "{file}: {text}");
    }
}

#[test]
fn a_version_1_state_is_migrated() {
    let d = project();
    let p = d.path();
    std::fs::create_dir_all(p.join(".score-gen/compose")).unwrap();
    std::fs::write(
        p.join(".score-gen/compose/state.yaml"),
        "version: 1\nseed: 0123456789abcdef0123456789abcdef\nworkloads:\n  workload-a:\n    file: svc/a.yaml\n",
    )
    .unwrap();
    // workload-a is read again from its file, once, then stored.
    ok(&score_gen(p, &["compose", "b.yaml"]));
    let out = read(p, "compose.yaml");
    assert!(out.contains("workload-a-main:") && out.contains("workload-b-main:"));
    let st = state(p, "compose");
    assert!(st.starts_with("{\n  \"version\": 3,\n"), "{st}");
    assert!(st.contains("\"spec\": {"), "{st}");
    std::fs::remove_file(p.join("svc/a.yaml")).unwrap();
    ok(&score_gen(p, &["compose"]));
    assert_eq!(read(p, "compose.yaml"), out);
}

#[test]
fn a_version_1_workload_whose_file_is_gone_says_what_to_do() {
    let d = project();
    let p = d.path();
    std::fs::create_dir_all(p.join(".score-gen/compose")).unwrap();
    std::fs::write(
        p.join(".score-gen/compose/state.yaml"),
        "version: 1\nseed: 0123456789abcdef0123456789abcdef\nworkloads:\n  old:\n    file: gone.yaml\n",
    )
    .unwrap();
    let o = score_gen(p, &["compose", "c.yaml"]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("gone.yaml"), "{e}");
    assert!(e.contains("--remove old"), "{e}");
    ok(&score_gen(p, &["compose", "c.yaml", "--remove", "old"]));
}

const D: &str = "\
apiVersion: score.dev/v1b1
metadata:
  name: workload-d
containers:
  main:
    image: .
";

#[test]
fn a_workloads_build_is_kept_with_it_and_applies_to_it_only() {
    let d = project();
    let p = d.path();
    std::fs::write(p.join("d.yaml"), D).unwrap();
    ok(&score_gen(p, &["compose", "d.yaml", "--build", "main=./d"]));
    // workload-c has a container `main` too: d's build is not c's.
    ok(&score_gen(p, &["compose", "c.yaml"]));
    let out = read(p, "compose.yaml");
    assert!(out.contains("build:\n      context: ./d"), "{out}");
    assert!(out.contains("image: busybox:1.36"), "{out}");
    assert_eq!(out.matches("build:").count(), 1, "{out}");
    ok(&score_gen(p, &["compose"]));
    assert_eq!(read(p, "compose.yaml"), out);
    assert!(state(p, "compose")
        .contains("\"extras\": {\n        \"builds\": {\n          \"main\": \"./d\""));

    // Given again without --build, the workload has no build (as score-compose).
    let o = score_gen(p, &["compose", "d.yaml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("image is '.'"), "{}", stderr(&o));

    let o = score_gen(p, &["compose", "d.yaml", "c.yaml", "--build", "main=./d"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--build applies to exactly one Score file"));
    let o = score_gen(p, &["compose", "d.yaml", "--build", "web=./d"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("workload 'workload-d' has no container 'web'"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn publish_a_resource_output_as_score_compose_does() {
    let d = project();
    let p = d.path();
    ok(&score_gen(p, &["compose", "svc/a.yaml"]));
    // Class left out means `default`, as in score-compose.
    ok(&score_gen(
        p,
        &[
            "compose",
            "-p",
            "15432:postgres#workload-a.db.host:5432",
            "-p",
            "8080:workload-a:80",
        ],
    ));
    let out = read(p, "compose.yaml");
    let v: serde_json::Value = serde_saphyr::from_str(&out).unwrap();
    assert_eq!(
        v["services"]["postgres-instance"]["ports"],
        serde_json::json!([{"target": 5432, "published": "15432"}]),
        "{out}"
    );
    assert_eq!(
        v["services"]["workload-a-main"]["ports"],
        serde_json::json!([{"target": 80, "published": "8080"}]),
        "{out}"
    );
    let o = score_gen(p, &["compose", "-p", "1:postgres#workload-a.db.nope:2"]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("resource 'postgres.default#workload-a.db' has no") && e.contains("'nope'"),
        "{e}"
    );
    assert!(e.contains("its outputs: database, host"), "{e}");
}

#[test]
fn the_state_cannot_widen_what_a_run_reads() {
    let root = tempfile::tempdir().unwrap();
    let p = &root.path().join("project");
    let outside = root.path().join("elsewhere");
    std::fs::create_dir_all(p.join("svc")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("a.yaml"), A).unwrap();
    std::fs::write(outside.join("greeting.txt"), "outside\n").unwrap();
    std::fs::write(p.join("c.yaml"), C).unwrap();

    // Given explicitly, a Score file outside the project reads its sources beside it ...
    ok(&score_gen(p, &["compose", "../elsewhere/a.yaml"]));
    // ... but a later run that only finds it in the state does not, unless told.
    let o = score_gen(p, &["compose", "c.yaml"]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("reads its files[].source") && e.contains("from ../elsewhere"),
        "{e}"
    );
    assert!(e.contains("--allow-outside-paths"), "{e}");
    ok(&score_gen(
        p,
        &["compose", "c.yaml", "--allow-outside-paths"],
    ));
    ok(&score_gen(p, &["compose", "../elsewhere/a.yaml", "c.yaml"]));

    // A version 1 state names a file outside the project: not read.
    std::fs::write(
        p.join(".score-gen/compose/state.yaml"),
        "version: 1\nseed: 0123456789abcdef0123456789abcdef\nworkloads:\n  planted:\n    file: ../elsewhere/a.yaml\n",
    )
    .unwrap();
    let o = score_gen(p, &["compose", "c.yaml"]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("'planted'") && e.contains("reads its Score file"),
        "{e}"
    );
}
