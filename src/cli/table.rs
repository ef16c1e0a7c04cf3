//! The human summary printed after a run.

use std::time::Duration;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, ContentArrangement, Table};

use lbsim::metrics::{LatencySummary, Summary};
use lbsim::model::RunStats;

/// Thousands separators for counts.
fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn ms(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

fn latency_cells(l: &Option<LatencySummary>) -> Vec<String> {
    match l {
        Some(l) => [l.mean, l.p50, l.p90, l.p99, l.p99_9, l.max]
            .iter()
            .map(|v| ms(*v))
            .collect(),
        None => vec!["–".into(); 6],
    }
}

/// Renders the run's headline numbers and a per-target-group table.
pub fn render(s: &Summary, stats: &RunStats, wall: Duration) -> String {
    let secs = wall.as_secs_f64();
    let mut out = format!(
        "lbsim {} · scenario {} · seed {} · {} s simulated ({} s warm-up) in {:.2} s wall \
         ({} requests, {:.2} M requests/s, {:.2} M events/s)\n",
        s.lbsim_version,
        s.scenario,
        s.seed,
        s.duration_s,
        s.warmup_s,
        secs,
        count(stats.arrived),
        stats.arrived as f64 / secs.max(1e-9) / 1e6,
        stats.events as f64 / secs.max(1e-9) / 1e6,
    );
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    t.set_header(vec![
        "target group",
        "algorithm",
        "targets",
        "arrived",
        "ok",
        "errors",
        "in flight",
        "rps",
        "mean ms",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "p99.9 ms",
        "max ms",
        "CPU mean %",
        "CPU max %",
    ]);
    let row = |name: &str,
               alg: &str,
               targets: String,
               req: &lbsim::metrics::RequestTotals,
               rps: f64,
               lat: &Option<LatencySummary>,
               cpu: &lbsim::metrics::CpuSummary| {
        let ok = req.by_outcome.get("ok").copied().unwrap_or(0);
        let errors: u64 = req
            .by_outcome
            .iter()
            .filter(|(k, _)| *k != "ok")
            .map(|(_, v)| v)
            .sum();
        let mut r = vec![
            name.to_string(),
            alg.to_string(),
            targets,
            count(req.arrived),
            count(ok),
            count(errors),
            count(req.in_flight_at_end),
            format!("{rps:.1}"),
        ];
        r.extend(latency_cells(lat));
        r.push(format!("{:.1}", cpu.mean_pct));
        r.push(format!("{:.1}", cpu.max_pct));
        r
    };
    for g in &s.target_groups {
        t.add_row(row(
            &g.name,
            &g.algorithm,
            g.targets.to_string(),
            &g.requests,
            g.throughput_rps,
            &g.latency_ms,
            &g.cpu_utilization,
        ));
    }
    if s.target_groups.len() > 1 {
        t.add_row(row(
            "all",
            "",
            String::new(),
            &s.requests,
            s.throughput_rps,
            &s.latency_ms,
            &s.cpu_utilization,
        ));
    }
    for i in 2..16 {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    out.push_str(&t.to_string());
    let errors: Vec<String> = s
        .requests
        .by_outcome
        .iter()
        .filter(|(k, v)| *k != "ok" && **v > 0)
        .map(|(k, v)| format!("{k}: {}", count(*v)))
        .collect();
    out.push_str(&format!(
        "\nLatency is what clients see (load balancer time + round trip), after the warm-up. \
         Mean in flight {:.2}; task-seconds {:.0}.",
        s.in_flight_mean, s.task_seconds
    ));
    if !errors.is_empty() {
        out.push_str(&format!("\nErrors by cause: {}", errors.join(", ")));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands() {
        assert_eq!(super::count(0), "0");
        assert_eq!(super::count(1234), "1,234");
        assert_eq!(super::count(1234567), "1,234,567");
    }
}
