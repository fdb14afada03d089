//! cargo-fuzz target `patch`: see `score_gen_fuzz::check_patch` for what is checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(finding) = score_gen_fuzz::check_patch(data) {
        panic!("{finding}");
    }
});
