//! The human summary printed after a run.

use std::time::Duration;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, ContentArrangement, Table};

use lbsim::metrics::{
    CpuSummary, LatencyBreakdown, LatencySummary, MemorySummary, RequestTotals, Summary,
    WorkerSummary,
};
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

/// One column of the table: a target group, or all of them.
struct Column<'a> {
    name: &'a str,
    algorithm: &'a str,
    targets: String,
    requests: &'a RequestTotals,
    rps: f64,
    latency: &'a Option<LatencySummary>,
    cpu: &'a CpuSummary,
    memory: &'a MemorySummary,
    workers: &'a WorkerSummary,
}

/// Renders the run's headline line and a table with one column per target group (and one
/// for all of them when there are several), one row per figure, so it fits a terminal.
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
    let mut cols: Vec<Column> = s
        .target_groups
        .iter()
        .map(|g| Column {
            name: &g.name,
            algorithm: &g.algorithm,
            targets: g.targets.to_string(),
            requests: &g.requests,
            rps: g.throughput_rps,
            latency: &g.latency_ms,
            cpu: &g.cpu_utilization,
            memory: &g.memory_utilization,
            workers: &g.workers,
        })
        .collect();
    if cols.len() > 1 {
        cols.push(Column {
            name: "all",
            algorithm: "",
            targets: s
                .target_groups
                .iter()
                .map(|g| g.targets)
                .sum::<u64>()
                .to_string(),
            requests: &s.requests,
            rps: s.throughput_rps,
            latency: &s.latency_ms,
            cpu: &s.cpu_utilization,
            memory: &s.memory_utilization,
            workers: &s.workers,
        });
    }
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    let mut header = vec!["target group".to_string()];
    header.extend(cols.iter().map(|c| c.name.to_string()));
    t.set_header(header);
    let mut row = |label: &str, f: &dyn Fn(&Column) -> String| {
        let mut r = vec![label.to_string()];
        r.extend(cols.iter().map(f));
        t.add_row(r);
    };
    row("algorithm", &|c| c.algorithm.to_string());
    row("targets", &|c| c.targets.clone());
    row("requests arrived", &|c| count(c.requests.arrived));
    // One row per outcome, named with its status code; outcomes no column saw are left
    // out (there are 18), except `ok`.
    for cause in lbsim::model::Cause::ALL {
        let seen = |c: &Column| {
            c.requests
                .by_outcome
                .get(cause.name())
                .is_some_and(|&n| n > 0)
        };
        if cause != lbsim::model::Cause::Ok && !cols.iter().any(seen) {
            continue;
        }
        row(&format!("{} ({})", cause.name(), cause.status()), &|c| {
            count(
                c.requests
                    .by_outcome
                    .get(cause.name())
                    .copied()
                    .unwrap_or(0),
            )
        });
    }
    row("in flight at end", &|c| count(c.requests.in_flight_at_end));
    row("throughput (requests/s)", &|c| format!("{:.1}", c.rps));
    let lat = |pick: fn(&LatencySummary) -> f64| {
        move |c: &Column| {
            c.latency
                .as_ref()
                .map(|l| ms(pick(l)))
                .unwrap_or_else(|| "–".into())
        }
    };
    row("latency mean (ms)", &lat(|l| l.mean));
    row("latency p50 (ms)", &lat(|l| l.p50));
    row("latency p90 (ms)", &lat(|l| l.p90));
    row("latency p99 (ms)", &lat(|l| l.p99));
    row("latency p99.9 (ms)", &lat(|l| l.p99_9));
    row("latency max (ms)", &lat(|l| l.max));
    row("CPU utilisation mean (%)", &|c| {
        format!("{:.1}", c.cpu.mean_pct)
    });
    row("CPU utilisation max (%)", &|c| {
        format!("{:.1}", c.cpu.max_pct)
    });
    if s.memory_utilization.peak_mib > 0.0 {
        row("memory utilisation mean (%)", &|c| {
            format!("{:.1}", c.memory.mean_pct)
        });
        row("memory utilisation max (%)", &|c| {
            format!("{:.1}", c.memory.max_pct)
        });
        row("memory exceeded (times)", &|c| count(c.memory.exceeded));
    }
    if s.workers.utilization_pct.is_some() || s.workers.waiting_mean > 0.0 {
        row("worker utilisation (%)", &|c| {
            c.workers
                .utilization_pct
                .map(|x| format!("{x:.1}"))
                .unwrap_or_else(|| "–".into())
        });
        row("waiting for a worker (mean)", &|c| {
            format!("{:.2}", c.workers.waiting_mean)
        });
    }
    for i in 1..=cols.len() {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    out.push_str(&t.to_string());
    if let Some(b) = &s.latency_breakdown_ms {
        out.push_str(&breakdown_line(b));
    }
    if !s.dependencies.is_empty() {
        out.push('\n');
        out.push_str(&dependencies_table(s));
    }
    out.push_str(&format!(
        "\nLatency is what clients see (load balancer time + round trip) of successful (ok) responses to requests \
         arriving after the warm-up. Mean in flight {:.2}; task-seconds {:.0}.",
        s.in_flight_mean, s.task_seconds
    ));
    out.push_str(&cost_line(&s.cost));
    for a in &s.auto_scaling {
        out.push_str(&scaling_line(a));
    }
    out
}

/// What auto scaling did to one service, as one line.
fn scaling_line(a: &lbsim::metrics::ScalingSummary) -> String {
    let first = a
        .first_scale_out_s
        .map(|t| format!("; first scale-out at {t} s"))
        .unwrap_or_default();
    format!(
        "\nAuto scaling ({}): {} scale-outs, {} scale-ins{first}; desired count {}–{} over the run, \
         {} at the end (capacity {}–{}); see events.csv (scaling_activity), cloudwatch.csv, alarms.csv.",
        a.service,
        a.scale_outs,
        a.scale_ins,
        a.desired_min,
        a.desired_max,
        a.desired_at_end,
        a.min_capacity,
        a.max_capacity,
    )
}

/// What the run cost, as one line.
fn cost_line(c: &lbsim::metrics::CostSummary) -> String {
    let spot = if c.fargate_spot_usd > 0.0 {
        format!(" + Fargate Spot ${:.4}", c.fargate_spot_usd)
    } else {
        String::new()
    };
    let per_million = c
        .per_million_requests_usd
        .map(|x| format!("; ${x:.4} per million requests"))
        .unwrap_or_default();
    format!(
        "\nCost (us-east-1 prices unless [pricing] says otherwise): ${:.4} = Fargate ${:.4}{spot} \
         ({:.3} vCPU-h, {:.3} GB-h) + ALB ${:.4} ({} h) + LCU ${:.4} ({:.4} LCU-h){per_million}.",
        c.total_usd,
        c.fargate_usd,
        c.vcpu_hours,
        c.gb_hours,
        c.alb_hours_usd,
        c.alb_hours,
        c.alb_lcu_usd,
        c.lcu_hours,
    )
}

/// Where the mean latency goes, as one line.
fn breakdown_line(b: &LatencyBreakdown) -> String {
    const NAMES: [&str; 8] = [
        "load balancer",
        "worker queue",
        "CPU",
        "CPU wait",
        "waits",
        "calls queued",
        "calls",
        "round trip",
    ];
    let text: Vec<String> = NAMES
        .iter()
        .zip(b.parts())
        .map(|(name, x)| format!("{name} {}", ms(x)))
        .collect();
    format!("\nWhere latency goes (mean ms): {}.", text.join(" · "))
}

/// One column per dependency: its calls after the warm-up.
fn dependencies_table(s: &Summary) -> String {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    let mut header = vec!["dependency".to_string()];
    header.extend(s.dependencies.iter().map(|d| d.name.clone()));
    t.set_header(header);
    let mut row = |label: &str, f: &dyn Fn(&lbsim::metrics::DependencySummary) -> String| {
        let mut r = vec![label.to_string()];
        r.extend(s.dependencies.iter().map(f));
        t.add_row(r);
    };
    for outcome in lbsim::model::CallOutcome::ALL {
        row(&format!("calls {}", outcome.name()), &|d| {
            count(d.calls.get(outcome.name()).copied().unwrap_or(0))
        });
    }
    let lat = |pick: fn(&LatencySummary) -> f64| {
        move |d: &lbsim::metrics::DependencySummary| {
            d.latency_ms
                .as_ref()
                .map(|l| ms(pick(l)))
                .unwrap_or_else(|| "–".into())
        }
    };
    row("latency mean (ms)", &lat(|l| l.mean));
    row("latency p99 (ms)", &lat(|l| l.p99));
    row("queued mean (ms)", &|d| {
        d.queued_ms_mean.map(ms).unwrap_or_else(|| "–".into())
    });
    row("in service (mean)", &|d| {
        format!("{:.2}", d.in_service_mean)
    });
    row("utilisation (%)", &|d| {
        d.utilization_pct
            .map(|x| format!("{x:.1}"))
            .unwrap_or_else(|| "–".into())
    });
    for i in 1..=s.dependencies.len() {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    t.to_string()
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
