//! The generate commands end to end with the real binary, in a temp project directory.

use crate::common;
use common::{ok, run_in};

use std::path::{Path, PathBuf};

fn repo(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

/// A temp project holding the two-workload acceptance example of the compose fixtures.
fn project() -> tempfile::TempDir {
    project_from("testdata/compose/acceptance")
}

/// A temp project holding the Score files of a fixture folder.
fn project_from(case: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let case = repo(case);
    for entry in std::fs::read_dir(&case).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "yaml") {
            std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
        }
    }
    dir
}

fn score_files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let n = e.unwrap().file_name().to_string_lossy().into_owned();
            (n.starts_with("score") && n.ends_with(".yaml")).then_some(n)
        })
        .collect();
    v.sort();
    v
}

#[test]
fn compose_twice_gives_identical_bytes_without_init() {
    let dir = project();
    let files = score_files(dir.path());
    assert!(
        files.len() >= 2,
        "acceptance case has two workloads: {files:?}"
    );
    let mut args = vec!["compose"];
    args.extend(files.iter().map(String::as_str));
    args.extend(["-o", "compose.yaml"]);
    ok(&run_in(dir.path(), &args));
    let first = std::fs::read(dir.path().join("compose.yaml")).unwrap();
    let state1 = std::fs::read(dir.path().join(".score-gen/compose/state.yaml")).unwrap();
    ok(&run_in(dir.path(), &args));
    let second = std::fs::read(dir.path().join("compose.yaml")).unwrap();
    assert_eq!(first, second, "second run changed compose.yaml");
    assert_eq!(
        state1,
        std::fs::read(dir.path().join(".score-gen/compose/state.yaml")).unwrap()
    );
    let text = String::from_utf8(first).unwrap();
    assert!(!text.contains("${resources."), "{text}");
    assert!(!text.contains("${metadata."), "{text}");
    // no temp files left beside the outputs
    for e in std::fs::read_dir(dir.path()).unwrap() {
        let n = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!n.starts_with(".tmp"), "left a temp file: {n}");
    }
}

#[test]
fn k8s_to_stdout_and_terraform_to_a_directory() {
    let dir = project_from("testdata/k8s/acceptance");
    let files = score_files(dir.path());
    let mut args = vec!["k8s"];
    args.extend(files.iter().map(String::as_str));
    args.extend(["-o", "-", "--namespace", "demo"]);
    let stdout = ok(&run_in(dir.path(), &args));
    assert!(stdout.contains("kind: Deployment"), "{stdout}");
    assert!(stdout.contains("namespace: demo"), "{stdout}");
    assert!(!dir.path().join("manifests.yaml").exists());

    std::fs::create_dir(dir.path().join("infra")).unwrap();
    let mut args = vec!["terraform"];
    args.extend(files.iter().map(String::as_str));
    args.extend(["-o", "infra", "--module-source", "postgres=./platform/pg"]);
    ok(&run_in(dir.path(), &args));
    let tf = std::fs::read_to_string(dir.path().join("infra/main.tf")).unwrap();
    assert!(tf.contains("\"./platform/pg\""), "{tf}");
    assert!(tf.contains("resource \"kubernetes_deployment_v1\""), "{tf}");
}

#[test]
fn provisioners_and_resources_listings() {
    let dir = project();
    let table = ok(&run_in(dir.path(), &["provisioners", "list"]));
    assert!(table.contains("postgres"), "{table}");
    let json = ok(&run_in(
        dir.path(),
        &[
            "provisioners",
            "list",
            "--format",
            "json",
            "--target",
            "k8s",
        ],
    ));
    let list: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["type"] == "route"));

    let files = score_files(dir.path());
    let mut args = vec!["compose"];
    args.extend(files.iter().map(String::as_str));
    ok(&run_in(dir.path(), &args));
    let listing = ok(&run_in(
        dir.path(),
        &["resources", "list", "--format", "json"],
    ));
    let resources: serde_json::Value = serde_json::from_str(&listing).unwrap();
    let uid = resources
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["uid"].as_str().unwrap().to_string())
        .find(|u| u.starts_with("postgres."))
        .expect("a postgres resource in the state");
    let outputs = ok(&run_in(dir.path(), &["resources", "get-outputs", &uid]));
    let outputs: serde_json::Value = serde_json::from_str(&outputs).unwrap();
    assert!(outputs.get("host").is_some(), "{outputs}");
    let missing = run_in(dir.path(), &["resources", "get-outputs", "nope.default#x"]);
    assert_eq!(missing.status.code(), Some(1));
}

#[test]
fn init_writes_sample_and_editable_provisioners_that_take_precedence() {
    let dir = tempfile::tempdir().unwrap();
    ok(&run_in(dir.path(), &["init"]));
    assert!(dir.path().join("score.yaml").exists());
    let prov = dir
        .path()
        .join(".score-gen/compose/provisioners/zz-default.provisioners.yaml");
    let text = std::fs::read_to_string(&prov).unwrap();
    assert!(text.contains("type: postgres"));
    // init does not overwrite an existing score.yaml
    std::fs::write(dir.path().join("score.yaml"), "# mine\n").unwrap();
    ok(&run_in(dir.path(), &["init"]));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("score.yaml")).unwrap(),
        "# mine\n"
    );
    // a platform team's edit in the state dir wins over the built-in defaults
    std::fs::write(
        dir.path().join("score.yaml"),
        "apiVersion: score.dev/v1b1\nmetadata: {name: web}\ncontainers:\n  main:\n    image: nginx\n    variables: {DNS: '${resources.dns.host}'}\nresources:\n  dns: {type: dns}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path()
            .join(".score-gen/compose/provisioners/00-team.provisioners.yaml"),
        "- uri: template://team/dns\n  engine: minijinja\n  type: dns\n  outputs: |\n    host: team.example.com\n",
    )
    .unwrap();
    ok(&run_in(dir.path(), &["compose", "score.yaml"]));
    let compose = std::fs::read_to_string(dir.path().join("compose.yaml")).unwrap();
    assert!(compose.contains("DNS: team.example.com"), "{compose}");
}

#[test]
fn file_modes_are_applied_to_mounted_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("score.yaml"),
        "apiVersion: score.dev/v1b1\nmetadata: {name: web}\ncontainers:\n  main:\n    image: nginx\n    files:\n      /etc/secret.conf: {content: 'x', mode: '0600'}\n",
    )
    .unwrap();
    ok(&run_in(dir.path(), &["compose", "score.yaml"]));
    let mounts = dir.path().join(".score-gen/mounts/web/main");
    let file = std::fs::read_dir(&mounts)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", file.display());
    }
}

#[test]
fn overrides_apply_to_one_file_only() {
    let dir = project();
    let files = score_files(dir.path());
    let out = run_in(
        dir.path(),
        &[
            "compose",
            &files[0],
            &files[1],
            "--override-property",
            "metadata.x=1",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("exactly one Score file"));
    ok(&run_in(
        dir.path(),
        &[
            "compose",
            &files[0],
            "--override-property",
            "containers.nope=",
            "-o",
            "one.yaml",
        ],
    ));
}

#[test]
fn env_file_cannot_escape_the_project_unless_allowed() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("proj");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(
        dir.join("score.yaml"),
        "apiVersion: score.dev/v1b1\nmetadata: {name: web}\ncontainers:\n  main:\n    image: nginx\n    variables: {MODE: '${resources.env.MODE}'}\nresources:\n  env: {type: environment}\n",
    )
    .unwrap();
    let out = run_in(
        &dir,
        &["compose", "score.yaml", "--env-file", "../outside.env"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("outside the project directory"));
    assert!(!root.path().join("outside.env").exists());
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(root.path(), dir.join("up")).unwrap();
        let out = run_in(
            &dir,
            &["compose", "score.yaml", "--env-file", "up/outside.env"],
        );
        assert_eq!(out.status.code(), Some(1), "a symlinked parent counts");
    }
    ok(&run_in(
        &dir,
        &["compose", "score.yaml", "--env-file", ".env"],
    ));
    let env = std::fs::read_to_string(dir.join(".env")).unwrap();
    assert!(env.contains("MODE"), "{env}");
    ok(&run_in(
        &dir,
        &[
            "compose",
            "score.yaml",
            "--env-file",
            "../outside.env",
            "--allow-outside-paths",
        ],
    ));
    assert!(root.path().join("outside.env").exists());
}

/// An absolute `--env-file` below the project whose `..` climbs out of it
/// (`$PWD/../fresh/x.env`) is outside the project even when its directory does not exist yet.
/// It used to pass (the climb was counted from `/`, and only an existing parent directory was
/// resolved), and the run created `../fresh/` and wrote the file there.
#[test]
fn an_absolute_env_file_climbing_out_of_the_project_is_refused() {
    let root = tempfile::tempdir().unwrap();
    // As the run's working directory reads it (no symbolic link on the way).
    let root = root.path().canonicalize().unwrap();
    let dir = root.join("proj");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(
        dir.join("score.yaml"),
        "apiVersion: score.dev/v1b1\nmetadata: {name: web}\ncontainers:\n  main:\n    image: nginx\n    variables: {MODE: '${resources.env.MODE}'}\nresources:\n  env: {type: environment}\n",
    )
    .unwrap();
    let env = dir.join("../fresh/x.env");
    let out = run_in(
        &dir,
        &["compose", "score.yaml", "--env-file", env.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("outside the project directory"));
    assert!(!root.join("fresh").exists());
    // Below the project, an absolute path is fine, `..` included.
    std::fs::create_dir(dir.join("sub")).unwrap();
    let inside = dir.join("sub/../.env");
    ok(&run_in(
        &dir,
        &[
            "compose",
            "score.yaml",
            "--env-file",
            inside.to_str().unwrap(),
        ],
    ));
    assert!(dir.join(".env").exists());
}

/// The short flags of score-compose and score-k8s mean the same here: `-i` image, `-p` publish
/// (generate), `-n` namespace, `-o` output, `-f` the file `init` writes.
#[test]
fn short_flags_as_in_score_compose_and_score_k8s() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("score.yaml"),
        "apiVersion: score.dev/v1b1\nmetadata: {name: web}\ncontainers:\n  main: {image: .}\nservice:\n  ports:\n    http: {port: 80}\n",
    )
    .unwrap();
    let compose = ok(&run_in(
        dir.path(),
        &[
            "compose",
            "score.yaml",
            "-i",
            "nginx:1.27",
            "-p",
            "8080:web:80",
            "-o",
            "-",
        ],
    ));
    assert!(compose.contains("image: nginx:1.27"), "{compose}");
    assert!(
        compose.contains("published: '8080'") || compose.contains("published: \"8080\""),
        "{compose}"
    );
    let k8s = ok(&run_in(
        dir.path(),
        &[
            "k8s",
            "score.yaml",
            "-i",
            "nginx:1.27",
            "-n",
            "shop",
            "-o",
            "-",
        ],
    ));
    assert!(k8s.contains("namespace: shop"), "{k8s}");
    ok(&run_in(dir.path(), &["init", "-f", "other.yaml"]));
    assert!(dir.path().join("other.yaml").is_file());
}

/// `--build` takes a context or, as in score-compose, a JSON object for compose's `build`.
#[test]
fn build_takes_a_context_or_a_json_object() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("score.yaml"),
        "apiVersion: score.dev/v1b1\nmetadata: {name: web}\ncontainers:\n  main: {image: .}\n",
    )
    .unwrap();
    let out = ok(&run_in(
        dir.path(),
        &[
            "compose",
            "score.yaml",
            "--build",
            r#"main={"context":"./app","args":{"VERSION":"1.2"}}"#,
            "-o",
            "-",
        ],
    ));
    assert!(out.contains("context: ./app"), "{out}");
    assert!(
        out.contains("VERSION: '1.2'") || out.contains("VERSION: \"1.2\""),
        "{out}"
    );
    let bad = run_in(
        dir.path(),
        &["compose", "score.yaml", "--build", "main={nope", "-o", "-"],
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a JSON object"));
}

/// `provisioners list --format table` works as in score-compose and score-k8s (table is the
/// human listing).
#[test]
fn format_table_is_the_human_listing() {
    let dir = tempfile::tempdir().unwrap();
    let table = ok(&run_in(
        dir.path(),
        &["provisioners", "list", "--format", "table"],
    ));
    let human = ok(&run_in(dir.path(), &["provisioners", "list"]));
    assert_eq!(table, human);
    assert!(table.contains("postgres"), "{table}");
}
