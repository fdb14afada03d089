//! `score-bench-gen N DIR`: writes the benchmark's N synthetic workloads to
//! `DIR/svc-XXXX/score.yaml`, for measuring the real binary (hyperfine, peak RSS).

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(n), Some(dir)) = (
        args.first().and_then(|n| n.parse::<usize>().ok()),
        args.get(1),
    ) else {
        eprintln!("usage: score-bench-gen N DIR");
        return ExitCode::from(2);
    };
    for (name, text) in score_bench::workloads(n) {
        let path = std::path::Path::new(dir).join(name);
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&path, text));
        if let Err(e) = written {
            eprintln!("{}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
