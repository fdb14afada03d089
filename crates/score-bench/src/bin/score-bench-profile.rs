//! `score-bench-profile MODE N [REPEAT]`: runs one benchmark body on the N synthetic workloads,
//! REPEAT times (default 1), for instruction counts under `valgrind --tool=callgrind`, which are
//! repeatable on a busy machine where wall-clock times are not.
//!
//! MODE is a target (`compose`, `k8s`, `terraform`: the whole in-memory pipeline),
//! `floor-<target>` (parse every input + serialise that target's output; the output is computed
//! and parsed back before the measured part, so subtract a `prep-<target>` run to isolate it), or
//! `dialect-minijinja` / `dialect-gotemplate` (compose with the bench's equivalent provisioners in
//! that dialect: `score_bench::PROVISIONERS_MINIJINJA` / `PROVISIONERS_GO`).

use std::hint::black_box;
use std::process::ExitCode;

use score_core::Target;
use score_target_compose::ComposeTarget;
use score_target_k8s::K8sTarget;
use score_target_terraform::TerraformTarget;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(mode), Some(n)) = (args.first(), args.get(1).and_then(|n| n.parse().ok())) else {
        eprintln!(
            "usage: score-bench-profile <TARGET|floor-TARGET|prep-TARGET|dialect-minijinja|dialect-gotemplate> N [REPEAT]"
        );
        return ExitCode::from(2);
    };
    let repeat: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(1);
    let (kind, name) = match mode.split_once('-') {
        Some((k @ ("floor" | "prep"), t)) => (k, t),
        Some(("dialect", "minijinja")) => ("dialect", score_bench::PROVISIONERS_MINIJINJA),
        Some(("dialect", "gotemplate")) => ("dialect", score_bench::PROVISIONERS_GO),
        _ => ("run", mode.as_str()),
    };
    if kind == "dialect" {
        let files = score_bench::workloads(n);
        let target = ComposeTarget::default();
        let mut bytes = 0;
        for _ in 0..repeat {
            let a = score_bench::compile_with(&target, black_box(&files), name).expect("compiles");
            bytes += a.files.iter().map(|f| f.content.len()).sum::<usize>();
        }
        println!("{bytes}");
        return ExitCode::SUCCESS;
    }
    let target: &dyn Target = match name {
        "compose" => &ComposeTarget::default(),
        "k8s" => &K8sTarget::default(),
        "terraform" => &TerraformTarget::default(),
        other => {
            eprintln!("unknown target {other:?}");
            return ExitCode::from(2);
        }
    };
    let files = score_bench::workloads(n);
    let mut bytes = 0;
    if kind == "run" {
        for _ in 0..repeat {
            let a = score_bench::compile(target, black_box(&files)).expect("compiles");
            bytes += a.files.iter().map(|f| f.content.len()).sum::<usize>();
        }
    } else {
        let output =
            score_bench::floor_output(&score_bench::compile(target, &files).expect("compiles"));
        if kind == "floor" {
            for _ in 0..repeat {
                bytes += score_bench::floor_parse(black_box(&files)).len();
                bytes += score_bench::floor_emit(black_box(&output));
            }
        }
    }
    println!("{bytes}");
    ExitCode::SUCCESS
}
