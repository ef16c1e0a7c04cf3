//! Response-time *distributions*, not just means, read from `summary.json`'s percentiles as
//! users see them. Means cannot tell FIFO from LIFO or random order (every work-conserving,
//! size-blind discipline has the same mean under exponential service); percentiles can.

use lbsim::metrics::Recorder;
use lbsim::model::Simulation;
use rayon::prelude::*;

use crate::support::{Estimate, Setup, check, exp, ms, secs};

/// M/M/1 FIFO: the response time is exponential with rate μ − λ, so its q-quantile is
/// −ln(1 − q)/(μ − λ). At ρ = 0.8 (μ = 100/s, λ = 80/s): p50 34.66 ms, p90 115.13 ms,
/// p99 230.26 ms. Tolerance: within 4 SE over 12 seeds and within 5 %; the HDR histogram's
/// own quantisation (3 significant digits) is 0.1 %.
#[test]
fn mm1_fifo_response_time_percentiles_are_exponential() {
    let (mu, lambda) = (100.0, 80.0);
    let mut s = Setup::new("M/M/1 FIFO percentiles rho=0.8", lambda, exp(ms(10)));
    s.max_concurrency = 1;
    s.window = secs(2000);
    s.drain = secs(0);
    let summaries: Vec<_> = (0..12u64)
        .into_par_iter()
        .map(|r| {
            let mut sim = Simulation::new(&s.spec(900 + r), Recorder::in_memory()).unwrap();
            sim.run();
            sim.into_observer().finish().unwrap().0
        })
        .collect();
    for (q, pick) in [
        (
            0.5,
            (|l: &lbsim::metrics::LatencySummary| l.p50) as fn(&_) -> f64,
        ),
        (0.9, |l| l.p90),
        (0.99, |l| l.p99),
    ] {
        let theory_ms = -(1.0f64 - q).ln() / (mu - lambda) * 1e3;
        let est = Estimate::of(
            summaries
                .iter()
                .map(|s| pick(s.latency_ms.as_ref().expect("requests measured"))),
        );
        s.check(&format!("p{} (ms)", q * 100.0), est, theory_ms, 0.05, 0.02);
    }
    // The mean from the summary too (exact, not from the histogram).
    let est = Estimate::of(
        summaries
            .iter()
            .map(|s| s.latency_ms.as_ref().unwrap().mean),
    );
    check(
        "[M/M/1 FIFO] summary mean (ms)",
        est,
        1e3 / (mu - lambda),
        0.05,
        0.02,
    );
}
