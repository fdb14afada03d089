//! Stable-toolchain fuzz loop for `check_render`: `cargo run -p score-gen-fuzz --bin fuzz_render -- [SECONDS] [SEED]`.
fn main() -> std::process::ExitCode {
    score_gen_fuzz::driver::main("render", score_gen_fuzz::check_render)
}
