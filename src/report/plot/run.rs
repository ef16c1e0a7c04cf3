//! A run's plots: the dashboard (`metrics.csv`, `alarms.csv`) and the latency CDF
//! (`latency.csv`).

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::data::Table;
use super::style::{self, HLine, Panel, Series, color, draw_panel, fmt_num, font, titled};
use super::{Figure, Format, PlotError, de, plots_dir, render};

/// Draws a run's plots into `dir/plots/`: `dashboard.<ext>` from `metrics.csv` (and
/// `alarms.csv`'s CPU scaling targets, when there) and `latency_cdf.<ext>` from
/// `latency.csv`. A file that is absent or has no rows is skipped (so is a panel whose
/// columns are absent); returns the files written, in that order.
///
/// # Errors
/// A file that cannot be read, a malformed CSV file (naming the line and the column), a plot
/// that cannot be written.
pub fn run_plots(dir: &Path, format: Format) -> Result<Vec<PathBuf>, PlotError> {
    let mut files = Vec::new();
    let metrics = dir.join("metrics.csv");
    let latency = dir.join("latency.csv");
    let name = scenario_name(dir);
    if metrics.is_file() {
        let table = Table::read(&metrics)?;
        let alarms = dir.join("alarms.csv");
        let targets = if alarms.is_file() {
            cpu_targets(&Table::read(&alarms)?)?
        } else {
            vec![]
        };
        if let Some(dash) = Dashboard::from_table(&table, &targets, &name)? {
            files.push(render(&plots_dir(dir)?, "dashboard", format, &dash)?);
        }
    }
    if latency.is_file() {
        let table = Table::read(&latency)?;
        if let Some(cdf) = Cdf::from_table(&table, &name)? {
            files.push(render(&plots_dir(dir)?, "latency_cdf", format, &cdf)?);
        }
    }
    Ok(files)
}

/// The scenario's name from `summary.json` (user text), if it can be read.
fn scenario_name(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("summary.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v.get("scenario")?.as_str().map(str::to_string)
}

/// The thresholds of the CPUUtilization target-tracking alarms' high alarms (the scaling
/// targets), distinct and in increasing order.
fn cpu_targets(t: &Table) -> Result<Vec<f64>, PlotError> {
    let (Some(name), Some(metric), Some(th)) = (
        t.col("alarm_name"),
        t.col("metric_name"),
        t.col("threshold"),
    ) else {
        return Ok(vec![]);
    };
    let mut out: Vec<f64> = Vec::new();
    for r in 0..t.rows.len() {
        if t.text(r, metric) == "CPUUtilization"
            && t.text(r, name).contains("AlarmHigh")
            && let Some(v) = t.num(r, th)?
        {
            out.push(v);
        }
    }
    out.sort_by(f64::total_cmp);
    out.dedup();
    Ok(out)
}

/// The time axis' unit: seconds, minutes, hours or days, by the run's length.
fn time_unit(span_s: f64) -> (f64, &'static str) {
    if span_s <= 900.0 {
        (1.0, "s")
    } else if span_s <= 4.0 * 3600.0 {
        (60.0, "min")
    } else if span_s <= 96.0 * 3600.0 {
        (3600.0, "h")
    } else {
        (86400.0, "days")
    }
}

/// An error cause's legend text: `elb_502_target_closed` is `ELB 502 target closed`.
fn cause_label(cause: &str) -> String {
    cause
        .split('_')
        .map(|w| match w {
            "elb" => "ELB".to_string(),
            "5xx" => "5xx".to_string(),
            _ => w.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The dashboard: panels of time series sharing one time axis, two columns.
struct Dashboard {
    title: String,
    panels: Vec<Panel>,
}

/// Rows of metrics.csv grouped by target group, in first-appearance order.
struct Groups {
    names: Vec<String>,
    /// Row indices of each group.
    rows: Vec<Vec<usize>>,
}

impl Dashboard {
    fn from_table(
        t: &Table,
        targets: &[f64],
        name: &Option<String>,
    ) -> Result<Option<Dashboard>, PlotError> {
        if t.rows.is_empty() {
            return Ok(None);
        }
        let time = t.need("time_s")?;
        let iv = t.col("interval_s");
        let mut start = Vec::with_capacity(t.rows.len());
        let mut len = Vec::with_capacity(t.rows.len());
        let mut end_max: f64 = 0.0;
        for r in 0..t.rows.len() {
            let s = t.num(r, time)?.unwrap_or(0.0);
            let l = match iv {
                Some(c) => t.num(r, c)?.unwrap_or(0.0),
                None => 0.0,
            };
            end_max = end_max.max(s + l);
            start.push(s);
            len.push(l);
        }
        let start_min = start.iter().copied().fold(f64::INFINITY, f64::min);
        let (scale, unit) = time_unit(end_max);
        let x_range = (
            start_min / scale,
            (end_max / scale).max(start_min / scale + 1e-9),
        );
        let mid: Vec<f64> = (0..t.rows.len())
            .map(|r| (start[r] + len[r] / 2.0) / scale)
            .collect();
        let groups = match t.col("target_group") {
            Some(g) => {
                let mut names: Vec<String> = Vec::new();
                let mut rows: Vec<Vec<usize>> = Vec::new();
                for r in 0..t.rows.len() {
                    let n = t.text(r, g);
                    match names.iter().position(|x| x == n) {
                        Some(i) => rows[i].push(r),
                        None => {
                            names.push(n.to_string());
                            rows.push(vec![r]);
                        }
                    }
                }
                Groups { names, rows }
            }
            None => Groups {
                names: vec![String::new()],
                rows: vec![(0..t.rows.len()).collect()],
            },
        };
        let multi = groups.names.len() > 1;
        let label = |g: usize, what: &str| {
            if multi {
                format!("{} {what}", groups.names[g])
            } else {
                what.to_string()
            }
        };
        let x_desc = format!("time ({unit})");
        let panel = |title: &str, y_desc: &str| Panel::new(title, &x_desc, y_desc, x_range);
        // Per group, one column's values (optionally divided by the interval) as points.
        let column =
            |g: usize, name: &str, per_s: bool| -> Result<Option<Vec<(f64, f64)>>, PlotError> {
                let Some(vals) = t.nums(name)? else {
                    return Ok(None);
                };
                Ok(Some(
                    groups.rows[g]
                        .iter()
                        .map(|&r| {
                            let v = vals[r].unwrap_or(f64::NAN);
                            let v = if per_s {
                                if len[r] > 0.0 { v / len[r] } else { f64::NAN }
                            } else {
                                v
                            };
                            (mid[r], v)
                        })
                        .collect(),
                ))
            };
        let nonzero = |pts: &[(f64, f64)]| pts.iter().any(|p| p.1.is_finite() && p.1 != 0.0);
        let ngroups = groups.names.len();
        let mut panels = Vec::new();

        // Request rate.
        let mut p = panel("Request rate", "requests/s");
        for g in 0..ngroups {
            let k = if multi { 2 * g } else { 0 };
            if let Some(pts) = column(g, "arrivals", true)? {
                p.series
                    .push(Series::line(label(g, "offered"), color(k), pts));
            }
            if let Some(pts) = column(g, "responses", true)? {
                let mut s = Series::line(label(g, "served"), color(k + 1), pts);
                s.dashed = true;
                p.series.push(s);
            }
        }
        if !p.series.is_empty() {
            panels.push(p);
        }

        // Latency.
        let mut p = panel("Latency of successful responses", "ms");
        let mut all = Vec::new();
        for g in 0..ngroups {
            for (i, (col, what)) in [
                ("latency_p50_ms", "p50"),
                ("latency_p90_ms", "p90"),
                ("latency_p99_ms", "p99"),
            ]
            .iter()
            .enumerate()
            {
                if let Some(pts) = column(g, col, false)? {
                    all.extend(
                        pts.iter()
                            .map(|p| p.1)
                            .filter(|y| y.is_finite() && *y > 0.0),
                    );
                    let mut s = Series::line(label(g, what), color(g * 3 + i), pts);
                    if *what == "p90" {
                        s.width = 1;
                    }
                    p.series.push(s);
                }
            }
        }
        if !p.series.is_empty() {
            // A log axis when the tail dwarfs the body (timeouts next to milliseconds).
            all.sort_by(f64::total_cmp);
            if let (Some(lo), Some(hi)) = (all.first(), all.last())
                && hi / lo > 50.0
            {
                p.log_y = true;
                p.y_desc = "ms (log scale)".into();
            }
            panels.push(p);
        }

        // Error responses by cause.
        let causes: Vec<&String> = t
            .headers
            .iter()
            .filter(|h| h.starts_with("responses_") && h.as_str() != "responses_ok")
            .collect();
        if !causes.is_empty() {
            let mut p = panel("Error responses by cause", "responses/s");
            let mut k = 0;
            for g in 0..ngroups {
                for c in &causes {
                    if let Some(pts) = column(g, c, true)?
                        && nonzero(&pts)
                    {
                        let cause = c.trim_start_matches("responses_");
                        p.series.push(Series::line(
                            label(g, &cause_label(cause)),
                            color(k + 1),
                            pts,
                        ));
                        k += 1;
                    }
                }
            }
            if p.series.is_empty() {
                p.note = Some("no error responses".into());
            }
            panels.push(p);
        }

        // CPU against the scaling target.
        let mut p = panel("CPU utilization", "%");
        p.y_at_least = 100.0;
        for g in 0..ngroups {
            if let Some(pts) = column(g, "cpu_utilization_mean_pct", false)? {
                p.series
                    .push(Series::line(label(g, "mean"), color(2 * g), pts));
            }
            if let Some(pts) = column(g, "cpu_utilization_max_pct", false)? {
                let mut s = Series::line(label(g, "max (busiest task)"), color(2 * g + 4), pts);
                s.width = 1;
                p.series.push(s);
            }
        }
        for &y in targets {
            p.hlines.push(HLine {
                y,
                label: format!("scaling target {} %", fmt_num(y)),
                color: RGBColor(200, 30, 30),
            });
        }
        if !p.series.is_empty() {
            panels.push(p);
        }

        // Tasks by state.
        let mut p = panel("ECS tasks", "tasks");
        let mut k = 0;
        for g in 0..ngroups {
            for (col, what, dashed) in [
                ("tasks_running", "running", false),
                ("tasks_pending", "pending", false),
                ("tasks_stopping", "stopping", false),
                ("desired_count", "desired", true),
            ] {
                if let Some(pts) = column(g, col, false)?
                    && (nonzero(&pts) || col == "tasks_running" || col == "desired_count")
                {
                    let mut s = Series::line(label(g, what), color(k), pts);
                    s.dashed = dashed;
                    p.series.push(s);
                    k += 1;
                }
            }
        }
        if !p.series.is_empty() {
            panels.push(p);
        }

        // Targets by health state.
        let mut p = panel("Targets by health state", "targets");
        let mut k = 0;
        for g in 0..ngroups {
            for (col, what, c) in [
                ("targets_healthy", "healthy", 2),
                ("targets_initial", "initial", 5),
                ("targets_unhealthy", "unhealthy", 1),
                ("targets_draining", "draining", 4),
            ] {
                if let Some(pts) = column(g, col, false)?
                    && (nonzero(&pts) || col == "targets_healthy")
                {
                    let c = if multi { k } else { c };
                    p.series.push(Series::line(label(g, what), color(c), pts));
                    k += 1;
                }
            }
        }
        if !p.series.is_empty() {
            panels.push(p);
        }

        // Memory, where the model has it.
        let mut p = panel("Memory utilization", "%");
        p.y_at_least = 100.0;
        for g in 0..ngroups {
            if let Some(pts) = column(g, "memory_utilization_mean_pct", false)?
                && nonzero(&pts)
            {
                p.series
                    .push(Series::line(label(g, "mean"), color(2 * g), pts));
            }
            if let Some(pts) = column(g, "memory_utilization_max_pct", false)?
                && nonzero(&pts)
            {
                let mut s = Series::line(label(g, "max (busiest task)"), color(2 * g + 4), pts);
                s.width = 1;
                p.series.push(s);
            }
        }
        if !p.series.is_empty() {
            panels.push(p);
        }

        // Cumulative cost (cost_usd is the bill so far, the same in every group's row):
        // plotted at the interval's end, from zero at the start.
        if let Some(vals) = t.nums("cost_usd")? {
            let mut pts = vec![(x_range.0, 0.0)];
            for &r in &groups.rows[0] {
                if let Some(v) = vals[r] {
                    pts.push(((start[r] + len[r]) / scale, v));
                }
            }
            if pts.len() > 1 {
                let mut p = panel("Cost so far", "US$ (cumulative)");
                p.series.push(Series::line("", color(6), pts));
                panels.push(p);
            }
        }

        let title = match name {
            Some(n) => format!("Run: {n}"),
            None => "Run".to_string(),
        };
        Ok(Some(Dashboard { title, panels }))
    }
}

impl Figure for Dashboard {
    fn size(&self) -> (u32, u32) {
        let rows = self.panels.len().div_ceil(2).max(1) as u32;
        (1600, 56 + rows * 330)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let body = titled(root, &self.title)?;
        let rows = self.panels.len().div_ceil(2).max(1);
        let cells = body.split_evenly((rows, 2));
        for (p, cell) in self.panels.iter().zip(cells.iter()) {
            draw_panel(&cell.margin(4, 10, 6, 6), p)?;
        }
        Ok(())
    }
}

/// The latency CDF: cumulative fraction against latency (log axis), p50 and p99 marked.
struct Cdf {
    title: String,
    points: Vec<(f64, f64)>,
}

impl Cdf {
    fn from_table(t: &Table, name: &Option<String>) -> Result<Option<Cdf>, PlotError> {
        let (Some(x), Some(y)) = (t.nums("latency_ms")?, t.nums("cumulative_fraction")?) else {
            return Ok(None);
        };
        let points: Vec<(f64, f64)> = x
            .iter()
            .zip(&y)
            .filter_map(|(x, y)| Some(((*x)?, (*y)?)))
            .filter(|p| p.0 > 0.0)
            .collect();
        if points.is_empty() {
            return Ok(None);
        }
        let title = match name {
            Some(n) => format!("Latency distribution of successful responses: {n}"),
            None => "Latency distribution of successful responses".to_string(),
        };
        Ok(Some(Cdf { title, points }))
    }

    /// The smallest latency whose cumulative fraction reaches `q`.
    fn quantile(&self, q: f64) -> f64 {
        self.points
            .iter()
            .find(|p| p.1 >= q - 1e-12)
            .unwrap_or(self.points.last().expect("points"))
            .0
    }
}

impl Figure for Cdf {
    fn size(&self) -> (u32, u32) {
        (1200, 720)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let body = titled(root, &self.title)?;
        let lo = self.points.first().expect("points").0;
        let hi = self.points.last().expect("points").0;
        let x0 = 10f64.powf(lo.log10().floor());
        let x1 = 10f64.powf(hi.log10().ceil()).max(x0 * 10.0);
        let mut chart = ChartBuilder::on(&body.margin(0, 10, 30, 40))
            .x_label_area_size(60)
            .y_label_area_size(80)
            .build_cartesian_2d((x0..x1).log_scale(), 0f64..1.0)
            .map_err(de)?;
        let fmt = |v: &f64| fmt_num(*v);
        chart
            .configure_mesh()
            .x_desc("latency (ms, log scale)")
            .y_desc("fraction of responses at or below")
            .label_style(font(style::TICK + 2))
            .axis_desc_style(font(style::AXIS + 2))
            .x_label_formatter(&fmt)
            .y_label_formatter(&fmt)
            .bold_line_style(RGBColor(215, 215, 215).stroke_width(1))
            .max_light_lines(1)
            .light_line_style(RGBColor(246, 246, 246).stroke_width(1))
            .axis_style(style::MUTED.stroke_width(1))
            .y_labels(11)
            .draw()
            .map_err(de)?;
        chart
            .draw_series(LineSeries::new(
                self.points.iter().copied(),
                color(0).stroke_width(3),
            ))
            .map_err(de)?;
        let base = body.get_base_pixel();
        for (q, name, c) in [(0.5, "p50", color(2)), (0.99, "p99", color(1))] {
            let v = self.quantile(q);
            let guide = c.stroke_width(2);
            chart
                .draw_series(DashedLineSeries::new(vec![(v, 0.0), (v, q)], 8, 6, guide))
                .map_err(de)?;
            chart
                .draw_series(DashedLineSeries::new(vec![(x0, q), (v, q)], 8, 6, guide))
                .map_err(de)?;
            chart
                .draw_series(std::iter::once(Circle::new((v, q), 7, c.filled())))
                .map_err(de)?;
            let (px, py) = chart.backend_coord(&(v, q));
            body.draw(&Text::new(
                format!("{name} = {} ms", fmt_num(v)),
                (px - base.0 + 14, py - base.1 + if q > 0.9 { 14 } else { 0 }),
                font(20).color(&c).pos(Pos::new(HPos::Left, VPos::Center)),
            ))
            .map_err(de)?;
        }
        Ok(())
    }
}
