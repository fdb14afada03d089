//! CI's fuzz smoke: every stable loop (`src/bin/fuzz_*.rs`) for `FUZZ_SMOKE_SECONDS` (default
//! 20) at seed 1, each in its own process (its own 1 GiB live-heap cap and panic hook).
//!
//! Ignored by a plain `cargo test`; CI runs them after the workspace's tests, from the same build:
//! `cargo test --workspace --locked --test fuzz_smoke -- --ignored --test-threads=2`
//! (two loops at a time on a 2-core machine). A finding fails the test, and the loop has saved
//! its input under `fuzz/artifacts/<target>/` (replay: `cargo run -p score-gen-fuzz --bin
//! fuzz_<target> -- FILE`).

use std::process::Command;

fn smoke(bin: &str) {
    let seconds = std::env::var("FUZZ_SMOKE_SECONDS").unwrap_or_else(|_| "20".into());
    let out = Command::new(bin)
        .args([seconds.as_str(), "1"])
        .output()
        .expect("start the fuzz loop");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The loop's own summary (runs, slowest input) goes to the CI log either way.
    eprint!("{stderr}");
    assert!(out.status.success(), "{bin} failed: {}", out.status);
    assert!(
        stderr.contains("no findings"),
        "{bin} ended without its summary line"
    );
}

#[test]
#[ignore = "CI's fuzz smoke (20 s per loop): cargo test --test fuzz_smoke -- --ignored"]
fn load() {
    smoke(env!("CARGO_BIN_EXE_fuzz_load"));
}

#[test]
#[ignore = "CI's fuzz smoke (20 s per loop): cargo test --test fuzz_smoke -- --ignored"]
fn substitute() {
    smoke(env!("CARGO_BIN_EXE_fuzz_substitute"));
}

#[test]
#[ignore = "CI's fuzz smoke (20 s per loop): cargo test --test fuzz_smoke -- --ignored"]
fn template() {
    smoke(env!("CARGO_BIN_EXE_fuzz_template"));
}

#[test]
#[ignore = "CI's fuzz smoke (20 s per loop): cargo test --test fuzz_smoke -- --ignored"]
fn render() {
    smoke(env!("CARGO_BIN_EXE_fuzz_render"));
}

#[test]
#[ignore = "CI's fuzz smoke (20 s per loop): cargo test --test fuzz_smoke -- --ignored"]
fn state() {
    smoke(env!("CARGO_BIN_EXE_fuzz_state"));
}

#[test]
#[ignore = "CI's fuzz smoke (20 s per loop): cargo test --test fuzz_smoke -- --ignored"]
fn patch() {
    smoke(env!("CARGO_BIN_EXE_fuzz_patch"));
}
