//! Large projects on disk: the write path holds a bounded number of descriptors, so compose and
//! `all` with 2,000 workloads (about 4,000 compose mount files plus the state) succeed under
//! `ulimit -n 256` (macOS's default; Linux's is 1024). Before the fix every temp file stayed open
//! until the batch was renamed, and compose failed at about 100 workloads under 256.
//!
//! Also 10,000 workloads end to end on disk, for every target and `all`, with the outputs
//! checked by the real loaders. Both are ignored in the debug test run; CI's release step runs
//! the first (`cargo test --release -p score-cli --test scale -- --ignored`, see .ci/run) and
//! runs the second as its last step, from the same build (BENCHMARKS.md).
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
    let lib = workspace().join(".venv-validators/lib");
    let mut found: Vec<_> = std::fs::read_dir(lib)
        .ok()?
        .flatten()
        .map(|e| e.path().join("site-packages/compose/docker-compose"))
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found.pop()
}

fn workspace() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A validator that is not installed: a failure under `CI` (which installs them), else a note.
fn tool_missing(what: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{what} is not installed, and CI is set: run `bash .ci/validators`");
    }
    eprintln!("SKIP: {what} is not installed (.ci/validators)");
}

/// What one run cost, from the child's own resource usage (`wait4`).
struct Cost {
    wall: f64,
    user: f64,
    sys: f64,
    /// Peak resident set, bytes.
    rss: u64,
}

/// Runs `bin args` in `cwd` to completion and measures it (the child's `rusage`, not the
/// test's); stderr is returned.
fn run_measured(bin: &Path, cwd: &Path, args: &[&str]) -> (Cost, i32, String) {
    use std::os::unix::process::ExitStatusExt;
    let err_file = tempfile::tempfile().unwrap();
    let start = std::time::Instant::now();
    let child = Command::new(bin)
        .current_dir(cwd)
        .args(args)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::null())
        .stderr(err_file.try_clone().unwrap())
        .spawn()
        .expect("run score-gen");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value of the plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, writing into the two locals above.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed().as_secs_f64();
    assert_eq!(reaped, pid, "wait4: {}", std::io::Error::last_os_error());
    // The child is reaped: its handle must not wait again.
    std::mem::forget(child);
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let cost = Cost {
        wall,
        user: secs(usage.ru_utime),
        sys: secs(usage.ru_stime),
        rss: usage.ru_maxrss as u64 * 1024,
    };
    let status = std::process::ExitStatus::from_raw(status);
    let mut stderr = String::new();
    use std::io::{Read, Seek};
    let mut f = err_file;
    f.rewind().unwrap();
    f.read_to_string(&mut stderr).unwrap();
    (cost, status.code().unwrap_or(-1), stderr)
}

/// Bytes of every regular file under `path` (or of the file).
fn bytes_under(path: &Path) -> u64 {
    let meta = std::fs::symlink_metadata(path).unwrap();
    if meta.is_file() {
        return meta.len();
    }
    if !meta.is_dir() {
        return 0;
    }
    std::fs::read_dir(path)
        .unwrap()
        .flatten()
        .map(|e| bytes_under(&e.path()))
        .sum()
}

/// A line for the log: libtest captures `eprintln!` of a passing test, not a direct write.
fn log(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// 10,000 workloads on disk, end to end, for compose, k8s, terraform and `all`: each run
/// completes under the default 2 GiB `--max-memory`, the outputs hold every sampled workload,
/// `all` writes what the single-target commands write, and a sample of the outputs passes the
/// real loaders: `docker compose config` (the whole compose project), `kubernetes-validate
/// --strict` (every object of the sampled workloads) and `terraform fmt -check` (the whole
/// configuration). The loaders are those `.ci/validators` installs; under `CI` they must be
/// there. Each run's wall time, CPU time, peak RSS (the child's `rusage`) and bytes in and out
/// are printed for the log: speed and memory are measured in BENCHMARKS.md, not asserted here.
/// `SCORE_SCALE_N` sets another N.
/// Release build only; `.ci/run` runs it last, from the release step's build (BENCHMARKS.md).
#[test]
#[ignore = "release build only, by hand (cargo test --release --test scale -- --ignored)"]
fn ten_thousand_workloads_end_to_end_on_disk() {
    // `SCORE_SCALE_N` runs the same checks at another size (a quick check of the test itself).
    let n = std::env::var("SCORE_SCALE_N")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let files = write_workloads(d, n);
    let bytes_in: u64 = files.iter().map(|f| bytes_under(&d.join(f))).sum();
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
        let (cost, code, stderr) = run_measured(&bin, d, &args);
        assert_eq!(code, 0, "{cmd} with {n} workloads failed:\n{stderr}");
        assert!(d.join(out).exists(), "{cmd}: no {out}");
        let mut outputs = bytes_under(&d.join(out));
        let beside: &[&str] = match cmd {
            "compose" => &[".score-gen/mounts"],
            "terraform" => &["variables.tf", "outputs.tf", "modules"],
            _ => &[],
        };
        outputs += (beside.iter().map(|f| d.join(f)))
            .filter(|p| p.exists())
            .map(|p| bytes_under(&p))
            .sum::<u64>();
        let states: u64 = ["compose", "k8s", "terraform"]
            .iter()
            .filter(|t| cmd == "all" || cmd == **t)
            .map(|t| bytes_under(&d.join(".score-gen").join(t).join("state.yaml")))
            .sum();
        let mb = |b: u64| b as f64 / 1e6;
        log(&format!(
            "scale: {cmd} N={n}: wall {:.1} s, user {:.1} s, sys {:.1} s, peak RSS {:.0} MB; \
             in {:.1} MB, out {:.1} MB + state {:.1} MB; RSS / (in + out) = {:.1}",
            cost.wall,
            cost.user,
            cost.sys,
            mb(cost.rss),
            mb(bytes_in),
            mb(outputs),
            mb(states),
            cost.rss as f64 / (bytes_in + outputs + states) as f64,
        ));
    }

    // The outputs read back.
    let out = d.join("out");
    let compose = std::fs::read_to_string(out.join("compose.yaml")).unwrap();
    let doc: serde_json::Value = serde_saphyr::from_str_with_options(
        &compose,
        serde_saphyr::options! {
            budget: serde_saphyr::budget! {
                max_nodes: compose.len(),
                max_events: compose.len(),
                max_total_scalar_bytes: compose.len(),
                max_reader_input_bytes: Some(compose.len() + 1),
            },
        },
    )
    .expect("compose.yaml parses");
    let services = doc["services"].as_object().expect("services");
    let manifests = std::fs::read_to_string(out.join("manifests.yaml")).unwrap();
    let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple_with_options(
        &manifests,
        serde_saphyr::options! {
            budget: serde_saphyr::budget! {
                max_nodes: manifests.len(),
                max_events: manifests.len(),
                max_documents: manifests.len(),
                max_total_scalar_bytes: manifests.len(),
                max_reader_input_bytes: Some(manifests.len() + 1),
            },
        },
    )
    .expect("manifests.yaml parses");
    let terraform = std::fs::read_to_string(out.join("terraform/main.tf")).unwrap();
    let sample: Vec<String> = (0..n)
        .step_by(997)
        .chain([n - 1])
        .map(score_bench::name)
        .collect();
    for name in &sample {
        assert!(services.contains_key(&format!("{name}-app")), "{name}");
        assert!(
            docs.iter()
                .any(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == name.as_str()),
            "{name}: no Deployment"
        );
        assert!(
            terraform.contains(&format!("\"{name}\"")),
            "{name}: not in main.tf"
        );
    }
    // The single-target runs and `all` agree.
    assert!(std::fs::read(d.join("compose.yaml")).unwrap() == compose.as_bytes());
    assert!(std::fs::read(d.join("manifests.yaml")).unwrap() == manifests.as_bytes());
    assert!(std::fs::read(d.join("main.tf")).unwrap() == terraform.as_bytes());

    // The real loaders.
    let loaders = std::time::Instant::now();
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
        None => tool_missing("the docker compose loader"),
    }
    // Every object of the sampled workloads (their name is their objects' name or its prefix).
    let sampled: Vec<&serde_json::Value> = docs
        .iter()
        .filter(|d| {
            let name = d["metadata"]["name"].as_str().unwrap_or_default();
            sample.iter().any(|s| name.starts_with(s.as_str()))
        })
        .collect();
    assert!(sampled.len() >= sample.len(), "{} objects", sampled.len());
    let kubernetes_validate = workspace().join(".venv-validators/bin/kubernetes-validate");
    if kubernetes_validate.exists() {
        let file = d.join("sample.yaml");
        let text: String = sampled
            .iter()
            .map(|o| format!("---\n{}\n", serde_json::to_string(o).unwrap()))
            .collect();
        std::fs::write(&file, text).unwrap();
        let run = Command::new(kubernetes_validate)
            .args(["--strict", "-k", "1.32.0"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "kubernetes-validate:\n{}{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        );
    } else {
        tool_missing("kubernetes-validate");
    }
    let tf = workspace().join(".venv-validators/bin/terraform");
    if tf.exists() {
        let run = Command::new(tf)
            .env("TF_CLI_CONFIG_FILE", "/dev/null")
            .env("CHECKPOINT_DISABLE", "1")
            .args(["fmt", "-check", "-recursive"])
            .arg(out.join("terraform"))
            .output()
            .unwrap();
        ok(&run);
    } else {
        tool_missing("terraform (.venv-validators/bin/terraform)");
    }
    log(&format!(
        "scale: the loaders took {:.1} s",
        loaders.elapsed().as_secs_f64()
    ));
}
