//! score-gen benchmarks (see BENCHMARKS.md for figures and how to read them).
//!
//! Everything runs in memory: `score_core::compile` with a fixed state seed, no
//! file reads or writes, no state directory, no lock. Groups:
//! - `load_validate`: one workload through parse → schema → rules → typed model.
//! - `pipeline/<N>`: for N = 10, 100, 1000 synthetic workloads: per target, `floor-<target>`
//!   (serde-saphyr parse of every input into `serde_json::Value` + one serialisation of that
//!   target's own output, parsed back beforehand: serde-saphyr for YAML, hcl-rs for HCL) and
//!   `<target>` (whole pipeline + emit); `all` (load once, then compile and emit each of the
//!   three targets one after another) and `all-threads` (the same with one thread per target,
//!   as `score-gen all` runs them).
//!
//! `SCORE_BENCH_N=10,100` limits the sizes (default `10,100,1000`).

use std::hint::black_box;
use std::time::Duration;

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};

use score_bench::{
    compile, compile_with, fixed_state, floor_emit, floor_output, floor_parse, workloads,
    PROVISIONERS_GO, PROVISIONERS_MINIJINJA,
};
use score_core::project::{provisioner_set, resolve_project, WorkloadInput};
use score_core::{load_workload, LoadOptions, ProvisionOptions, Target};
use score_target_compose::ComposeTarget;
use score_target_k8s::K8sTarget;
use score_target_terraform::TerraformTarget;

fn sizes() -> Vec<usize> {
    std::env::var("SCORE_BENCH_N")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10, 100, 1000])
}

fn load_validate(c: &mut Criterion) {
    let files = workloads(1);
    let (name, text) = &files[0];
    let mut g = c.benchmark_group("load_validate");
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    g.throughput(Throughput::Elements(1));
    g.bench_function("one_workload", |b| {
        b.iter(|| {
            load_workload(
                black_box(name),
                black_box(text.as_bytes()),
                &LoadOptions::default(),
            )
            .expect("valid")
        })
    });
    g.finish();
}

/// `score-gen all` without disk: load and validate once, then provision, substitute and emit per
/// target (each target has its own provisioners and state). `threads` runs the three targets on
/// scoped threads as `score-gen all` does; otherwise one after another.
fn compile_all(files: &[(String, String)], threads: bool) -> usize {
    let inputs: Vec<WorkloadInput> = files
        .iter()
        .map(|(n, t)| WorkloadInput {
            loaded: load_workload(n, t.as_bytes(), &LoadOptions::default()).expect("valid"),
            file: Some(n.clone()),
        })
        .collect();
    let one = |target: &dyn Target| -> usize {
        let provisioners = provisioner_set(target, &[] as &[(&str, &str)]).expect("defaults load");
        let (project, _) = resolve_project(
            &inputs,
            &provisioners,
            fixed_state(),
            target,
            &ProvisionOptions::default(),
        )
        .expect("compiles");
        let artefacts = target.emit(&project).expect("emits");
        artefacts
            .files
            .iter()
            .map(|f| f.content.len())
            .sum::<usize>()
    };
    if threads {
        std::thread::scope(|s| {
            let c = s.spawn(|| one(&ComposeTarget::default()));
            let k = s.spawn(|| one(&K8sTarget::default()));
            let t = one(&TerraformTarget::default());
            c.join().expect("compose") + k.join().expect("k8s") + t
        })
    } else {
        one(&ComposeTarget::default())
            + one(&K8sTarget::default())
            + one(&TerraformTarget::default())
    }
}

fn pipeline(c: &mut Criterion) {
    for n in sizes() {
        let files = workloads(n);

        let mut g = c.benchmark_group(format!("pipeline/{n}"));
        g.throughput(Throughput::Elements(n as u64));
        g.warm_up_time(Duration::from_millis(500));
        // Flat sampling: criterion's default linear mode would run 1+2+...+10 iterations for
        // 10 samples, far too long at N = 1000 on a 2-core machine.
        if n >= 1000 {
            g.sample_size(10)
                .sampling_mode(SamplingMode::Flat)
                .measurement_time(Duration::from_secs(8));
        } else if n >= 100 {
            g.sample_size(20)
                .sampling_mode(SamplingMode::Flat)
                .measurement_time(Duration::from_secs(4));
        } else {
            g.sample_size(30).measurement_time(Duration::from_secs(2));
        }
        let targets: [&dyn Target; 3] = [
            &ComposeTarget::default(),
            &K8sTarget::default(),
            &TerraformTarget::default(),
        ];
        for target in targets {
            // The target's output, parsed back outside the timed loop: the floor re-serialises it.
            let output = floor_output(&compile(target, &files).expect("compiles"));
            let floor = format!("floor-{}", target.name());
            g.bench_function(BenchmarkId::new(floor, n), |b| {
                b.iter(|| {
                    let parsed = floor_parse(black_box(&files));
                    (parsed.len(), floor_emit(black_box(&output)))
                })
            });
            g.bench_function(BenchmarkId::new(target.name(), n), |b| {
                b.iter(|| compile(target, black_box(&files)).expect("compiles"))
            });
        }
        g.bench_function(BenchmarkId::new("all", n), |b| {
            b.iter(|| compile_all(black_box(&files), false))
        });
        g.bench_function(BenchmarkId::new("all-threads", n), |b| {
            b.iter(|| compile_all(black_box(&files), true))
        });
        g.finish();
    }
}

/// The same project through equivalent provisioners in each dialect (score-bench's
/// `PROVISIONERS_MINIJINJA` / `PROVISIONERS_GO`): the Go-template path's cost per resource
/// against the minijinja path's (BENCHMARKS.md).
fn dialects(c: &mut Criterion) {
    let n = 100;
    let files = workloads(n);
    let target = ComposeTarget::default();
    let mut g = c.benchmark_group(format!("dialects/{n}"));
    // Three resources per workload.
    g.throughput(Throughput::Elements(3 * n as u64));
    g.sample_size(20)
        .sampling_mode(SamplingMode::Flat)
        .measurement_time(Duration::from_secs(4));
    for (name, provisioners) in [
        ("minijinja", PROVISIONERS_MINIJINJA),
        ("gotemplate", PROVISIONERS_GO),
    ] {
        g.bench_function(BenchmarkId::new(name, n), |b| {
            b.iter(|| compile_with(&target, black_box(&files), provisioners).expect("compiles"))
        });
    }
    g.finish();
}

criterion_group!(benches, load_validate, pipeline, dialects);
criterion_main!(benches);
