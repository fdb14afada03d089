//! Stable-toolchain fuzz loop for `check_state`: `cargo run -p score-gen-fuzz --bin fuzz_state -- [SECONDS] [SEED]`.
fn main() -> std::process::ExitCode {
    score_gen_fuzz::driver::main("state", score_gen_fuzz::check_state)
}
