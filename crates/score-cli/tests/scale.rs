//! Large projects on disk: the write path holds a bounded number of descriptors, so compose and
//! `all` with 2,000 workloads (about 4,000 compose mount files plus the state) succeed under
//! `ulimit -n 256` (macOS's default; Linux's is 1024). Before the fix every temp file stayed open
//! until the batch was renamed, and compose failed at about 100 workloads under 256.
//!
//! Also 10,000 workloads end to end on disk. Both are ignored in the debug test run. CI's release
//! step runs the first (`cargo test --release -p score-cli --test scale -- --ignored`, see
//! .ci/run); the second does not yet meet its 30 s bound there and is run by hand (BENCHMARKS.md).
//! `SCORE_GEN_BIN` names the binary to run, else cargo's.

use std::path::Path;
use std::process::{Command, Output};

/// Writes score-bench's `n` synthetic workloads under `dir` and returns their paths (relative).
fn write_workloads(dir: &Path, n: usize) -> Vec<String> {
    score_bench::workloads(n)
        .into_iter()
        .map(|(name, text)| {
            let path = dir.join(&name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            name
        })
        .collect()
}

/// Runs score-gen in `cwd` with the open-file limit lowered to `nofile` (soft and hard).
fn score_gen_limited(cwd: &Path, nofile: u32, args: &[&str]) -> Output {
    Command::new("sh")
        .current_dir(cwd)
        .arg("-c")
        .arg(format!("ulimit -n {nofile} && exec \"$0\" \"$@\""))
        .arg(score_gen_bin())
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run score-gen")
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "exit {:?}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn count_files(dir: &Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let t = e.file_type().unwrap();
        if t.is_dir() {
            n += count_files(&e.path());
        } else if t.is_file() {
            n += 1;
        }
    }
    n
}

/// Release build only (the debug build spends about 2 minutes here, most of it in fsync):
/// `.ci/write-scale` runs it.
#[test]
#[ignore = "release build only (.ci/write-scale runs it with --release -- --ignored)"]
fn compose_and_all_write_two_thousand_workloads_under_256_open_files() {
    let n = 2_000;
    let dir = tempfile::tempdir().unwrap();
    let files = write_workloads(dir.path(), n);
    let mut args = vec!["compose"];
    args.extend(files.iter().map(String::as_str));
    ok(&score_gen_limited(dir.path(), 256, &args));
    let compose = std::fs::read_to_string(dir.path().join("compose.yaml")).unwrap();
    for i in [0, n / 2, n - 1] {
        let name = score_bench::name(i);
        assert!(
            compose.contains(&format!("\n  {name}-app:\n")),
            "{name} missing from compose.yaml"
        );
    }
    // Each workload's expanded and noExpand files are mounted from files score-gen writes.
    let mounts = count_files(&dir.path().join(".score-gen/mounts"));
    assert!(mounts >= 2 * n, "{mounts} mount files for {n} workloads");

    let mut args = vec!["all", "-o", "out"];
    args.extend(files.iter().map(String::as_str));
    ok(&score_gen_limited(dir.path(), 256, &args));
    let out = dir.path().join("out");
    for f in ["compose.yaml", "manifests.yaml", "terraform/main.tf"] {
        let text = std::fs::read_to_string(out.join(f)).unwrap();
        assert!(
            text.contains(&score_bench::name(n - 1)),
            "{f} lacks the last workload"
        );
    }
    assert!(count_files(&out) >= 2 * n + 3);
    // No temp file is left anywhere.
    let leftovers = find_temp_files(dir.path());
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
}

fn find_temp_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if e.file_type().unwrap().is_dir() {
            out.extend(find_temp_files(&p));
        } else if e
            .file_name()
            .to_string_lossy()
            .starts_with(".score-gen-tmp-")
        {
            out.push(p);
        }
    }
    out
}

/// The score-gen to measure: `SCORE_GEN_BIN` (CI passes the release build of the binary alone,
/// without test-only features), else the one cargo built for this test.
fn score_gen_bin() -> std::path::PathBuf {
    std::env::var_os("SCORE_GEN_BIN")
        .map(Into::into)
        .unwrap_or_else(|| score_testkit::bin!("score-gen").path().to_path_buf())
}

/// The docker compose v2 loader that `.ci/validators` installs, if present.
fn docker_compose_bin() -> Option<std::path::PathBuf> {
    let lib = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv-validators/lib");
    let mut found: Vec<_> = std::fs::read_dir(lib)
        .ok()?
        .flatten()
        .map(|e| e.path().join("site-packages/compose/docker-compose"))
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found.pop()
}

/// 10,000 workloads on disk, end to end, for compose, k8s, terraform and `all`: each run under
/// 30 s (issue 24), and the outputs read back: every document of compose.yaml and
/// manifests.yaml parses, every workload is in each output, and the compose project passes the
/// real docker compose loader (`docker compose config`, when `.ci/validators` installed it;
/// under `CI` it must be there). Release build only: `.ci/write-scale` runs it.
#[test]
#[ignore = "release build only (.ci/write-scale runs it with --release -- --ignored)"]
fn ten_thousand_workloads_end_to_end_on_disk() {
    let n = 10_000;
    let dir = tempfile::tempdir().unwrap();
    let files = write_workloads(dir.path(), n);
    let bin = score_gen_bin();
    for (cmd, out) in [
        ("compose", "compose.yaml"),
        ("k8s", "manifests.yaml"),
        ("terraform", "main.tf"),
        ("all", "out"),
    ] {
        let mut args = vec![cmd];
        if cmd == "all" {
            args.extend(["-o", "out"]);
        }
        args.extend(files.iter().map(String::as_str));
        let start = std::time::Instant::now();
        let run = Command::new(&bin)
            .current_dir(dir.path())
            .args(&args)
            .env("NO_COLOR", "1")
            .output()
            .expect("run score-gen");
        let wall = start.elapsed();
        ok(&run);
        eprintln!("{cmd} N={n}: {:.1} s", wall.as_secs_f64());
        assert!(
            wall.as_secs_f64() < 30.0,
            "{cmd} with {n} workloads took {wall:?}"
        );
        assert!(dir.path().join(out).exists(), "{cmd}: no {out}");
    }

    // The outputs read back.
    let out = dir.path().join("out");
    let compose = std::fs::read_to_string(out.join("compose.yaml")).unwrap();
    let doc: serde_json::Value = serde_saphyr::from_str(&compose).expect("compose.yaml parses");
    let services = doc["services"].as_object().expect("services");
    let manifests = std::fs::read_to_string(out.join("manifests.yaml")).unwrap();
    let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple_with_options(
        &manifests,
        serde_saphyr::options! {
            budget: serde_saphyr::budget! {
                max_nodes: manifests.len(),
                max_events: manifests.len(),
                max_documents: manifests.len(),
            },
        },
    )
    .expect("manifests.yaml parses");
    let terraform = std::fs::read_to_string(out.join("terraform/main.tf")).unwrap();
    for i in (0..n).step_by(997).chain([n - 1]) {
        let name = score_bench::name(i);
        assert!(services.contains_key(&format!("{name}-app")), "{name}");
        assert!(
            docs.iter()
                .any(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == name),
            "{name}: no Deployment"
        );
        assert!(
            terraform.contains(&format!("\"{name}\"")),
            "{name}: not in main.tf"
        );
    }
    // The single-target runs and `all` agree.
    assert_eq!(
        std::fs::read(dir.path().join("compose.yaml")).unwrap(),
        compose.as_bytes()
    );
    assert_eq!(
        std::fs::read(dir.path().join("manifests.yaml")).unwrap(),
        manifests.as_bytes()
    );

    match docker_compose_bin() {
        Some(docker_compose) => {
            let run = Command::new(docker_compose)
                .current_dir(&out)
                .env_remove("DOCKER_HOST")
                .env("COMPOSE_PROJECT_NAME", "score-gen-scale")
                .env("DOCKER_CONFIG", out.join(".docker"))
                .args(["-f", "compose.yaml", "config", "--quiet"])
                .output()
                .expect("run docker compose");
            ok(&run);
        }
        None if std::env::var_os("CI").is_some() => {
            panic!("the docker compose loader is not installed, and CI is set: run `bash .ci/validators`")
        }
        None => eprintln!("SKIP: the docker compose loader is not installed (.ci/validators)"),
    }
}
