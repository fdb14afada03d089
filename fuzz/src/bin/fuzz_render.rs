//! Stable-toolchain fuzz loop for `check_render`: `cargo run --bin fuzz_render -- [SECONDS] [SEED]`.
fn main() -> std::process::ExitCode {
    score_gen_fuzz::driver::main("render", score_gen_fuzz::check_render)
}
