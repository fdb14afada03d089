//! Stable-toolchain fuzz loop for `check_template`: `cargo run -p score-gen-fuzz --bin fuzz_template -- [SECONDS] [SEED]`.
fn main() -> std::process::ExitCode {
    score_gen_fuzz::driver::main("template", score_gen_fuzz::check_template)
}
