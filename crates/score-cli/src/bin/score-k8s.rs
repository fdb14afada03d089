//! `score-k8s`: score-gen with score-k8s's commands, flags and `.score-k8s/` folder.

fn main() -> std::process::ExitCode {
    score_cli::run(score_cli::Program::ScoreK8s)
}
