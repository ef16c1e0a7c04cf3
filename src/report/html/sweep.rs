//! A sweep's and a comparison's report.

use std::collections::BTreeMap;
use std::path::Path;

use maud::{Markup, html};
use serde::Deserialize;
use serde_json::Value;

use crate::metrics::KEY_METRICS;

use super::page::{self, cell, header, num_cell};
use super::read::{self, Table};
use super::{LONG_TABLE_ROWS, ReportError};

/// The parts of `sweep.json` the report shows; anything else is ignored, and values that
/// are not strings are shown as JSON.
#[derive(Deserialize)]
struct SweepDoc {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    lbsim_version: Option<String>,
    #[serde(default)]
    scenario: Option<Value>,
    #[serde(default)]
    scenario_file: Option<Value>,
    #[serde(default)]
    replications: Option<Value>,
    #[serde(default)]
    base_seed: Option<Value>,
    #[serde(default)]
    vary: Vec<Vary>,
    #[serde(default)]
    points: Vec<Point>,
    #[serde(default)]
    runs: Vec<Value>,
}

#[derive(Deserialize)]
struct Vary {
    path: String,
    #[serde(default)]
    values: Vec<Value>,
}

#[derive(Deserialize)]
struct Point {
    point: Value,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    values: BTreeMap<String, Value>,
}

/// A JSON value as text: strings as they are, arrays joined with ", ", the rest as JSON.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(text).collect::<Vec<_>>().join(", "),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The page of the sweep (or, with `compare`, the comparison) in `dir`.
pub(super) fn page(dir: &Path, compare: bool) -> Result<String, ReportError> {
    let doc_path = dir.join("sweep.json");
    let doc: SweepDoc = read::json(&doc_path, &read::required_text(&doc_path)?)?;
    let plots = read::plots(dir)?;
    let summary = read::table(&dir.join("sweep_summary.csv"), usize::MAX)?;
    let runs = read::table(&dir.join("sweep.csv"), LONG_TABLE_ROWS)?;
    let comparison = if compare {
        read::table(&dir.join("compare.csv"), LONG_TABLE_ROWS)?
    } else {
        None
    };
    let compare = compare || doc.kind.as_deref() == Some("compare");
    let scenario = doc.scenario.as_ref().map(text).unwrap_or_default();
    let title = if compare {
        format!("lbsim compare: {scenario}")
    } else {
        format!("lbsim sweep: {scenario}")
    };
    let body = html! {
        (overview(&doc))
        (varied(&doc))
        (page::plots(&plots))
        @if let Some(c) = &comparison { (comparison_section(c)) }
        @if let Some(s) = &summary { (by_point(s)) }
        @if let Some(s) = &summary { (every_summary_row(s)) }
        @if let Some(r) = &runs { (every_run(r)) }
    };
    Ok(page::document(&title, body))
}

fn overview(doc: &SweepDoc) -> Markup {
    let row = |name: &str, v: Option<&Value>| {
        html! {
            @if let Some(v) = v {
                tr {
                    th { (name) }
                    @if v.is_number() { td.n { (text(v)) } } @else { td { (text(v)) } }
                }
            }
        }
    };
    html! {
        table {
            tbody {
                (row("scenario", doc.scenario.as_ref()))
                (row("scenario file", doc.scenario_file.as_ref()))
                (row("replications per point", doc.replications.as_ref()))
                (row("base seed", doc.base_seed.as_ref()))
                @if !doc.points.is_empty() { tr { th { "points" } td.n { (doc.points.len()) } } }
                @if !doc.runs.is_empty() { tr { th { "runs" } td.n { (doc.runs.len()) } } }
                @if let Some(v) = &doc.lbsim_version { tr { th { "lbsim version" } td { (v) } } }
            }
        }
    }
}

fn varied(doc: &SweepDoc) -> Markup {
    html! {
        @if !doc.vary.is_empty() {
            section #varied {
                h2 { "What varies" }
                table {
                    thead { tr { th { "path" } th { "values" } } }
                    tbody {
                        @for v in &doc.vary {
                            tr {
                                td { (v.path) }
                                td { (v.values.iter().map(text).collect::<Vec<_>>().join(", ")) }
                            }
                        }
                    }
                }
            }
            @if !doc.points.is_empty() {
                details {
                    summary { "The " (doc.points.len()) " points" }
                    table {
                        thead {
                            tr {
                                th { "point" } th { "label" }
                                @for v in &doc.vary { th { (v.path) } }
                            }
                        }
                        tbody {
                            @for p in &doc.points {
                                tr {
                                    td.n { (text(&p.point)) }
                                    td { (p.label.as_deref().unwrap_or("")) }
                                    @for v in &doc.vary {
                                        (cell(&p.values.get(&v.path).map(text).unwrap_or_default()))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `compare.csv`: one row per metric and alternative, the significant ones in bold, with
/// the difference relative to the baseline.
fn comparison_section(t: &Table) -> Markup {
    let col = |n: &str| t.col(n);
    let get = |row: &[String], c: Option<usize>| -> String {
        c.and_then(|c| row.get(c)).cloned().unwrap_or_default()
    };
    let num = |row: &[String], c| page::parse_number(&get(row, c));
    let (metric, baseline, alternative, n) =
        (col("metric"), col("baseline"), col("alternative"), col("n"));
    let (b_mean, a_mean, diff, lo, hi, sig) = (
        col("baseline_mean"),
        col("alternative_mean"),
        col("diff_mean"),
        col("diff_ci95_low"),
        col("diff_ci95_high"),
        col("significant"),
    );
    html! {
        section #comparison {
            h2 { "Comparison" }
            p.note {
                "Paired differences (alternative − baseline) over replications with the same \
                 seeds, with their 95 % confidence interval (compare.csv); in bold where the \
                 interval excludes 0."
            }
            @if t.total > t.rows.len() {
                p.note { "The first " (t.rows.len()) " of " (t.total) " rows; all are in compare.csv." }
            }
            div.wide {
                table {
                    thead {
                        tr {
                            th { "metric" } th { "unit" } th { "baseline" } th { "alternative" }
                            th { "n" } th { "baseline mean" } th { "alternative mean" }
                            th { "difference" } th { "95 % CI of the difference" }
                            th { "change (%)" } th { "significant" }
                        }
                    }
                    tbody {
                        @for row in &t.rows {
                            @let name = get(row, metric);
                            @let significant = get(row, sig) == "true";
                            @let change = num(row, diff).zip(num(row, b_mean))
                                .filter(|(_, b)| *b != 0.0)
                                .map(|(d, b)| 100.0 * d / b.abs());
                            tr.sig[significant] {
                                td { (name) }
                                td { (page::split_unit(&name).1.unwrap_or("")) }
                                td { (get(row, baseline)) }
                                td { (get(row, alternative)) }
                                (cell(&get(row, n)))
                                (num_cell(num(row, b_mean)))
                                (num_cell(num(row, a_mean)))
                                (num_cell(num(row, diff)))
                                td.n {
                                    @if let (Some(l), Some(h)) = (num(row, lo), num(row, hi)) {
                                        "[" (page::number(l)) ", " (page::number(h)) "]"
                                    }
                                }
                                (num_cell(change))
                                td { (get(row, sig)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The key metrics per point from `sweep_summary.csv` (tidy: one row per point and
/// metric): the mean, and the 95 % confidence interval under it.
fn by_point(t: &Table) -> Markup {
    let (Some(point_col), Some(metric_col)) = (t.col("point"), t.col("metric")) else {
        return html! {};
    };
    let vary_cols: Vec<usize> = (point_col + 1..metric_col).collect();
    let (mean, lo, hi) = (t.col("mean"), t.col("ci95_low"), t.col("ci95_high"));
    let get = |row: &[String], c: Option<usize>| {
        c.and_then(|c| row.get(c))
            .and_then(|s| page::parse_number(s))
    };
    // Metrics in the file's order; the key ones if present, else the first eight.
    let mut metrics: Vec<&str> = Vec::new();
    for row in &t.rows {
        if let Some(m) = row.get(metric_col)
            && !metrics.contains(&m.as_str())
        {
            metrics.push(m);
        }
    }
    let key: Vec<&str> = KEY_METRICS
        .iter()
        .copied()
        .filter(|k| metrics.contains(k))
        .collect();
    let shown: Vec<&str> = if key.is_empty() {
        metrics.iter().copied().take(8).collect()
    } else {
        key
    };
    // Points in the file's order, each with its varied values and its cells.
    let mut points: Vec<(&str, Vec<&str>)> = Vec::new();
    let mut cells: BTreeMap<(&str, &str), &Vec<String>> = BTreeMap::new();
    for row in &t.rows {
        let Some(p) = row.get(point_col) else {
            continue;
        };
        if !points.iter().any(|(q, _)| q == p) {
            let values = vary_cols
                .iter()
                .map(|&c| row.get(c).map_or("", String::as_str))
                .collect();
            points.push((p, values));
        }
        if let Some(m) = row.get(metric_col) {
            cells.insert((p.as_str(), m.as_str()), row);
        }
    }
    html! {
        section #by-point {
            h2 { "Results by point" }
            p.note {
                "Mean over the replications, and its 95 % confidence interval (Student's t) \
                 below it (sweep_summary.csv; empty where undefined)."
            }
            div.wide {
                table {
                    thead {
                        tr {
                            th { "point" }
                            @for &c in &vary_cols { th { (t.header[c]) } }
                            @for m in &shown { (header(m)) }
                        }
                    }
                    tbody {
                        @for (p, values) in &points {
                            tr {
                                td.n { (p) }
                                @for v in values { (cell(v)) }
                                @for m in &shown {
                                    @let row = cells.get(&(*p, *m));
                                    td.n {
                                        @if let Some(row) = row {
                                            @if let Some(x) = get(row, mean) { (page::number(x)) }
                                            @if let (Some(l), Some(h)) = (get(row, lo), get(row, hi)) {
                                                br;
                                                span.ci { "[" (page::number(l)) ", " (page::number(h)) "]" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn every_summary_row(t: &Table) -> Markup {
    let shown = Table {
        header: t.header.clone(),
        rows: t.rows.iter().take(LONG_TABLE_ROWS).cloned().collect(),
        total: t.total,
    };
    html! {
        section #summary-rows {
            h2 { "Every metric" }
            details {
                summary { (t.total) " rows of sweep_summary.csv (one per point and metric)" }
                (page::csv_table(&shown, "sweep_summary.csv", None))
            }
        }
    }
}

/// `sweep.csv`: every run, with its identifying columns and the key metrics.
fn every_run(t: &Table) -> Markup {
    let metric_start = t.col("run_id").map_or(t.header.len(), |c| c + 1);
    let mut cols: Vec<usize> = (0..metric_start).collect();
    cols.extend(
        KEY_METRICS
            .iter()
            .filter_map(|k| t.header[metric_start..].iter().position(|h| h == k))
            .map(|i| metric_start + i),
    );
    html! {
        section #runs {
            h2 { "Runs" }
            details {
                summary { (t.total) " runs (sweep.csv; the key metrics here, every metric in the file)" }
                (page::csv_table(t, "sweep.csv", Some(&cols)))
            }
        }
    }
}
