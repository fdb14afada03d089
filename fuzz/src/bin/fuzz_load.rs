//! Stable-toolchain fuzz loop for `check_load`: `cargo run -p score-gen-fuzz --bin fuzz_load -- [SECONDS] [SEED]`.
fn main() -> std::process::ExitCode {
    score_gen_fuzz::driver::main("load", score_gen_fuzz::check_load)
}
