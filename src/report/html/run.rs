//! A run's report.

use std::collections::BTreeMap;
use std::path::Path;

use maud::{Markup, html};

use crate::metrics::{FlatMetric, KEY_METRICS, Summary, flat_metrics};

use super::page::{self, num_cell, split_unit};
use super::read;
use super::{EVENT_ROWS, ReportError};

/// The page of the run in `dir`.
pub(super) fn page(dir: &Path) -> Result<String, ReportError> {
    let summary_path = dir.join("summary.json");
    let summary: Summary = read::json(&summary_path, &read::required_text(&summary_path)?)?;
    let flat = flat_metrics(&summary);
    let plots = read::plots(dir)?;
    let intervals = metrics_span(&dir.join("metrics.csv"))?;
    let latency = latency_section(&dir.join("latency.csv"))?;
    let events = events_section(&dir.join("events.csv"))?;
    let scenario = scenario_section(&dir.join("scenario.json"))?;
    let body = html! {
        (overview(&summary, intervals.as_ref()))
        (key_figures(&flat))
        (page::plots(&plots))
        (outcomes(&summary))
        (target_groups(&summary))
        @if let Some(l) = latency { (l) }
        (every_figure(&flat))
        @if let Some(e) = events { (e) }
        @if let Some(s) = scenario { (s) }
    };
    Ok(page::document(
        &format!("lbsim run: {}", summary.scenario),
        body,
    ))
}

/// `metrics.csv`'s rows, target groups and time span.
struct Span {
    rows: usize,
    groups: usize,
    last_s: Option<f64>,
}

fn metrics_span(path: &Path) -> Result<Option<Span>, ReportError> {
    let Some(file) = read::open_csv(path)? else {
        return Ok(None);
    };
    let (t, i, g) = (
        file.col("time_s"),
        file.col("interval_s"),
        file.col("target_group"),
    );
    let mut rows = 0usize;
    let mut groups = std::collections::BTreeSet::new();
    let mut last_s: Option<f64> = None;
    let num = |r: &csv::StringRecord, c: Option<usize>| {
        c.and_then(|c| r.get(c)).and_then(page::parse_number)
    };
    file.for_each(|r| {
        rows += 1;
        if let Some(g) = g.and_then(|g| r.get(g)) {
            groups.insert(g.to_string());
        }
        if let (Some(t), Some(i)) = (num(r, t), num(r, i)) {
            last_s = Some(last_s.map_or(t + i, |l: f64| l.max(t + i)));
        }
    })?;
    Ok(Some(Span {
        rows,
        groups: groups.len(),
        last_s,
    }))
}

fn overview(s: &Summary, span: Option<&Span>) -> Markup {
    html! {
        @if !s.complete {
            p.warn { "This run stopped before its end: its figures cover only part of it." }
        }
        table {
            tbody {
                tr { th { "scenario" } td { (s.scenario) } }
                tr { th { "seed" } td.n { (s.seed) } }
                tr { th { "duration (s)" } td.n { (page::number(s.duration_s)) } }
                tr { th { "warm-up (s)" } td.n { (page::number(s.warmup_s)) } }
                @if let Some(m) = span {
                    tr {
                        th { "metrics.csv" }
                        td {
                            (m.rows) " rows: " (m.groups) " target group(s)"
                            @if let Some(t) = m.last_s { ", to " (page::number(t)) " s" }
                        }
                    }
                }
                tr { th { "lbsim version" } td { (s.lbsim_version) } }
            }
        }
    }
}

fn figure_row(name: &str, value: Option<f64>) -> Markup {
    let (_, unit) = split_unit(name);
    html! {
        tr {
            td { (name) }
            (num_cell(value))
            td { (unit.unwrap_or("")) }
        }
    }
}

fn key_figures(flat: &[FlatMetric]) -> Markup {
    let wanted = ["requests_arrived", "requests_5xx"]
        .iter()
        .chain(KEY_METRICS.iter());
    html! {
        section #key {
            h2 { "Key figures" }
            p.note { "After the warm-up; costs and task-seconds over the whole run." }
            table {
                thead { tr { th { "metric" } th { "value" } th { "unit" } } }
                tbody {
                    @for name in wanted {
                        @if let Some((n, v)) = flat.iter().find(|(n, _)| n == name) {
                            (figure_row(n, *v))
                        }
                    }
                }
            }
        }
    }
}

fn every_figure(flat: &[FlatMetric]) -> Markup {
    html! {
        section #figures {
            h2 { "Every figure" }
            details {
                summary { (flat.len()) " flat metrics (the names of sweep.csv and lbsim check)" }
                table {
                    thead { tr { th { "metric" } th { "value" } th { "unit" } } }
                    tbody { @for (n, v) in flat { (figure_row(n, *v)) } }
                }
            }
        }
    }
}

fn outcomes(s: &Summary) -> Markup {
    let responses: u64 = s.requests.by_outcome.values().sum();
    let share = |n: u64| (responses > 0).then(|| 100.0 * n as f64 / responses as f64);
    html! {
        section #outcomes {
            h2 { "Requests by outcome" }
            p.note { "Whole run, warm-up included." }
            table {
                thead { tr { th { "outcome" } th { "requests" } th { "share of responses (%)" } } }
                tbody {
                    tr { td { "arrived" } td.n { (s.requests.arrived) } td {} }
                    @for (outcome, &n) in &s.requests.by_outcome {
                        tr { td { (outcome) } td.n { (n) } (num_cell(share(n))) }
                    }
                    tr {
                        td { "in flight at the end" }
                        td.n { (s.requests.in_flight_at_end) }
                        td {}
                    }
                }
            }
        }
    }
}

fn target_groups(s: &Summary) -> Markup {
    html! {
        @if !s.target_groups.is_empty() {
            section #target-groups {
                h2 { "Target groups" }
                div.wide {
                    table {
                        thead {
                            tr {
                                th { "target group" } th { "algorithm" } th { "targets at end" }
                                th { "requests arrived" } th { "ok" } th { "errors" }
                                th { "throughput (requests/s)" } th { "latency p50 (ms)" }
                                th { "latency p99 (ms)" } th { "CPU mean (%)" }
                            }
                        }
                        tbody {
                            @for tg in &s.target_groups {
                                @let ok = tg.requests.by_outcome.get("ok").copied().unwrap_or(0);
                                @let all: u64 = tg.requests.by_outcome.values().sum();
                                tr {
                                    td { (tg.name) }
                                    td { (tg.algorithm) }
                                    td.n { (tg.targets) }
                                    td.n { (tg.requests.arrived) }
                                    td.n { (ok) }
                                    td.n { (all - ok) }
                                    (num_cell(Some(tg.throughput_rps)))
                                    (num_cell(tg.latency_ms.as_ref().map(|l| l.p50)))
                                    (num_cell(tg.latency_ms.as_ref().map(|l| l.p99)))
                                    (num_cell(Some(tg.cpu_utilization.mean_pct)))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Percentiles read off `latency.csv` (`latency_ms,count,cumulative_fraction`).
fn latency_section(path: &Path) -> Result<Option<Markup>, ReportError> {
    const PERCENTILES: [f64; 7] = [50.0, 90.0, 95.0, 99.0, 99.9, 99.99, 100.0];
    let mut buckets: Vec<(f64, f64, f64)> = Vec::new();
    let mut cols = (0, 1, 2);
    let Some(t) = read::table(path, usize::MAX)? else {
        return Ok(None);
    };
    if let (Some(l), Some(c), Some(f)) = (
        t.col("latency_ms"),
        t.col("count"),
        t.col("cumulative_fraction"),
    ) {
        cols = (l, c, f);
    }
    for r in &t.rows {
        let get = |i: usize| r.get(i).and_then(|s| page::parse_number(s));
        if let (Some(l), Some(c), Some(f)) = (get(cols.0), get(cols.1), get(cols.2)) {
            buckets.push((l, c, f));
        }
    }
    let count: f64 = buckets.iter().map(|b| b.1).sum();
    let at = |p: f64| {
        buckets
            .iter()
            .find(|b| b.2 >= p / 100.0 - 1e-12)
            .or(buckets.last())
            .map(|b| b.0)
    };
    Ok(Some(html! {
        section #latency {
            h2 { "Latency distribution" }
            p.note {
                "Successful responses after the warm-up (" (page::number(count))
                " requests), from latency.csv: histogram buckets with 3 significant digits."
            }
            @if buckets.is_empty() {
                p.note { "No successful response was measured." }
            } @else {
                table {
                    thead { tr { th { "percentile (%)" } th { "latency (ms)" } } }
                    tbody {
                        @for p in PERCENTILES {
                            tr { td.n { (page::number(p)) } (num_cell(at(p))) }
                        }
                    }
                }
            }
        }
    }))
}

/// Counts by kind and the first [`EVENT_ROWS`] rows of `events.csv`.
fn events_section(path: &Path) -> Result<Option<Markup>, ReportError> {
    let Some(file) = read::open_csv(path)? else {
        return Ok(None);
    };
    // `kind` is the second column in every lbsim version so far.
    let kind_col = file.col("kind").unwrap_or(1);
    let header = file.header.clone();
    let mut by_kind: BTreeMap<String, u64> = BTreeMap::new();
    let mut first: Vec<Vec<String>> = Vec::new();
    let mut total = 0usize;
    file.for_each(|r| {
        total += 1;
        *by_kind
            .entry(r.get(kind_col).unwrap_or("").to_string())
            .or_default() += 1;
        if first.len() < EVENT_ROWS {
            first.push(r.iter().map(String::from).collect());
        }
    })?;
    let table = read::Table {
        header,
        rows: first,
        total,
    };
    Ok(Some(html! {
        section #events {
            h2 { "Events" }
            @if total == 0 {
                p.note { "No events." }
            } @else {
                table {
                    thead { tr { th { "kind" } th { "events" } } }
                    tbody {
                        @for (kind, n) in &by_kind {
                            tr { td { (kind) } td.n { (n) } }
                        }
                        tr { td { "all" } td.n { (total) } }
                    }
                }
                h3 { "Timeline" }
                (page::csv_table(&table, "events.csv", None))
            }
        }
    }))
}

/// `scenario.json`, pretty-printed.
fn scenario_section(path: &Path) -> Result<Option<Markup>, ReportError> {
    let Some(text) = read::optional_text(path)? else {
        return Ok(None);
    };
    let value: serde_json::Value = read::json(path, &text)?;
    let pretty = serde_json::to_string_pretty(&value).unwrap_or(text);
    Ok(Some(html! {
        section #scenario {
            h2 { "Scenario" }
            p.note { "As run, with its --set overrides (scenario.json)." }
            pre { (pretty) }
        }
    }))
}
