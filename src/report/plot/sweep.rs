//! A sweep's plots (`sweep_summary.csv`): each chosen metric's mean against the first varied
//! parameter, a 95 % confidence band around it, one line per value of the other varied
//! parameters.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::data::{Table, is_duration, parse_value};
use super::style::{Panel, Series, color, draw_panel, titled};
use super::{Figure, Format, PlotError, plots_dir, render};

/// The metrics a sweep plots when none are chosen: `latency_p99_ms`, `fraction_5xx`,
/// `cost_total_usd`, `throughput_rps`, then the rest of [`crate::metrics::KEY_METRICS`],
/// each only when `available` has it.
pub fn default_sweep_metrics(available: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for m in [
        "latency_p99_ms",
        "fraction_5xx",
        "cost_total_usd",
        "throughput_rps",
    ]
    .iter()
    .chain(crate::metrics::KEY_METRICS)
    {
        if available.iter().any(|a| a == m) && !out.iter().any(|o| o == m) {
            out.push((*m).to_string());
        }
    }
    out
}

/// A metric's title and unit for an axis: `latency_p99_ms` is ("p99 latency", "ms").
pub(crate) fn metric_label(metric: &str) -> (String, String) {
    // Per target group or dependency: `tg.api.latency_p99_ms`.
    let (prefix, base) = match metric.rsplit_once('.') {
        Some((p, b)) => (format!("{p}: "), b),
        None => (String::new(), metric),
    };
    let unit = if base.starts_with("fraction_") {
        "fraction of responses"
    } else if base.ends_with("_ms") {
        "ms"
    } else if base.ends_with("_usd") {
        "US$"
    } else if base.ends_with("_pct") {
        "%"
    } else if base.ends_with("_rps") {
        "responses/s"
    } else if base.ends_with("_s") || base == "task_seconds" {
        "s"
    } else if base.ends_with("_mib") {
        "MiB"
    } else if base.ends_with("_hours") {
        "h"
    } else if base.starts_with("requests_") {
        "requests"
    } else {
        ""
    };
    let title = match base {
        "latency_p50_ms" => "p50 latency",
        "latency_p90_ms" => "p90 latency",
        "latency_p99_ms" => "p99 latency",
        "latency_p99_9_ms" => "p99.9 latency",
        "latency_mean_ms" => "mean latency",
        "latency_max_ms" => "max latency",
        "fraction_5xx" => "5xx responses",
        "fraction_elb_5xx" => "ELB 5xx responses",
        "cost_total_usd" => "total cost",
        "throughput_rps" => "throughput",
        "cpu_utilization_mean_pct" => "mean CPU utilization",
        "task_seconds" => "task time",
        other => other,
    };
    (format!("{prefix}{title}"), unit.to_string())
}

/// A varied parameter's short name: the last part of its path.
fn short(path: &str) -> &str {
    path.rsplit('.').next().unwrap_or(path)
}

/// A point of a line: x, mean, and the confidence interval's ends (when defined).
type Point = (f64, f64, Option<f64>, Option<f64>);

/// One metric's plot.
struct SweepFigure {
    title: String,
    panel: Panel,
}

impl Figure for SweepFigure {
    fn size(&self) -> (u32, u32) {
        (1200, 700)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let body = titled(root, &self.title)?;
        draw_panel(&body.margin(0, 10, 10, 10), &self.panel)
    }
}

/// Every metric's plot in a grid of two columns.
struct SweepGrid {
    title: String,
    panels: Vec<Panel>,
}

impl Figure for SweepGrid {
    fn size(&self) -> (u32, u32) {
        let rows = self.panels.len().div_ceil(2).max(1) as u32;
        (1600, 56 + rows * 430)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let body = titled(root, &self.title)?;
        let rows = self.panels.len().div_ceil(2).max(1);
        for (p, cell) in self.panels.iter().zip(body.split_evenly((rows, 2)).iter()) {
            draw_panel(&cell.margin(4, 12, 6, 6), p)?;
        }
        Ok(())
    }
}

/// Draws a sweep's plots into `dir/plots/` from `dir/sweep_summary.csv`:
/// `sweep_<metric>.<ext>` for each metric of `metrics` (empty: [`default_sweep_metrics`])
/// and, with more than one, `sweep.<ext>` with all of them. Returns the files written
/// (none when the file has no rows).
///
/// # Errors
/// The file cannot be read or is malformed (naming the line and the column), lacks the
/// columns `point`, `metric`, `mean`, or lacks a metric asked for; a plot cannot be written.
pub fn sweep_plots(
    dir: &Path,
    format: Format,
    metrics: &[String],
) -> Result<Vec<PathBuf>, PlotError> {
    let path = dir.join("sweep_summary.csv");
    let t = Table::read(&path)?;
    if t.rows.is_empty() {
        return Ok(vec![]);
    }
    let point = t.need("point")?;
    let metric = t.need("metric")?;
    let mean = t.need("mean")?;
    let low = t.col("ci95_low");
    let high = t.col("ci95_high");
    let vary: Vec<usize> = if metric > point {
        (point + 1..metric).collect()
    } else {
        vec![]
    };
    let mut available: Vec<String> = Vec::new();
    for r in 0..t.rows.len() {
        let m = t.text(r, metric);
        if !available.iter().any(|a| a == m) {
            available.push(m.to_string());
        }
    }
    let chosen = if metrics.is_empty() {
        default_sweep_metrics(&available)
    } else {
        for m in metrics {
            if !available.contains(m) {
                return Err(PlotError::UnknownMetric {
                    path: path.clone(),
                    metric: m.clone(),
                    available: available.clone(),
                });
            }
        }
        metrics.to_vec()
    };
    // The x axis: the first varied parameter (the point number when nothing varies).
    let xcol = vary.first().copied().unwrap_or(point);
    let mut xvals: Vec<String> = Vec::new();
    for r in 0..t.rows.len() {
        let v = t.text(r, xcol);
        if !xvals.iter().any(|x| x == v) {
            xvals.push(v.to_string());
        }
    }
    let numeric = xvals.iter().all(|v| parse_value(v).is_some());
    let durations = numeric && xvals.iter().any(|v| is_duration(v));
    let xname = short(&t.headers[xcol]).to_string();
    let (xscale, x_desc) = if durations {
        let max = xvals
            .iter()
            .filter_map(|v| parse_value(v))
            .fold(0.0, f64::max);
        if max >= 1200.0 {
            (60.0, format!("{xname} (min)"))
        } else {
            (1.0, format!("{xname} (s)"))
        }
    } else {
        (1.0, xname.clone())
    };
    let xpos = |v: &str| -> f64 {
        if numeric {
            parse_value(v).unwrap_or(0.0) / xscale
        } else {
            xvals.iter().position(|x| x == v).unwrap_or(0) as f64
        }
    };
    let x_range = if numeric {
        let xs: Vec<f64> = xvals.iter().map(|v| xpos(v)).collect();
        let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let pad = if hi > lo { (hi - lo) * 0.05 } else { 1.0 };
        (lo - pad, hi + pad)
    } else {
        (-0.5, xvals.len() as f64 - 0.5)
    };
    let line_key = |r: usize| -> String {
        vary[1.min(vary.len())..]
            .iter()
            .map(|&c| format!("{}={}", short(&t.headers[c]), t.text(r, c)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let plots = plots_dir(dir)?;
    let mut files = Vec::new();
    let mut panels = Vec::new();
    for m in &chosen {
        let (title, unit) = metric_label(m);
        let mut keys: Vec<String> = Vec::new();
        let mut lines: Vec<Vec<Point>> = Vec::new();
        for r in (0..t.rows.len()).filter(|&r| t.text(r, metric) == m) {
            let k = line_key(r);
            let i = match keys.iter().position(|x| *x == k) {
                Some(i) => i,
                None => {
                    keys.push(k);
                    lines.push(vec![]);
                    keys.len() - 1
                }
            };
            let y = t.num(r, mean)?.unwrap_or(f64::NAN);
            let lo = match low {
                Some(c) => t.num(r, c)?,
                None => None,
            };
            let hi = match high {
                Some(c) => t.num(r, c)?,
                None => None,
            };
            lines[i].push((xpos(t.text(r, xcol)), y, lo, hi));
        }
        let mut panel = Panel::new(
            &format!("{title} ({m})"),
            &x_desc,
            if unit.is_empty() { m } else { &unit },
            x_range,
        );
        panel.y_from_zero = false;
        if !numeric {
            panel.x_categories = xvals.clone();
        }
        for (i, (k, mut pts)) in keys.into_iter().zip(lines).enumerate() {
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            let name = if k.is_empty() {
                "mean, 95 % confidence band".to_string()
            } else {
                k
            };
            let mut s = Series::line(name, color(i), pts.iter().map(|p| (p.0, p.1)).collect());
            s.markers = true;
            s.width = 3;
            s.band = pts.iter().filter_map(|p| Some((p.0, p.2?, p.3?))).collect();
            panel.series.push(s);
        }
        if panel
            .series
            .iter()
            .all(|s| s.points.iter().all(|p| !p.1.is_finite()))
        {
            panel.note = Some("no values".into());
        }
        let fig = SweepFigure {
            title: format!("{title} against {xname}"),
            panel: panel.clone(),
        };
        let stem = format!("sweep_{}", file_safe(m));
        files.push(render(&plots, &stem, format, &fig)?);
        panels.push(panel);
    }
    if panels.len() > 1 {
        let grid = SweepGrid {
            title: format!("Sweep over {xname}: means with 95 % confidence bands"),
            panels,
        };
        files.push(render(&plots, "sweep", format, &grid)?);
    }
    Ok(files)
}

/// A metric name as part of a file name: letters, digits, `.`, `_` and `-` kept, others `_`.
pub(crate) fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}
