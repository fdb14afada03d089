//! Stable-toolchain fuzz loop for `check_substitute`: `cargo run -p score-gen-fuzz --bin fuzz_substitute -- [SECONDS] [SEED]`.
fn main() -> std::process::ExitCode {
    score_gen_fuzz::driver::main("substitute", score_gen_fuzz::check_substitute)
}
