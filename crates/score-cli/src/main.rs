//! `score-gen`: compile Score workloads to docker-compose, Kubernetes and Terraform.

fn main() -> std::process::ExitCode {
    score_cli::run(score_cli::Program::ScoreGen)
}
