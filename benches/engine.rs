//! Engine throughput on the reference model (`benches/reference.toml`): 16 single-server
//! targets (1 vCPU, concurrency 1), exponential CPU time with mean 10 ms, Poisson arrivals at
//! ρ = 0.9 (1440 requests/s), about 1,000,000 requests after the warm-up, for each routing
//! algorithm. Throughput is reported in simulated requests per wall-second ("elements").
//! The metrics recorder runs in memory (all statistics, no files), as in a sweep.
//!
//! Run: `cargo bench --bench engine` (add `-- least_outstanding` to filter).

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use lbsim::metrics::Recorder;
use lbsim::model::{Algorithm, RunStats, Simulation, WorldSpec};
use lbsim::scenario;

/// The reference scenario with `algorithm`.
pub fn reference(algorithm: Algorithm) -> WorldSpec {
    let set =
        scenario::overrides::parse(&format!("target_groups.0.algorithm={}", algorithm.name()))
            .expect("valid override");
    scenario::load(Path::new("benches/reference.toml"), &[set])
        .expect("benches/reference.toml is valid")
        .spec
}

fn run(spec: &WorldSpec) -> RunStats {
    let mut sim = Simulation::new(spec, Recorder::in_memory()).expect("valid spec");
    sim.run()
}

fn bench_reference(c: &mut Criterion) {
    let mut g = c.benchmark_group("reference");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    for alg in Algorithm::ALL {
        let spec = reference(alg);
        let stats = run(&spec);
        eprintln!(
            "reference/{}: {} requests, {} events ({:.2} events per request)",
            alg.name(),
            stats.arrived,
            stats.events,
            stats.events as f64 / stats.arrived as f64
        );
        g.throughput(Throughput::Elements(stats.arrived));
        g.bench_with_input(BenchmarkId::from_parameter(alg.name()), &spec, |b, spec| {
            b.iter(|| black_box(run(spec)))
        });
    }
    g.finish();
}

criterion_group!(benches, bench_reference);
criterion_main!(benches);
