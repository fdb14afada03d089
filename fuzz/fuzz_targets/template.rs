//! cargo-fuzz target `template`: see `score_gen_fuzz::check_template` for what is checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(finding) = score_gen_fuzz::check_template(data) {
        panic!("{finding}");
    }
});
