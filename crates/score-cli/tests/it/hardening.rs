//! Hardening findings, end to end (issue 13): inputs that used to panic, hang, grow memory or
//! mislead, and what a killed run leaves behind. Each test names the finding it covers.
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use crate::common;
// The Low findings of issue 13 (one test binary for both).
mod low;
use common::{score_gen, stderr};

const SCORE: &str =
    "apiVersion: score.dev/v1b1\nmetadata:\n  name: app\ncontainers:\n  main:\n    image: nginx\n";

#[test]
fn a_label_past_column_65535_renders_an_excerpt_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let long = "b".repeat(70_000);
    let json = format!(
        "{{\"apiVersion\": \"score.dev/v1b1\", \"metadata\": {{\"name\": \"app\", \"annotations\": {{\"x.io/a\": \"{long}\"}}}}, \"containers\": {{\"main\": {{\"image\": \"nginx\", \"bogus\": 1}}}}}}"
    );
    std::fs::write(dir.path().join("score.json"), &json).unwrap();
    let o = score_gen(dir.path(), &["validate", "score.json"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let column = json.find("\"bogus\"").unwrap() + 1;
    assert!(err.contains(&format!("[score.json:1:{column}]")), "{err}");
    assert!(
        err.lines().all(|l| l.chars().count() < 400),
        "the snippet is an excerpt"
    );
}

#[test]
fn terminal_escapes_are_not_echoed_and_cr_only_files_point_at_the_right_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("esc.yaml"),
        "apiVersion: score.dev/v1b1\nmetadata:\n  name: app\ncontainers:\n  main:\n    image: \"\x1b]0;pwned\x07\x1b[31mnginx\"\n    bogus: 1\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("cr.yaml"),
        "apiVersion: score.dev/v1b1\rmetadata:\r  name: app\rcontainers:\r  main:\r    image: nginx\r    bogus: 1\r",
    )
    .unwrap();
    let o = score_gen(dir.path(), &["validate", "esc.yaml", "cr.yaml"]);
    let err = stderr(&o);
    assert!(!err.contains('\x1b') && !err.contains('\x07'), "{err:?}");
    assert!(err.contains("[cr.yaml:7:5]"), "{err}");
    assert!(err.contains(" 7 │     bogus: 1"), "{err}");
}

#[test]
fn inputs_are_size_checked_before_reading_and_special_files_cannot_hang_the_run() {
    let dir = tempfile::tempdir().unwrap();
    // /dev/zero-like: a character device made in our own temp dir (needs root, as CI is);
    // otherwise a FIFO fed by a writer that never stops.
    let zero = dir.path().join("zero");
    let made = Command::new("mknod")
        .arg(&zero)
        .args(["c", "1", "5"])
        .status()
        .expect("mknod");
    if made.success() {
        let o = score_gen(dir.path(), &["validate", "zero"]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(stderr(&o).contains("input is too large"), "{}", stderr(&o));
    } else {
        eprintln!("skipping the /dev/zero half: mknod needs root");
    }
    // A files[].source that is a FIFO nobody writes: an error after the wait, not a hang.
    let fifo = dir.path().join("fifo.txt");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    std::fs::write(
        dir.path().join("score.yaml"),
        format!("{SCORE}    files:\n      /etc/x: {{source: fifo.txt}}\n"),
    )
    .unwrap();
    let o = score_gen(dir.path(), &["validate", "score.yaml"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("is not a regular file and gave no data"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn numeric_flags_have_ranges() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("score.yaml"), SCORE).unwrap();
    for bad in ["18446744073709551615", "0"] {
        let o = score_gen(dir.path(), &["compose", "score.yaml", "--cmd-timeout", bad]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains("is not in 1..=86400"), "{}", stderr(&o));
    }
}

#[test]
fn temp_files_of_killed_runs_are_removed_under_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("score.yaml"), SCORE).unwrap();
    let state = dir.path().join(".score-gen/compose");
    std::fs::create_dir_all(&state).unwrap();
    // A pid that cannot exist (above pid_max) and a pre-pid name: both stale.
    let stale = [
        dir.path().join(".score-gen-tmp-999999999-Ab3dE"),
        state.join(".score-gen-tmp-OLD123"),
    ];
    for f in &stale {
        std::fs::write(f, "password: hunter2\n").unwrap();
    }
    // One of a live process (this test): kept.
    let live = dir
        .path()
        .join(format!(".score-gen-tmp-{}-Zz9", std::process::id()));
    std::fs::write(&live, "in progress").unwrap();
    let o = score_gen(dir.path(), &["compose", "score.yaml"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for f in &stale {
        assert!(!f.exists(), "{} was left behind", f.display());
    }
    assert!(live.exists(), "a live process's temp file was removed");
}

#[test]
fn new_outputs_respect_the_umask() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("score.yaml"), SCORE).unwrap();
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "umask 077 && exec '{}' --color never compose score.yaml",
            common::exe("score-gen").path().display()
        ))
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mode = std::fs::metadata(dir.path().join("compose.yaml"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600, "compose.yaml is {mode:o} under umask 077");
}

/// The process memory budget stops a template that builds a huge text through a path score-core
/// cannot bound (minijinja's `~` on a list), with exit code 1 and nothing written.
#[test]
fn a_template_that_builds_gigabytes_hits_the_memory_budget() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("score.yaml"),
        format!("{SCORE}resources:\n  db:\n    type: huge\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("p.yaml"),
        "- uri: template://test/huge\n  engine: minijinja\n  type: huge\n  outputs: |\n    n: {{ (([\"x\" * 100000] * 100000) ~ \"\") | length }}\n",
    )
    .unwrap();
    let o = score_gen(
        dir.path(),
        &[
            "--max-memory",
            "256",
            "compose",
            "score.yaml",
            "--provisioners",
            "p.yaml",
        ],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("--max-memory"), "{err}");
    assert!(!dir.path().join("compose.yaml").exists());
    assert!(!dir.path().join(".score-gen/compose/state.yaml").exists());
}
