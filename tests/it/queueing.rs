//! Queueing-theory validation: the task model and the routing algorithms against closed-form
//! results (M/M/1, M/M/c, M/M/1-PS, multi-core PS, random splitting, E_N/M/1 for round robin,
//! Little's law) and a sanity ordering of the load-aware algorithms.
//!
//! Method: R independent replications (fixed seeds, so the outcome is deterministic), each
//! with a warm-up excluded and a drain after the measurement window so that every measured
//! request finishes. The estimate is the mean of the replication means with its standard
//! error (SE). Unless a test says otherwise, a check passes when
//! - |estimate − theory| < 4·SE, and
//! - |estimate − theory| < 5 % of theory (a loose absolute guard), and
//! - SE < 1.5 % of the estimate, so that the 4·SE test has power (the windows are sized
//!   for SEs of 0.2–0.9 %: the 4·SE test then flags errors of about 1–4 %).
//!
//! All services have μ = 100/s (exponential CPU time, mean 10 ms) on 1-vCPU servers; RTT
//! and LB processing time are zero so that latency is the sojourn time at the task.

use lbsim::model::{Algorithm, DistSpec};

use crate::support::{
    Estimate, NBINS, Probe, Setup, bin_label, erlang_c, exp, mmc_response, ms, secs,
};

/// Replications per configuration.
const R: u64 = 16;
/// Service rate of one vCPU, 1/s (mean CPU time 10 ms).
const MU: f64 = 100.0;
/// Default tolerances: see the module documentation.
const REL_TOL: f64 = 0.05;
const MAX_REL_SE: f64 = 0.015;

fn setup(name: &str, rate_rps: f64) -> Setup {
    Setup::new(name, rate_rps, exp(ms(10)))
}

/// Utilisation and mean CPU time are checked in every test: they pin λ and E[x] so that a
/// mismatch in the main check is not explained by the workload itself.
/// Checks the mean response time over `probes` against `theory` (s), with this file's
/// tolerances.
fn check_mean_t(s: &Setup, probes: &[Probe], label: &str, theory: f64) {
    s.check(
        label,
        Estimate::of(probes.iter().map(|p| p.mean_t())),
        theory,
        REL_TOL,
        MAX_REL_SE,
    );
}

fn check_workload(s: &Setup, probes: &[Probe], rate_rps: f64, vcpus_total: f64) {
    s.check(
        "mean CPU time (s)",
        Estimate::of(probes.iter().map(|p| p.mean_work())),
        1.0 / MU,
        0.01,
        0.01,
    );
    s.check(
        "CPU utilisation",
        Estimate::of(probes.iter().map(|p| p.utilisation)),
        rate_rps / MU / vcpus_total,
        0.02,
        0.01,
    );
}

/// Test 1: M/M/1 FIFO (1 vCPU, concurrency 1): E[T] = 1/(μ − λ).
#[test]
fn mm1_fifo_mean_response_time() {
    // Window per ρ chosen for a relative SE of about 1 % (the variance of the mean grows
    // like 1/(1 − ρ)² per unit of time).
    for (rho, window_s, seed0) in [(0.5, 600, 100), (0.8, 4000, 200), (0.9, 10000, 300)] {
        let lambda = rho * MU;
        let mut s = setup(&format!("M/M/1 FIFO rho={rho}"), lambda);
        s.max_concurrency = 1;
        s.window = secs(window_s);
        let probes = s.replicate(R, seed0);
        check_workload(&s, &probes, lambda, 1.0);
        check_mean_t(&s, &probes, "E[T] (s)", 1.0 / (MU - lambda));
        // P(wait) = ρ for M/M/1 (PASTA: an arrival finds the server busy w.p. ρ).
        s.check(
            "P(wait > 0)",
            Estimate::of(probes.iter().map(|p| p.p_wait())),
            rho,
            REL_TOL,
            MAX_REL_SE,
        );
    }
}

/// Test 2: M/M/c FIFO (one task with c vCPUs and concurrency c): P(wait > 0) is Erlang C and
/// E[W] = C/(cμ − λ).
#[test]
fn mmc_fifo_erlang_c() {
    for (c, rho, window_s, seed0) in [(4u32, 0.9, 1000, 400), (16u32, 0.9, 500, 500)] {
        let cf = f64::from(c);
        let lambda = rho * cf * MU;
        let mut s = setup(&format!("M/M/{c} FIFO rho={rho}"), lambda);
        s.vcpus = c;
        s.max_concurrency = c;
        s.window = secs(window_s);
        let probes = s.replicate(R, seed0);
        check_workload(&s, &probes, lambda, cf);
        let erlang = erlang_c(c, lambda / MU);
        s.check(
            "P(wait > 0) vs Erlang C",
            Estimate::of(probes.iter().map(|p| p.p_wait())),
            erlang,
            REL_TOL,
            MAX_REL_SE,
        );
        s.check(
            "E[W] (s) vs C/(cμ − λ)",
            Estimate::of(probes.iter().map(|p| p.mean_wait())),
            erlang / (cf * MU - lambda),
            REL_TOL,
            MAX_REL_SE,
        );
        check_mean_t(&s, &probes, "E[T] (s)", mmc_response(c, lambda, MU));
    }
}

/// Test 3: M/M/1 processor sharing (1 vCPU, no limit): E[T] = 1/(μ − λ) as for FIFO, and the
/// PS-specific E[T | x] = x/(1 − ρ), checked as E[T]/E[x] within each size bin (the ratio
/// is 1/(1 − ρ) in every bin for PS; under FIFO it would be (E[W] + E[x])/E[x], huge for
/// small jobs and close to 1 for large ones).
#[test]
fn mm1_processor_sharing() {
    let rho = 0.8;
    let lambda = rho * MU;
    let mut s = setup("M/M/1 PS rho=0.8", lambda);
    s.max_concurrency = 0;
    s.window = secs(1000);
    let probes = s.replicate(R, 600);
    check_workload(&s, &probes, lambda, 1.0);
    check_mean_t(&s, &probes, "E[T] (s)", 1.0 / (MU - lambda));
    for b in 0..NBINS {
        let n: u64 = probes.iter().map(|p| p.bin_n[b]).sum();
        s.check(
            &format!("E[T]/E[x] for x/E[x] in {} (n = {n})", bin_label(b)),
            Estimate::of(probes.iter().map(|p| p.bin_ratio(b))),
            1.0 / (1.0 - rho),
            REL_TOL,
            MAX_REL_SE,
        );
    }
    // Nobody ever waits for a slot without a concurrency limit.
    assert!(probes.iter().all(|p| p.waited == 0));
}

/// Test 4: Multi-core PS: one 4-vCPU task without a limit. With exponential work the number in
/// system is the same birth-death process as M/M/4 (departure rate μ·min(n, 4)), so E[T] is
/// the M/M/4 value.
#[test]
fn multicore_processor_sharing_is_mm4() {
    let c = 4;
    let rho = 0.9;
    let lambda = rho * f64::from(c) * MU;
    let mut s = setup("4-vCPU PS rho=0.9", lambda);
    s.vcpus = c;
    s.max_concurrency = 0;
    s.window = secs(1000);
    let probes = s.replicate(R, 700);
    check_workload(&s, &probes, lambda, f64::from(c));
    check_mean_t(
        &s,
        &probes,
        "E[T] (s) vs M/M/4",
        mmc_response(c, lambda, MU),
    );
}

/// Test 5: Random routing to N single-server tasks splits the Poisson stream into N independent
/// Poisson streams: N independent M/M/1 at λ/N, E[T] = 1/(μ − λ/N).
#[test]
fn random_routing_is_independent_mm1() {
    let n = 4;
    let rho = 0.8;
    let lambda = rho * MU * f64::from(n);
    let mut s = setup("random, 4 x M/M/1 rho=0.8", lambda);
    s.algorithm = Algorithm::Random;
    s.tasks = n;
    s.max_concurrency = 1;
    s.window = secs(250);
    let probes = s.replicate(R, 800);
    check_workload(&s, &probes, lambda, f64::from(n));
    check_mean_t(&s, &probes, "E[T] (s)", 1.0 / (MU - lambda / f64::from(n)));
}

/// E_N/M/1 FIFO: the root σ in (0, 1) of σ = A*(μ(1 − σ)) with A*(s) = (Nλ'/(Nλ' + s))^N,
/// by fixed-point iteration from 0 (monotone convergence to the smallest root).
fn en_m1_sigma(n: u32, lambda_task: f64, mu: f64) -> f64 {
    let phase = f64::from(n) * lambda_task;
    let mut sigma = 0.0_f64;
    for _ in 0..100_000 {
        let next = (phase / (phase + mu * (1.0 - sigma))).powi(n as i32);
        if (next - sigma).abs() < 1e-15 {
            return next;
        }
        sigma = next;
    }
    panic!("E_N/M/1 fixed point did not converge");
}

/// Test 6: Round robin to N single-server tasks with Poisson arrivals: every task sees every
/// N-th arrival, Erlang-N interarrival times at rate λ/N: an E_N/M/1 queue with
/// E[T] = 1/(μ(1 − σ)).
#[test]
fn round_robin_is_en_m1() {
    let n = 4;
    let rho = 0.8;
    let lambda = rho * MU * f64::from(n);
    let sigma = en_m1_sigma(n, lambda / f64::from(n), MU);
    eprintln!("  E_{n}/M/1 at rho={rho}: sigma = {sigma:.6} (M/M/1 would be {rho})");
    let mut s = setup("round robin, 4 x E4/M/1 rho=0.8", lambda);
    s.algorithm = Algorithm::RoundRobin;
    s.tasks = n;
    s.max_concurrency = 1;
    s.window = secs(250);
    let probes = s.replicate(R, 900);
    check_workload(&s, &probes, lambda, f64::from(n));
    check_mean_t(
        &s,
        &probes,
        "E[T] (s) vs E4/M/1",
        1.0 / (MU * (1.0 - sigma)),
    );
    // GI/M/1: an arrival waits with probability σ.
    s.check(
        "P(wait > 0) vs sigma",
        Estimate::of(probes.iter().map(|p| p.p_wait())),
        sigma,
        REL_TOL,
        MAX_REL_SE,
    );
}

/// Test 7: Little's law, L = λW, in one run, on a system no formula covers: 3 tasks of 1 vCPU
/// with concurrency 2 behind least outstanding requests, gamma CPU time (cv 1.5), and a
/// uniform 1–3 ms LB processing time.
///
/// - From the event stream, ∫N dt / T over the window against λ̂·Ŵ (arrivals in the
///   window) in every run: within 0.1 % (only edge effects of order W/T, about 0.01 %,
///   separate them).
/// - The model's own state (`World::in_flight()`, the tasks' in-flight counts) sampled
///   every 5 ms: its average against λ̂·Ŵ (whole system) and λ̂·(Ŵ − E[LB delay]) (tasks
///   only), and the requests inside the LB against λ̂·E[LB delay]; default tolerances.
#[test]
fn littles_law() {
    let lambda = 240.0;
    let lb_delay = 0.002;
    let mut s = Setup::new(
        "Little: 3 tasks LOR, c=2, gamma cv 1.5, LB 1-3 ms",
        lambda,
        DistSpec::Gamma {
            mean: ms(10),
            cv: 1.5,
        },
    );
    s.algorithm = Algorithm::LeastOutstandingRequests;
    s.tasks = 3;
    s.max_concurrency = 2;
    s.lb_processing = DistSpec::Uniform {
        min: ms(1),
        max: ms(3),
    };
    s.sample_every = ms(5);
    s.window = secs(250);
    let probes = s.replicate(R, 1000);
    for (i, p) in probes.iter().enumerate() {
        let l = p.l_integrated();
        let lw = p.arrival_rate() * p.mean_t();
        eprintln!(
            "  run {i}: L = {l:.5}, lambda = {:.3}/s, W = {:.6} s, lambda*W = {lw:.5}, \
             error {:+.3}%",
            p.arrival_rate(),
            p.mean_t(),
            100.0 * (l / lw - 1.0)
        );
        assert!(
            (l / lw - 1.0).abs() < 0.001,
            "run {i}: time-average number in system {l} ≠ λW = {lw}"
        );
    }
    // Ratios per run, so that the noise shared by L and λW cancels.
    s.check(
        "sampled World::in_flight / (lambda W)",
        Estimate::of(
            probes
                .iter()
                .map(|p| p.l_sampled_world() / (p.arrival_rate() * p.mean_t())),
        ),
        1.0,
        REL_TOL,
        MAX_REL_SE,
    );
    s.check(
        "sampled in flight at tasks / (lambda (W - LB delay))",
        Estimate::of(
            probes
                .iter()
                .map(|p| p.l_sampled_tasks() / (p.arrival_rate() * (p.mean_t() - lb_delay))),
        ),
        1.0,
        REL_TOL,
        MAX_REL_SE,
    );
    s.check(
        "sampled in LB / (lambda E[LB delay])",
        Estimate::of(
            probes.iter().map(|p| {
                (p.l_sampled_world() - p.l_sampled_tasks()) / (p.arrival_rate() * lb_delay)
            }),
        ),
        1.0,
        REL_TOL,
        MAX_REL_SE,
    );
}

/// Test 8: At ρ = 0.9 with 8 single-server tasks: least outstanding requests (join the shortest
/// queue) < power of two choices < random, each by a clear margin (≥ 20 % and more than
/// 8 SE of the difference); and JSQ is no better than the pooled M/M/8 lower bound.
#[test]
fn load_aware_routing_ordering() {
    let n = 8;
    let rho = 0.9;
    let lambda = rho * MU * f64::from(n);
    let mut est = Vec::new();
    for (alg, seed0) in [
        (Algorithm::LeastOutstandingRequests, 1100),
        (Algorithm::PowerOfTwoChoices, 1200),
        (Algorithm::Random, 1300),
    ] {
        let mut s = setup(&format!("{} 8 x 1 vCPU rho=0.9", alg.name()), lambda);
        s.algorithm = alg;
        s.tasks = n;
        s.max_concurrency = 1;
        s.window = secs(150);
        let probes = s.replicate(R, seed0);
        let e = Estimate::of(probes.iter().map(|p| p.mean_t()));
        eprintln!("  {}: E[T] = {:.6} ± {:.6} s", alg.name(), e.mean, e.se);
        est.push((alg, e));
    }
    let pooled = mmc_response(n, lambda, MU);
    let random_theory = 1.0 / (MU - lambda / f64::from(n));
    eprintln!("  M/M/8 lower bound {pooled:.6} s, random (M/M/1) theory {random_theory:.6} s");
    for w in est.windows(2) {
        let ((a, ea), (b, eb)) = (w[0], w[1]);
        let se = ea.se.hypot(eb.se);
        assert!(
            ea.mean * 1.2 < eb.mean && eb.mean - ea.mean > 8.0 * se,
            "{} ({:.6} s) should beat {} ({:.6} s) clearly",
            a.name(),
            ea.mean,
            b.name(),
            eb.mean
        );
    }
    let jsq = est[0].1;
    assert!(
        jsq.mean > pooled - 4.0 * jsq.se,
        "JSQ {:.6} s beats the pooled M/M/8 bound {pooled:.6} s",
        jsq.mean
    );
}
