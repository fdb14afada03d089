//! cargo-fuzz target `load`: see `score_gen_fuzz::check_load` for what is checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(finding) = score_gen_fuzz::check_load(data) {
        panic!("{finding}");
    }
});
