//! Flat metric names: one number per name, read off a [`Summary`].
//!
//! `sweep.csv`, `sweep_summary.csv`, `lbsim compare`, `lbsim check`'s golden files and the
//! scenario's `[[assert]]` SLOs all name a summary figure by one flat, stable name, units
//! last, as the CSV columns are: `latency_p99_ms`, `fraction_5xx`, `cost_total_usd`. The
//! order of [`flat_metrics`] is fixed (the order of this file), so a CSV written from it has
//! the same columns on every machine.
//!
//! Names (whole run, after the warm-up):
//! - requests: `requests_arrived`, `requests_<outcome>` for every outcome (`requests_ok`,
//!   `requests_elb_503_no_targets`, ...), `requests_5xx` (every response with a
//!   5xx status), `requests_elb_5xx` (those the load balancer generated), `fraction_5xx` and
//!   `fraction_elb_5xx` (of the responses, 0–1; empty when there were none),
//!   `requests_failed` and `fraction_failed` (5xx, 460, cut WebSockets and connections that
//!   got no response: see [`Cause::is_failure`](crate::model::Cause::is_failure)), `requests_in_flight_at_end`;
//! - latency of successful responses, ms: `latency_mean_ms`, `latency_p50_ms`,
//!   `latency_p90_ms`, `latency_p99_ms`, `latency_p99_9_ms`, `latency_max_ms` (empty with no
//!   successful response);
//! - `throughput_rps` (responses/s), `in_flight_mean`;
//! - utilisation, %: `cpu_utilization_mean_pct`, `cpu_utilization_max_pct`,
//!   `memory_utilization_mean_pct`, `memory_utilization_max_pct`, `worker_utilization_pct`;
//!   `memory_peak_mib`, `memory_exceeded`, `workers_busy_mean`, `waiting_for_worker_mean`;
//! - tasks: `task_seconds`, `tasks_launched`, `tasks_stopped`, `tasks_desired_at_end`,
//!   `tasks_launched_spot`, `spot_interruptions`;
//! - cost, US dollars: `cost_total_usd`, `cost_fargate_usd`, `cost_fargate_spot_usd`,
//!   `cost_alb_hours_usd`, `cost_alb_lcu_usd`, `cost_per_million_requests_usd`,
//!   `vcpu_hours`, `task_hours`, `lcu_hours`;
//! - auto scaling (summed over services): `scale_outs`, `scale_ins`, `first_scale_out_s`;
//! - deployments: `deployments`, `deployments_rolled_back`, `deployment_failed_tasks`,
//!   `deployment_duration_s` (the longest deployment's start to end; empty when one has not
//!   ended or there is none);
//! - with more than one target group, each group's figures again, prefixed
//!   `tg.<name>.` (`tg.api.latency_p99_ms`); each dependency's as `dep.<name>.`
//!   (`dep.db.latency_p99_ms`, `dep.db.calls_ok`, `dep.db.utilization_pct`).

use super::summary::{LatencySummary, RequestTotals, Summary};

/// One flat metric: its name and its value (`None` when the run has no such figure, such
/// as a latency percentile with no successful response; written as an empty CSV cell).
pub type FlatMetric = (String, Option<f64>);

/// The metrics `lbsim compare` shows by default, in this order.
pub const KEY_METRICS: &[&str] = &[
    "latency_p50_ms",
    "latency_p99_ms",
    "latency_mean_ms",
    "fraction_5xx",
    "throughput_rps",
    "cpu_utilization_mean_pct",
    "task_seconds",
    "cost_total_usd",
];

fn requests(out: &mut Vec<FlatMetric>, prefix: &str, r: &RequestTotals) {
    let mut push = |name: &str, v: Option<f64>| out.push((format!("{prefix}{name}"), v));
    push("requests_arrived", Some(r.arrived as f64));
    let (mut all_5xx, mut elb_5xx, mut failed, mut responses) = (0u64, 0u64, 0u64, 0u64);
    for (outcome, &n) in &r.by_outcome {
        push(&format!("requests_{outcome}"), Some(n as f64));
        responses += n;
        // By status class; a name lbsim does not know (a newer file) counts as an error,
        // as every outcome but `ok` did before redirects and fixed responses existed.
        let cause = crate::model::Cause::from_name(outcome);
        if cause.is_none_or(|c| c.is_failure()) {
            failed += n;
        }
        if cause.is_none_or(|c| c.status() >= 500) {
            all_5xx += n;
            if cause.is_none_or(|c| c.is_elb_generated()) {
                elb_5xx += n;
            }
        }
    }
    push("requests_5xx", Some(all_5xx as f64));
    push("requests_elb_5xx", Some(elb_5xx as f64));
    let frac = |n: u64| (responses > 0).then(|| super::round_to(n as f64 / responses as f64, 9));
    push("fraction_5xx", frac(all_5xx));
    push("fraction_elb_5xx", frac(elb_5xx));
    push("requests_failed", Some(failed as f64));
    push("fraction_failed", frac(failed));
    push("requests_in_flight_at_end", Some(r.in_flight_at_end as f64));
}

/// A latency figure's name and how to read it.
type LatencyPart = (&'static str, fn(&LatencySummary) -> f64);

fn latency(out: &mut Vec<FlatMetric>, prefix: &str, l: Option<&LatencySummary>) {
    let parts: [LatencyPart; 6] = [
        ("latency_mean_ms", |l| l.mean),
        ("latency_p50_ms", |l| l.p50),
        ("latency_p90_ms", |l| l.p90),
        ("latency_p99_ms", |l| l.p99),
        ("latency_p99_9_ms", |l| l.p99_9),
        ("latency_max_ms", |l| l.max),
    ];
    for (name, f) in parts {
        out.push((format!("{prefix}{name}"), l.map(f)));
    }
}

/// Every figure of `s` by its flat name, in a fixed order (see the module docs for the
/// names and units).
pub fn flat_metrics(s: &Summary) -> Vec<FlatMetric> {
    let mut out: Vec<FlatMetric> = Vec::with_capacity(96);
    requests(&mut out, "", &s.requests);
    latency(&mut out, "", s.latency_ms.as_ref());
    let mut push = |name: &str, v: Option<f64>| out.push((name.to_string(), v));
    push("throughput_rps", Some(s.throughput_rps));
    push("in_flight_mean", Some(s.in_flight_mean));
    push("cpu_utilization_mean_pct", Some(s.cpu_utilization.mean_pct));
    push("cpu_utilization_max_pct", Some(s.cpu_utilization.max_pct));
    push(
        "memory_utilization_mean_pct",
        Some(s.memory_utilization.mean_pct),
    );
    push(
        "memory_utilization_max_pct",
        Some(s.memory_utilization.max_pct),
    );
    push("memory_peak_mib", Some(s.memory_utilization.peak_mib));
    push(
        "memory_exceeded",
        Some(s.memory_utilization.exceeded as f64),
    );
    push("workers_busy_mean", Some(s.workers.busy_mean));
    push("worker_utilization_pct", s.workers.utilization_pct);
    push("waiting_for_worker_mean", Some(s.workers.waiting_mean));
    push("task_seconds", Some(s.task_seconds));
    push("tasks_launched", Some(s.tasks.launched as f64));
    push("tasks_stopped", Some(s.tasks.stopped as f64));
    push("tasks_desired_at_end", Some(s.tasks.desired_at_end as f64));
    push("tasks_launched_spot", Some(s.tasks.launched_spot as f64));
    push(
        "spot_interruptions",
        Some(s.tasks.spot_interruptions as f64),
    );
    let c = &s.cost;
    push("cost_total_usd", Some(c.total_usd));
    push("cost_fargate_usd", Some(c.fargate_usd));
    push("cost_fargate_spot_usd", Some(c.fargate_spot_usd));
    push("cost_alb_hours_usd", Some(c.alb_hours_usd));
    push("cost_alb_lcu_usd", Some(c.alb_lcu_usd));
    push("cost_per_million_requests_usd", c.per_million_requests_usd);
    push("vcpu_hours", Some(c.vcpu_hours));
    push("task_hours", Some(c.task_hours));
    push("lcu_hours", Some(c.lcu_hours));
    // `+ 0.0`: the sum of no floats is −0.0, which would print as "-0".
    let a = &s.auto_scaling;
    push(
        "scale_outs",
        Some(a.iter().map(|x| f64::from(x.scale_outs)).sum::<f64>() + 0.0),
    );
    push(
        "scale_ins",
        Some(a.iter().map(|x| f64::from(x.scale_ins)).sum::<f64>() + 0.0),
    );
    push(
        "first_scale_out_s",
        a.iter()
            .filter_map(|x| x.first_scale_out_s)
            .min_by(f64::total_cmp),
    );
    let d = &s.deployments;
    push("deployments", Some(d.len() as f64));
    push(
        "deployments_rolled_back",
        Some(d.iter().filter(|x| x.rollback).count() as f64),
    );
    push(
        "deployment_failed_tasks",
        Some(d.iter().map(|x| f64::from(x.failed_tasks)).sum::<f64>() + 0.0),
    );
    push(
        "deployment_duration_s",
        d.iter()
            .map(|x| x.ended_s.map(|e| e - x.started_s))
            .try_fold(None::<f64>, |acc, x| {
                x.map(|x| Some(acc.map_or(x, |a: f64| a.max(x))))
            })
            .flatten()
            .map(|x| super::round_to(x, 9)),
    );
    if s.target_groups.len() > 1 {
        for g in &s.target_groups {
            let p = format!("tg.{}.", g.name);
            requests(&mut out, &p, &g.requests);
            latency(&mut out, &p, g.latency_ms.as_ref());
            out.push((format!("{p}throughput_rps"), Some(g.throughput_rps)));
            out.push((
                format!("{p}cpu_utilization_mean_pct"),
                Some(g.cpu_utilization.mean_pct),
            ));
            out.push((format!("{p}tasks_launched"), Some(g.tasks.launched as f64)));
        }
    }
    for dep in &s.dependencies {
        let p = format!("dep.{}.", dep.name);
        for (outcome, &n) in &dep.calls {
            out.push((format!("{p}calls_{outcome}"), Some(n as f64)));
        }
        latency(&mut out, &p, dep.latency_ms.as_ref());
        out.push((format!("{p}utilization_pct"), dep.utilization_pct));
    }
    out
}

/// Every flat metric name a run of a scenario with these target groups and dependencies
/// has, in [`flat_metrics`]'s order, without running it: what a scenario's `[[assert]]`
/// may name. `target_groups` and `dependencies` are the scenario's names, in scenario
/// order (the `tg.<name>.` figures exist only with more than one target group).
pub fn metric_names(target_groups: &[&str], dependencies: &[&str]) -> Vec<String> {
    use crate::model::{CallOutcome, Cause};
    let requests = |prefix: &str, out: &mut Vec<String>| {
        out.push(format!("{prefix}requests_arrived"));
        let mut outcomes: Vec<&str> = Cause::ALL.iter().map(|c| c.name()).collect();
        outcomes.sort_unstable(); // `by_outcome` is a BTreeMap: name order
        out.extend(outcomes.iter().map(|o| format!("{prefix}requests_{o}")));
        for n in [
            "requests_5xx",
            "requests_elb_5xx",
            "fraction_5xx",
            "fraction_elb_5xx",
            "requests_failed",
            "fraction_failed",
            "requests_in_flight_at_end",
        ] {
            out.push(format!("{prefix}{n}"));
        }
    };
    let latency = |prefix: &str, out: &mut Vec<String>| {
        for n in [
            "latency_mean_ms",
            "latency_p50_ms",
            "latency_p90_ms",
            "latency_p99_ms",
            "latency_p99_9_ms",
            "latency_max_ms",
        ] {
            out.push(format!("{prefix}{n}"));
        }
    };
    let mut out = Vec::with_capacity(96);
    requests("", &mut out);
    latency("", &mut out);
    out.extend(
        [
            "throughput_rps",
            "in_flight_mean",
            "cpu_utilization_mean_pct",
            "cpu_utilization_max_pct",
            "memory_utilization_mean_pct",
            "memory_utilization_max_pct",
            "memory_peak_mib",
            "memory_exceeded",
            "workers_busy_mean",
            "worker_utilization_pct",
            "waiting_for_worker_mean",
            "task_seconds",
            "tasks_launched",
            "tasks_stopped",
            "tasks_desired_at_end",
            "tasks_launched_spot",
            "spot_interruptions",
            "cost_total_usd",
            "cost_fargate_usd",
            "cost_fargate_spot_usd",
            "cost_alb_hours_usd",
            "cost_alb_lcu_usd",
            "cost_per_million_requests_usd",
            "vcpu_hours",
            "task_hours",
            "lcu_hours",
            "scale_outs",
            "scale_ins",
            "first_scale_out_s",
            "deployments",
            "deployments_rolled_back",
            "deployment_failed_tasks",
            "deployment_duration_s",
        ]
        .map(String::from),
    );
    if target_groups.len() > 1 {
        for g in target_groups {
            let p = format!("tg.{g}.");
            requests(&p, &mut out);
            latency(&p, &mut out);
            for n in [
                "throughput_rps",
                "cpu_utilization_mean_pct",
                "tasks_launched",
            ] {
                out.push(format!("{p}{n}"));
            }
        }
    }
    for d in dependencies {
        let p = format!("dep.{d}.");
        let mut outcomes: Vec<&str> = CallOutcome::ALL.iter().map(|c| c.name()).collect();
        outcomes.sort_unstable(); // `calls` is a BTreeMap: name order
        out.extend(outcomes.iter().map(|o| format!("{p}calls_{o}")));
        latency(&p, &mut out);
        out.push(format!("{p}utilization_pct"));
    }
    out
}

/// The value of one flat metric of `s`: `Ok(None)` when the run has no such figure,
/// `Err` listing the names there are when `name` is not one of them.
///
/// # Errors
/// A message naming the unknown metric and the known ones.
pub fn flat_metric(s: &Summary, name: &str) -> Result<Option<f64>, String> {
    let all = flat_metrics(s);
    match all.iter().find(|(n, _)| n == name) {
        Some((_, v)) => Ok(*v),
        None => Err(format!(
            "unknown metric \"{name}\"; known metrics: {}",
            all.iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_fractions_count_every_error_outcome() {
        let text = r#"
            simulation = { duration = "20s" }
            clients = [{ name = "c", arrivals = { process = "poisson", rate_rps = 20.0 } }]
            load_balancer = { listeners = [{ port = 80, default_action = { type = "forward", target_group = "tg" } }] }
            target_groups = [{ name = "tg" }]
            services = [{ name = "s", target_group = "tg", desired_count = 1, request = { cpu_time = "10ms" } }]
        "#;
        let mut s = summary_of(text);
        s.requests.by_outcome.insert("ok".into(), 90);
        s.requests.by_outcome.insert("target_5xx".into(), 6);
        s.requests.by_outcome.insert("elb_503_no_targets".into(), 4);
        let flat = flat_metrics(&s);
        let mut names: Vec<&str> = flat.iter().map(|(n, _)| n.as_str()).collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n, "duplicate names");
        assert_eq!(flat_metric(&s, "requests_5xx"), Ok(Some(10.0)));
        assert_eq!(flat_metric(&s, "requests_elb_5xx"), Ok(Some(4.0)));
        let total: u64 = s.requests.by_outcome.values().sum();
        assert_eq!(
            flat_metric(&s, "fraction_5xx"),
            Ok(Some(super::super::round_to(10.0 / total as f64, 9)))
        );
        assert_eq!(
            flat_metric(&s, "latency_p99_ms"),
            Ok(s.latency_ms.as_ref().map(|l| l.p99))
        );
        for name in ["scale_outs", "scale_ins", "deployment_failed_tasks"] {
            let v = flat_metric(&s, name).unwrap().unwrap();
            assert!(v == 0.0 && v.is_sign_positive(), "{name} = {v:?}");
        }
        let e = flat_metric(&s, "latency_p42_ms").unwrap_err();
        assert!(e.contains("latency_p99_ms"), "{e}");
    }

    /// A run's summary of a scenario given as TOML text.
    fn summary_of(text: &str) -> Summary {
        let spec = crate::scenario::load_str(std::path::Path::new("t.toml"), text, &[])
            .expect("valid")
            .spec;
        let mut sim = crate::model::Simulation::new(&spec, crate::metrics::Recorder::in_memory())
            .expect("builds");
        sim.run();
        sim.into_observer().finish().expect("finishes").0
    }

    #[test]
    fn metric_names_are_the_names_a_run_has() {
        let one = r#"
            simulation = { duration = "5s" }
            clients = [{ name = "c", arrivals = { process = "poisson", rate_rps = 5.0 } }]
            load_balancer = { listeners = [{ port = 80, default_action = { type = "forward", target_group = "tg" } }] }
            target_groups = [{ name = "tg" }]
            services = [{ name = "s", target_group = "tg", desired_count = 1, request = { cpu_time = "10ms" } }]
        "#;
        let names =
            |s: &Summary| -> Vec<String> { flat_metrics(s).into_iter().map(|(n, _)| n).collect() };
        assert_eq!(names(&summary_of(one)), metric_names(&["tg"], &[]));
        let two = r#"
            simulation = { duration = "5s" }
            clients = [{ name = "c", arrivals = { process = "poisson", rate_rps = 5.0 } }]
            [load_balancer]
            listeners = [
              { port = 80, default_action = { type = "forward", target_group = "web" } },
              { port = 81, default_action = { type = "forward", target_group = "api" } },
            ]
            [[target_groups]]
            name = "web"
            [[target_groups]]
            name = "api"
            [[dependencies]]
            name = "db"
            latency = "2ms"
            [[dependencies]]
            name = "cache"
            latency = "1ms"
            [[services]]
            name = "w"
            target_group = "web"
            desired_count = 1
            request = { cpu_time = "10ms" }
            [[services]]
            name = "a"
            target_group = "api"
            desired_count = 1
            request = { steps = [{ call = "db" }, { cpu = "1ms" }] }
        "#;
        assert_eq!(
            names(&summary_of(two)),
            metric_names(&["web", "api"], &["db", "cache"])
        );
    }
}
