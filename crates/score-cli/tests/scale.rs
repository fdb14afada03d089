//! Large projects on disk: the write path holds a bounded number of descriptors, so compose and
//! `all` with 2,000 workloads (about 4,000 compose mount files plus the state) succeed under
//! `ulimit -n 256` (macOS's default; Linux's is 1024). Before the fix every temp file stayed open
//! until the batch was renamed, and compose failed at about 100 workloads under 256.

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
        .arg(env!("CARGO_BIN_EXE_score-gen"))
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

#[test]
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
