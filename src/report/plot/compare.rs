//! A comparison's forest plot (`compare.csv`): for each metric, each alternative's paired
//! difference from the baseline with its 95 % confidence interval, a zero line, significant
//! differences filled and coloured.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::data::Table;
use super::style::{MUTED, fmt_num, fmt_sig, font};
use super::sweep::metric_label;
use super::{Figure, Format, PlotError, de, plots_dir, render};

/// One alternative's difference.
struct Row {
    alternative: String,
    diff: Option<f64>,
    low: Option<f64>,
    high: Option<f64>,
    significant: bool,
}

/// One metric's panel.
struct Block {
    metric: String,
    rows: Vec<Row>,
}

struct Forest {
    baseline: String,
    n: Option<f64>,
    blocks: Vec<Block>,
}

const SIG: RGBColor = RGBColor(213, 94, 0);
const NOT_SIG: RGBColor = RGBColor(120, 120, 120);
const ROW_H: u32 = 46;
const BLOCK_EXTRA: u32 = 112;

/// Draws `dir/plots/compare.<ext>` from `dir/compare.csv`: one panel per metric of
/// `metrics` (empty: those of [`crate::metrics::KEY_METRICS`] the file has, or all of them
/// when it has none of those). Returns the file written (none when the file has no rows).
///
/// # Errors
/// The file cannot be read or is malformed (naming the line and the column), lacks the
/// columns `metric`, `alternative`, `diff_mean`, or lacks a metric asked for; the plot
/// cannot be written.
pub fn compare_plots(
    dir: &Path,
    format: Format,
    metrics: &[String],
) -> Result<Vec<PathBuf>, PlotError> {
    let path = dir.join("compare.csv");
    let t = Table::read(&path)?;
    if t.rows.is_empty() {
        return Ok(vec![]);
    }
    let metric = t.need("metric")?;
    let alt = t.need("alternative")?;
    let diff = t.need("diff_mean")?;
    let (low, high) = (t.col("diff_ci95_low"), t.col("diff_ci95_high"));
    let sig = t.col("significant");
    let base = t.col("baseline");
    let ncol = t.col("n");
    let mut available: Vec<String> = Vec::new();
    for r in 0..t.rows.len() {
        let m = t.text(r, metric);
        if !available.iter().any(|a| a == m) {
            available.push(m.to_string());
        }
    }
    let chosen: Vec<String> = if metrics.is_empty() {
        let key: Vec<String> = available
            .iter()
            .filter(|m| crate::metrics::KEY_METRICS.contains(&m.as_str()))
            .cloned()
            .collect();
        if key.is_empty() {
            available.clone()
        } else {
            key
        }
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
    let opt = |r: usize, c: Option<usize>| -> Result<Option<f64>, PlotError> {
        match c {
            Some(c) => t.num(r, c),
            None => Ok(None),
        }
    };
    let mut blocks = Vec::new();
    for m in &chosen {
        let mut rows = Vec::new();
        for r in (0..t.rows.len()).filter(|&r| t.text(r, metric) == m) {
            let (lo, hi) = (opt(r, low)?, opt(r, high)?);
            let significant = match sig {
                Some(c) => t.text(r, c).trim().eq_ignore_ascii_case("true"),
                None => matches!((lo, hi), (Some(l), Some(h)) if l > 0.0 || h < 0.0),
            };
            rows.push(Row {
                alternative: short_label(t.text(r, alt)),
                diff: t.num(r, diff)?,
                low: lo,
                high: hi,
                significant,
            });
        }
        blocks.push(Block {
            metric: m.clone(),
            rows,
        });
    }
    let baseline = base.map(|c| short_label(t.text(0, c))).unwrap_or_default();
    let n = opt(0, ncol)?;
    let fig = Forest {
        baseline,
        n,
        blocks,
    };
    Ok(vec![render(&plots_dir(dir)?, "compare", format, &fig)?])
}

/// An alternative's label without its parameter's path: `target_groups.0.algorithm=random`
/// is `algorithm=random`; a scenario's label is kept whole.
fn short_label(label: &str) -> String {
    match label.split_once('=') {
        Some((path, value)) if path.contains('.') && !path.contains(' ') => {
            format!("{}={value}", path.rsplit('.').next().unwrap_or(path))
        }
        _ => label.to_string(),
    }
}

impl Figure for Forest {
    fn size(&self) -> (u32, u32) {
        let h: u32 = self
            .blocks
            .iter()
            .map(|b| BLOCK_EXTRA + ROW_H * b.rows.len().max(1) as u32)
            .sum();
        (1400, 130 + h)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let (w, _) = root.dim_in_pixel();
        root.draw(&Text::new(
            format!("Paired differences from the baseline \"{}\"", self.baseline),
            (w as i32 / 2, 14),
            font(28).pos(Pos::new(HPos::Center, VPos::Top)),
        ))
        .map_err(de)?;
        let sub = match self.n {
            Some(n) => format!(
                "alternative − baseline, mean over {} paired replications with its 95 % confidence interval",
                fmt_num(n)
            ),
            None => "alternative − baseline, mean with its 95 % confidence interval".to_string(),
        };
        root.draw(&Text::new(
            sub,
            (w as i32 / 2, 50),
            font(18)
                .color(&MUTED)
                .pos(Pos::new(HPos::Center, VPos::Top)),
        ))
        .map_err(de)?;
        // Legend: filled = significant, hollow = not.
        let ly = 92;
        let mut x = w as i32 / 2 - 330;
        root.draw(&Circle::new((x, ly), 8, SIG.filled()))
            .map_err(de)?;
        let t1 = "significant (the interval excludes 0)";
        root.draw(&Text::new(
            t1,
            (x + 16, ly),
            font(18).pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(de)?;
        x += 16 + root.estimate_text_size(t1, &font(18)).map_err(de)?.0 as i32 + 40;
        root.draw(&Circle::new((x, ly), 8, NOT_SIG.stroke_width(2)))
            .map_err(de)?;
        root.draw(&Text::new(
            "not significant",
            (x + 16, ly),
            font(18).pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(de)?;

        let (_, mut rest) = root.split_vertically(120);
        // The label column fits the longest alternative's name.
        let mut label_w = 120;
        for b in &self.blocks {
            for r in &b.rows {
                let (tw, _) = root
                    .estimate_text_size(&r.alternative, &font(18))
                    .map_err(de)?;
                label_w = label_w.max(tw + 24);
            }
        }
        for b in &self.blocks {
            let h = BLOCK_EXTRA + ROW_H * b.rows.len().max(1) as u32;
            let (area, below) = rest.split_vertically(h);
            rest = below;
            draw_block(&area.margin(0, 10, 10, 20), b, label_w)?;
        }
        Ok(())
    }
}

fn draw_block<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    b: &Block,
    label_w: u32,
) -> Result<(), String> {
    let (title, unit) = metric_label(&b.metric);
    let unit = if unit.is_empty() {
        String::new()
    } else {
        format!(" ({unit})")
    };
    area.draw(&Text::new(
        format!("{title}{unit}"),
        (4, 4),
        font(22).pos(Pos::new(HPos::Left, VPos::Top)),
    ))
    .map_err(de)?;
    let (_, body) = area.split_vertically(34);
    let mut lo: f64 = 0.0;
    let mut hi: f64 = 0.0;
    for r in &b.rows {
        for v in [r.diff, r.low, r.high].into_iter().flatten() {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    let span = if hi > lo { hi - lo } else { 1.0 };
    let (x0, x1) = (lo - span * 0.08, hi + span * 0.08);
    let n = b.rows.len().max(1);
    let mut chart = ChartBuilder::on(&body)
        .margin_right(270)
        .x_label_area_size(46)
        .y_label_area_size(label_w)
        .build_cartesian_2d(x0..x1, -0.6f64..(n as f64 - 0.4))
        .map_err(de)?;
    let fmt = |v: &f64| fmt_num(*v);
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_labels(8)
        .x_label_formatter(&fmt)
        .x_desc(format!("difference{unit}"))
        .label_style(font(16))
        .axis_desc_style(font(17))
        .bold_line_style(RGBColor(220, 220, 220).stroke_width(1))
        .max_light_lines(1)
        .light_line_style(RGBColor(246, 246, 246).stroke_width(1))
        .axis_style(MUTED.stroke_width(1))
        .draw()
        .map_err(de)?;
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(0.0, -0.6), (0.0, n as f64 - 0.4)],
            BLACK.stroke_width(2),
        )))
        .map_err(de)?;
    let base = body.get_base_pixel();
    let (plot_right, _) = chart.backend_coord(&(x1, 0.0));
    for (i, r) in b.rows.iter().enumerate() {
        // The first alternative on top.
        let y = (n - 1 - i) as f64;
        let c = if r.significant { SIG } else { NOT_SIG };
        let (_, py) = chart.backend_coord(&(x0, y));
        body.draw(&Text::new(
            r.alternative.clone(),
            (label_w as i32 - 14, py - base.1),
            font(18).pos(Pos::new(HPos::Right, VPos::Center)),
        ))
        .map_err(de)?;
        if let (Some(l), Some(h)) = (r.low, r.high) {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(l, y), (h, y)],
                    c.stroke_width(3),
                )))
                .map_err(de)?;
            for e in [l, h] {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(e, y - 0.18), (e, y + 0.18)],
                        c.stroke_width(3),
                    )))
                    .map_err(de)?;
            }
        }
        if let Some(d) = r.diff {
            let style = if r.significant {
                c.filled()
            } else {
                WHITE.filled()
            };
            chart
                .draw_series(std::iter::once(Circle::new((d, y), 8, style)))
                .map_err(de)?;
            chart
                .draw_series(std::iter::once(Circle::new((d, y), 8, c.stroke_width(2))))
                .map_err(de)?;
        }
        let signed = |v: f64| {
            if v > 0.0 {
                format!("+{}", fmt_sig(v, 3))
            } else {
                fmt_sig(v, 3)
            }
        };
        let text = match (r.diff, r.low, r.high) {
            (Some(d), Some(l), Some(h)) => format!("{} [{}, {}]", signed(d), signed(l), signed(h)),
            (Some(d), _, _) => signed(d),
            _ => "no value".to_string(),
        };
        body.draw(&Text::new(
            text,
            (plot_right - base.0 + 16, py - base.1),
            font(17).color(&c).pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(de)?;
    }
    Ok(())
}
