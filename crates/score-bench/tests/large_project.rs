//! A project of 10,000 workloads (30,000 resources) round-trips through the state file: the
//! state the writer produces at that size is one the reader accepts, byte for byte
//! (spec/reliability.md). Ignored by default because it wants the release build; CI runs it with
//! `cargo test --release -p score-bench --test large_project -- --ignored`.

use score_core::{CompileInputs, State};
use score_target_compose::ComposeTarget;

#[test]
#[ignore = "release build only (CI runs it with --release -- --ignored)"]
fn ten_thousand_workloads_round_trip_through_the_state() {
    let n = 10_000;
    let inputs = score_bench::workloads(n)
        .into_iter()
        .fold(CompileInputs::new(), |i, (name, text)| {
            i.score_file(name, text)
        });
    let compiled = score_core::compile(
        &ComposeTarget::default(),
        &inputs,
        score_bench::fixed_state(),
    )
    .expect("10,000 workloads compile");
    assert_eq!(compiled.state.workloads.len(), n);
    assert_eq!(compiled.state.resources.len(), 3 * n);
    let text = compiled.state.to_yaml();
    let back =
        State::from_yaml("state.yaml", &text).expect("the reader accepts what the writer wrote");
    assert_eq!(back, compiled.state);
    assert_eq!(back.to_yaml(), text);
    assert!(
        (text.len() as u64) < score_core::host::MAX_STATE_BYTES / 4,
        "{} bytes leaves too little room under MAX_STATE_BYTES",
        text.len()
    );
}
