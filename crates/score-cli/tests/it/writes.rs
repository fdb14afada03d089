//! The write path end to end (spec/reliability.md §5): an unchanged regenerate writes nothing
//! (every file keeps its inode and mtime, the state included), and an output write that fails
//! after the state was saved says so, and the next run completes the outputs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::SystemTime;

use crate::common;
use common::{fails, ok, run_in};

const SCORE: &str = "\
apiVersion: score.dev/v1b1
metadata:
  name: app
containers:
  main:
    image: nginx
    files:
      - target: /etc/app/big.txt
        source: ./big.txt
        noExpand: true
      - target: /etc/app/conf
        content: \"db=${resources.db.host}\"
resources:
  db:
    type: postgres
";

/// Every regular file under `dir`: its inode, mtime and bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u64, SystemTime, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, (u64, SystemTime, Vec<u8>)>) {
        use std::os::unix::fs::MetadataExt;
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            if m.is_dir() {
                walk(root, &p, out);
            } else if m.is_file() {
                let rel = p.strip_prefix(root).unwrap().to_path_buf();
                out.insert(
                    rel,
                    (m.ino(), m.modified().unwrap(), std::fs::read(&p).unwrap()),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn project() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("score.yaml"), SCORE).unwrap();
    std::fs::write(tmp.path().join("big.txt"), "small\n").unwrap();
    tmp
}

#[test]
fn an_unchanged_regenerate_writes_nothing() {
    for args in [
        &["compose", "score.yaml"][..],
        &["k8s", "score.yaml"][..],
        &["all", "score.yaml", "-o", "out"][..],
    ] {
        let tmp = project();
        let dir = tmp.path();
        ok(&run_in(dir, args));
        let before = snapshot(dir);
        assert!(
            before.keys().any(|p| p.ends_with("state.yaml")),
            "{args:?}: no state written: {:?}",
            before.keys()
        );
        // Long enough for any file system's timestamps to tell a rewrite.
        std::thread::sleep(std::time::Duration::from_millis(50));
        ok(&run_in(dir, args));
        let after = snapshot(dir);
        assert_eq!(
            before.keys().collect::<Vec<_>>(),
            after.keys().collect::<Vec<_>>(),
            "{args:?}"
        );
        for (path, (ino, mtime, bytes)) in &before {
            let (ino2, mtime2, bytes2) = &after[path];
            assert_eq!(bytes, bytes2, "{args:?}: {} changed", path.display());
            assert_eq!(
                (ino, mtime),
                (ino2, mtime2),
                "{args:?}: {} was rewritten with the same bytes",
                path.display()
            );
        }

        // A changed input rewrites what depends on it, and only that.
        std::fs::write(dir.join("big.txt"), "changed\n").unwrap();
        ok(&run_in(dir, args));
        let changed = snapshot(dir);
        let rewritten: Vec<_> = changed
            .iter()
            .filter(|(p, (ino, mtime, _))| {
                *p != Path::new("big.txt")
                    && after.get(*p).is_none_or(|(i, m, _)| (i, m) != (ino, mtime))
            })
            .map(|(p, _)| p.clone())
            .collect();
        if args[0] == "compose" {
            assert_eq!(
                rewritten,
                [PathBuf::from(
                    ".score-gen/mounts/app/main/etc%2Fapp%2Fbig.txt"
                )],
                "{args:?}"
            );
        } else {
            assert!(
                !rewritten.is_empty(),
                "{args:?}: the change was not written"
            );
            assert!(
                !rewritten.iter().any(|p| p.ends_with("state.yaml")),
                "{args:?}: the state does not hold file contents, yet was rewritten: {rewritten:?}"
            );
        }
    }
}

/// An add-one run over a project (its other workloads from the state, its unchanged outputs
/// read back) writes the same outputs and the same state as one run given every
/// file in a fresh project with the same seed.
#[test]
fn adding_one_workload_gives_what_one_run_with_every_file_gives() {
    const OTHER: &str = "\
apiVersion: score.dev/v1b1
metadata:
  name: other
containers:
  main:
    image: busybox
    files:
      - target: /etc/other.txt
        content: \"db=${resources.db.host} ${resources.db.password}\"
resources:
  db:
    type: postgres
    id: shared-db
";
    // The compose project's name comes from the directory's: both are called `p`.
    let in_p = |tmp: &tempfile::TempDir| {
        let p = tmp.path().join("p");
        std::fs::create_dir(&p).unwrap();
        for f in ["score.yaml", "big.txt"] {
            std::fs::rename(tmp.path().join(f), p.join(f)).unwrap();
        }
        p
    };
    let incremental = project();
    let a = &in_p(&incremental);
    std::fs::write(a.join("other.yaml"), OTHER).unwrap();
    ok(&run_in(a, &["compose", "score.yaml"]));
    ok(&run_in(a, &["compose", "other.yaml"]));
    let scratch = project();
    let b = &in_p(&scratch);
    std::fs::write(b.join("other.yaml"), OTHER).unwrap();
    // The same seed, so generated values agree.
    let state = std::fs::read_to_string(a.join(".score-gen/compose/state.yaml")).unwrap();
    let seed = state
        .lines()
        .find(|l| l.trim_start().starts_with("\"seed\""))
        .expect("a seed")
        .to_string();
    std::fs::create_dir_all(b.join(".score-gen/compose")).unwrap();
    std::fs::write(
        b.join(".score-gen/compose/state.yaml"),
        format!(
            "{{\n  \"version\": 3,\n{}\n  \"workloads\": {{}},\n  \"resources\": {{}}\n}}\n",
            seed.trim_end_matches(',').to_owned() + ","
        ),
    )
    .unwrap();
    ok(&run_in(b, &["compose", "score.yaml", "other.yaml"]));
    let outputs = |dir: &Path| {
        snapshot(dir)
            .into_iter()
            .map(|(p, (_, _, bytes))| (p, String::from_utf8_lossy(&bytes).into_owned()))
            .collect::<BTreeMap<_, _>>()
    };
    let (one, two) = (outputs(a), outputs(b));
    assert_eq!(
        one.keys().collect::<Vec<_>>(),
        two.keys().collect::<Vec<_>>()
    );
    for (path, text) in &one {
        assert_eq!(text, &two[path], "{}", path.display());
    }
    assert!(one[Path::new("compose.yaml")].contains("other-main"));
}

/// Runs score-gen with writes over about 64 KiB failing (`ulimit -f`, SIGXFSZ ignored, so the
/// write returns EFBIG instead of killing the process).
fn run_with_small_file_limit(dir: &Path, args: &[&str]) -> Output {
    Command::new("sh")
        .current_dir(dir)
        .arg("-c")
        .arg("trap '' XFSZ && ulimit -f 128 && exec \"$0\" \"$@\"")
        .arg(common::exe("score-gen").path())
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run score-gen")
}

/// compose writes its outputs after saving the state: an output that cannot be written then
/// says the state was saved, and the next run completes the outputs. `all` writes each target's
/// outputs to temp files as it finishes, before any state is saved (so it holds one target's
/// outputs at a time): the same failure there comes before the states, and changes nothing.
#[test]
fn an_output_that_fails_after_the_state_was_saved_says_so_and_the_next_run_completes_it() {
    for args in [
        &["compose", "score.yaml"][..],
        &["all", "score.yaml", "-o", "out"][..],
    ] {
        let all = args[0] == "all";
        let tmp = project();
        let dir = tmp.path();
        ok(&run_in(dir, args));
        let before = snapshot(dir);
        let (state, primary) = if all {
            (".score-gen/compose/state.yaml", "out/compose.yaml")
        } else {
            (".score-gen/compose/state.yaml", "compose.yaml")
        };
        let state_before = common::read(dir, state);

        // The mounted file grows past the file-size limit; the state (which holds the Score
        // file's spec, not the file's bytes) and compose.yaml stay small.
        let big = "x".repeat(1 << 20);
        std::fs::write(dir.join("big.txt"), &big).unwrap();
        // A second workload changes the state, so the saved state can be told from the old one.
        std::fs::write(
            dir.join("two.yaml"),
            "apiVersion: score.dev/v1b1\nmetadata:\n  name: two\ncontainers:\n  main:\n    image: busybox\n",
        )
        .unwrap();
        let mut with_two = args.to_vec();
        with_two.insert(2, "two.yaml");
        let err = fails(&run_with_small_file_limit(dir, &with_two));
        // One line, without the report's frame.
        let err: String = err
            .split_whitespace()
            .filter(|w| *w != "│")
            .collect::<Vec<_>>()
            .join(" ");
        assert!(err.contains("etc%2Fapp%2Fbig.txt"), "{args:?}: {err}");
        let state_after = common::read(dir, state);
        if all {
            // Nothing changed: the states and the outputs are the previous run's, and no temp
            // file is left.
            assert!(!err.contains("the new state was saved"), "{args:?}: {err}");
            assert_eq!(
                snapshot(dir).len(),
                before.len() + 1,
                "{args:?}: two.yaml only"
            );
            for t in ["compose", "k8s", "terraform"] {
                let path = format!(".score-gen/{t}/state.yaml");
                assert_eq!(
                    before[Path::new(&path)].2,
                    common::read(dir, &path).into_bytes()
                );
            }
        } else {
            assert!(
                err.contains("the new state was saved but the outputs were not all written"),
                "{args:?}: {err}"
            );
            assert!(
                err.contains("run the same command again"),
                "{args:?}: {err}"
            );
            // The state is the new one.
            assert_ne!(state_before, state_after, "{args:?}");
            assert!(state_after.contains("two"), "{args:?}: {state_after}");
        }
        // The outputs are the previous run's, byte for byte.
        assert_eq!(
            before[Path::new(primary)].2,
            std::fs::read(dir.join(primary)).unwrap(),
            "{args:?}"
        );

        // The next run (no limit) completes the outputs (from the saved state: compose).
        ok(&run_in(dir, &with_two));
        if !all {
            assert_eq!(
                common::read(dir, state),
                state_after,
                "{args:?}: the saved state was not reused as is"
            );
        }
        let mount = Path::new(primary)
            .parent()
            .unwrap()
            .join(".score-gen/mounts/app/main/etc%2Fapp%2Fbig.txt");
        assert_eq!(common::read(dir, mount.to_str().unwrap()), big, "{args:?}");
        assert!(common::read(dir, primary).contains("two-main"), "{args:?}");
    }
}

/// Concurrent `all` runs on one project all succeed: the three state directories are locked in
/// one order, so no run holds one lock while waiting for another's (issue 21: each target's
/// thread took its own lock in no fixed order, and runs failed after the 10 s wait).
#[test]
fn concurrent_all_runs_do_not_deadlock() {
    let tmp = project();
    let dir = tmp.path();
    let children: Vec<_> = (0..6)
        .map(|_| {
            common::exe("score-gen")
                .command()
                .args(["all", "score.yaml", "-o", "out"])
                .current_dir(dir)
                .env("NO_COLOR", "1")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("run score-gen")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        ok(&out);
    }
    for f in ["compose.yaml", "manifests.yaml", "terraform/main.tf"] {
        assert!(
            common::read(dir, &format!("out/{f}")).contains("app"),
            "{f}"
        );
    }
}

/// Runs a command that must be refused because an output is one of the run's inputs, and
/// checks that the named file kept its bytes.
fn refused_as_input(dir: &Path, args: &[&str], kept: &str) {
    let before = std::fs::read(dir.join(kept)).ok();
    let err = fails(&run_in(dir, args));
    assert!(err.contains("refusing to write"), "{args:?}: {err}");
    assert!(err.contains("it is the input"), "{args:?}: {err}");
    assert_eq!(
        std::fs::read(dir.join(kept)).ok(),
        before,
        "{args:?}: {kept} changed"
    );
}

/// No output may replace a file the run reads: the state, its lock, the Score files the state
/// records (a version 1 state reads them), the provisioner files (issue 21).
#[test]
fn no_output_replaces_the_state_its_lock_recorded_score_files_or_provisioner_files() {
    // The state of a first run (created after the check, before the outputs) and of a later one.
    let tmp = project();
    let dir = tmp.path();
    let state = ".score-gen/compose/state.yaml";
    refused_as_input(dir, &["compose", "score.yaml", "-o", state], state);
    assert!(!dir.join(state).exists(), "the refused run saved a state");
    ok(&run_in(dir, &["compose", "score.yaml"]));
    refused_as_input(dir, &["compose", "score.yaml", "-o", state], state);
    refused_as_input(
        dir,
        &["compose", "-o", "./.score-gen/compose/x/../state.yaml"],
        state,
    );
    refused_as_input(dir, &["compose", "score.yaml", "--env-file", state], state);
    // The lock.
    let lock = ".score-gen/compose/.lock";
    refused_as_input(dir, &["compose", "score.yaml", "-o", lock], lock);
    ok(&run_in(dir, &["k8s", "score.yaml"]));
    refused_as_input(
        dir,
        &["k8s", "score.yaml", "-o", ".score-gen/k8s/.lock"],
        ".score-gen/k8s/.lock",
    );
    // A Score file the state records, on a regenerate.
    refused_as_input(dir, &["compose", "-o", "score.yaml"], "score.yaml");
    // A provisioner file.
    std::fs::write(
        dir.join("p.yaml"),
        "- uri: template://t/x\n  type: thing\n  outputs: |\n    a: b\n",
    )
    .unwrap();
    refused_as_input(
        dir,
        &[
            "compose",
            "score.yaml",
            "--provisioners",
            "p.yaml",
            "-o",
            "p.yaml",
        ],
        "p.yaml",
    );

    // A version 1 state reads its workloads' Score files.
    let tmp = project();
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join(".score-gen/compose")).unwrap();
    std::fs::write(
        dir.join(state),
        "version: 1\nseed: 0123456789abcdef0123456789abcdef\nworkloads:\n  app:\n    file: score.yaml\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("two.yaml"),
        "apiVersion: score.dev/v1b1\nmetadata:\n  name: two\ncontainers:\n  main:\n    image: busybox\n",
    )
    .unwrap();
    refused_as_input(
        dir,
        &["compose", "two.yaml", "-o", "score.yaml"],
        "score.yaml",
    );
}
