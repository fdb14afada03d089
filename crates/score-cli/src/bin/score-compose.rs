//! `score-compose`: score-gen with score-compose's commands, flags and `.score-compose/` folder.

fn main() -> std::process::ExitCode {
    score_cli::run(score_cli::Program::ScoreCompose)
}
