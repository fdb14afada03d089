//! Stable-toolchain fuzz loop for `check_patch`: `cargo run -p score-gen-fuzz --bin fuzz_patch -- [SECONDS] [SEED]`.
fn main() -> std::process::ExitCode {
    score_gen_fuzz::driver::main("patch", score_gen_fuzz::check_patch)
}
