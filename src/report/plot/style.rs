//! The look shared by every plot: colours, fonts, number formats, and a panel of lines
//! (title and legend above the plot area, so a legend never hides data).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::de;

/// Colour-blind-safe palette (Okabe & Ito), then a few darker extras.
pub(crate) const PALETTE: [RGBColor; 10] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(120, 94, 40),   // brown
    RGBColor(90, 90, 90),    // grey
    RGBColor(150, 40, 40),   // dark red
    RGBColor(40, 40, 140),   // dark blue
];

/// The `i`-th palette colour (cycling).
pub(crate) fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Text colour.
pub(crate) const INK: RGBColor = RGBColor(30, 30, 30);
/// Grid and secondary text colour.
pub(crate) const MUTED: RGBColor = RGBColor(110, 110, 110);

/// A font of the bundled family at `size` pixels.
pub(crate) fn font(size: u32) -> TextStyle<'static> {
    ("sans-serif", size).into_font().color(&INK)
}

/// Text style of a panel's title.
pub(crate) const TITLE: u32 = 22;
/// Text style of a legend entry.
pub(crate) const LEGEND: u32 = 17;
/// Text style of axis tick labels.
pub(crate) const TICK: u32 = 16;
/// Text style of axis descriptions.
pub(crate) const AXIS: u32 = 17;

/// A number for an axis or a label: at most about four significant digits below 1,000,
/// no float noise (`0.30000000000000004` is `0.3`), whole numbers with thousands separators
/// from 1,000 on (`19,850`).
pub(crate) fn fmt_num(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 || !v.is_finite() {
        return "0".into();
    }
    if a >= 1e3 {
        let digits = format!("{:.0}", a);
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        return if v < 0.0 { format!("-{out}") } else { out };
    }
    let decimals = (3 - a.log10().floor() as i32).clamp(0, 9) as usize;
    let s = trim(format!("{v:.decimals$}"));
    if s == "-0" { "0".into() } else { s }
}

/// A number with `digits` significant digits (for value labels), thousands separated from
/// 1,000 on.
pub(crate) fn fmt_sig(v: f64, digits: i32) -> String {
    let a = v.abs();
    if a == 0.0 || !v.is_finite() || a >= 1e3 {
        return fmt_num(v);
    }
    let decimals = (digits - 1 - a.log10().floor() as i32).clamp(0, 12) as usize;
    let s = trim(format!("{v:.decimals$}"));
    if s == "-0" { "0".into() } else { s }
}

#[cfg(test)]
mod tests {
    use super::fmt_num;

    #[test]
    fn numbers_read_as_written() {
        assert_eq!(fmt_num(0.1 + 0.2), "0.3");
        assert_eq!(fmt_num(0.0005), "0.0005");
        assert_eq!(fmt_num(-2.5), "-2.5");
        assert_eq!(fmt_num(9950.0), "9,950");
        assert_eq!(fmt_num(999.5), "999.5");
        assert_eq!(fmt_num(19850.0), "19,850");
        assert_eq!(fmt_num(-1234567.0), "-1,234,567");
        assert_eq!(fmt_num(0.0), "0");
        assert_eq!(fmt_num(-1e-17), "0");
        assert_eq!(super::fmt_sig(0.00080391, 3), "0.000804");
        assert_eq!(super::fmt_sig(-52.524, 3), "-52.5");
    }
}

fn trim(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// One line of a panel.
#[derive(Clone, Debug)]
pub(crate) struct Series {
    /// Legend text.
    pub name: String,
    /// Colour.
    pub color: RGBColor,
    /// Dashed (for targets and set points, such as the desired count).
    pub dashed: bool,
    /// Stroke width, pixels.
    pub width: u32,
    /// Points (x, y), in x order.
    pub points: Vec<(f64, f64)>,
    /// A band (x, low, high) drawn under the line (confidence intervals).
    pub band: Vec<(f64, f64, f64)>,
    /// Draw a dot at each point (few points: sweeps).
    pub markers: bool,
}

impl Series {
    /// A solid line of width 2.
    pub fn line(name: impl Into<String>, color: RGBColor, points: Vec<(f64, f64)>) -> Series {
        Series {
            name: name.into(),
            color,
            dashed: false,
            width: 2,
            points,
            band: vec![],
            markers: false,
        }
    }
}

/// A horizontal reference line with a label (a scaling target).
#[derive(Clone, Debug)]
pub(crate) struct HLine {
    /// Height, in y units.
    pub y: f64,
    /// Label written above the line's right end.
    pub label: String,
    /// Colour.
    pub color: RGBColor,
}

/// A plot of lines against a shared x axis.
#[derive(Clone, Debug)]
pub(crate) struct Panel {
    /// Title, top left.
    pub title: String,
    /// x axis description (with its unit); empty: none.
    pub x_desc: String,
    /// y axis description (with its unit).
    pub y_desc: String,
    /// x range.
    pub x_range: (f64, f64),
    /// Category names at x = 0, 1, ... instead of numeric ticks.
    pub x_categories: Vec<String>,
    /// Logarithmic y axis.
    pub log_y: bool,
    /// y axis starts at zero (linear axes).
    pub y_from_zero: bool,
    /// The y axis reaches at least this (100 for percentages).
    pub y_at_least: f64,
    /// The lines.
    pub series: Vec<Series>,
    /// Reference lines.
    pub hlines: Vec<HLine>,
    /// A note written in the plot area when there is nothing to show.
    pub note: Option<String>,
}

impl Panel {
    /// An empty panel with a title and axis descriptions.
    pub fn new(title: &str, x_desc: &str, y_desc: &str, x_range: (f64, f64)) -> Panel {
        Panel {
            title: title.into(),
            x_desc: x_desc.into(),
            y_desc: y_desc.into(),
            x_range,
            x_categories: vec![],
            log_y: false,
            y_from_zero: true,
            y_at_least: 0.0,
            series: vec![],
            hlines: vec![],
            note: None,
        }
    }

    fn y_range(&self) -> (f64, f64) {
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        let mut see = |y: f64| {
            if y.is_finite() && (!self.log_y || y > 0.0) {
                lo = lo.min(y);
                hi = hi.max(y);
            }
        };
        for s in &self.series {
            s.points.iter().for_each(|p| see(p.1));
            s.band.iter().for_each(|b| {
                see(b.1);
                see(b.2);
            });
        }
        self.hlines.iter().for_each(|h| see(h.y));
        if !lo.is_finite() {
            return if self.log_y { (1.0, 10.0) } else { (0.0, 1.0) };
        }
        if self.log_y {
            let lo = 10f64.powf(lo.log10().floor());
            let hi = 10f64.powf((hi * 1.05).log10().ceil()).max(lo * 10.0);
            return (lo, hi);
        }
        if self.y_from_zero {
            lo = lo.min(0.0);
        }
        hi = hi.max(self.y_at_least);
        let span = hi - lo;
        if span <= 0.0 {
            if lo >= 0.0 {
                return (0.0, if hi == 0.0 { 1.0 } else { hi * 1.2 });
            }
            let pad = hi.abs() * 0.1;
            return (lo - pad, hi + pad);
        }
        let lo = if self.y_from_zero && lo >= 0.0 {
            0.0
        } else {
            lo - span * 0.05
        };
        (lo, hi + span * 0.08)
    }
}

/// Draws a legend entry's sample (a short line, dashed if the series is) at `(x, y)`
/// (y the text's middle), returns the entry's width.
fn legend_entry<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    x: i32,
    y: i32,
    name: &str,
    color: RGBColor,
    dashed: bool,
) -> Result<i32, String> {
    let style = color.stroke_width(3);
    if dashed {
        for k in 0..3 {
            area.draw(&PathElement::new(
                vec![(x + k * 10, y), (x + k * 10 + 6, y)],
                style,
            ))
            .map_err(de)?;
        }
    } else {
        area.draw(&PathElement::new(vec![(x, y), (x + 26, y)], style))
            .map_err(de)?;
    }
    let f = font(LEGEND);
    let (w, _) = area.estimate_text_size(name, &f).map_err(de)?;
    area.draw(&Text::new(
        name.to_string(),
        (x + 32, y),
        f.pos(Pos::new(HPos::Left, VPos::Center)),
    ))
    .map_err(de)?;
    Ok(32 + w as i32 + 22)
}

/// The legend's rows: entries laid left to right from `x0`, wrapping at `width`.
fn legend_rows<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, RGBColor, bool)],
    x0: i32,
    width: i32,
) -> Result<Vec<Vec<(i32, usize)>>, String> {
    let mut rows: Vec<Vec<(i32, usize)>> = vec![vec![]];
    let mut x = x0;
    let f = font(LEGEND);
    for (i, (name, _, _)) in entries.iter().enumerate() {
        let (w, _) = area.estimate_text_size(name, &f).map_err(de)?;
        let w = 32 + w as i32 + 22;
        if x + w > width && !rows.last().is_some_and(Vec::is_empty) {
            rows.push(vec![]);
            x = 12;
        }
        rows.last_mut().expect("a row").push((x, i));
        x += w;
    }
    Ok(rows)
}

/// Draws `p` in `area`: the title and the legend on top, the plot below.
pub(crate) fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &Panel,
) -> Result<(), String> {
    let (w, _) = area.dim_in_pixel();
    let tf = font(TITLE);
    let (tw, _) = area.estimate_text_size(&p.title, &tf).map_err(de)?;
    let entries: Vec<(String, RGBColor, bool)> = p
        .series
        .iter()
        .filter(|s| !s.name.is_empty())
        .map(|s| (s.name.clone(), s.color, s.dashed))
        .collect();
    let rows = legend_rows(area, &entries, 12 + tw as i32 + 30, w as i32 - 10)?;
    let row_h = 26;
    let header = 10 + row_h * rows.len() as i32;
    area.draw(&Text::new(
        p.title.clone(),
        (12, 8 + row_h / 2),
        tf.pos(Pos::new(HPos::Left, VPos::Center)),
    ))
    .map_err(de)?;
    for (r, row) in rows.iter().enumerate() {
        for &(x, i) in row {
            let (name, color, dashed) = &entries[i];
            legend_entry(
                area,
                x,
                8 + row_h / 2 + r as i32 * row_h,
                name,
                *color,
                *dashed,
            )?;
        }
    }
    let (_, body) = area.split_vertically(header as u32 + 4);
    let (y0, y1) = p.y_range();
    let (x0, x1) = p.x_range;
    // Category names too wide for their slot are staggered on two rows.
    let (bw, _) = body.dim_in_pixel();
    let slot = (bw as f64 - 120.0) / p.x_categories.len().max(1) as f64;
    let mut stagger = false;
    for c in &p.x_categories {
        let (cw, _) = body.estimate_text_size(c, &font(TICK)).map_err(de)?;
        stagger |= cw as f64 > slot * 0.95;
    }
    let x_label_area = if p.x_desc.is_empty() { 30 } else { 56 } + if stagger { 22 } else { 0 };
    let mut cb = ChartBuilder::on(&body);
    cb.margin_right(24)
        .margin_left(8)
        .x_label_area_size(x_label_area)
        .y_label_area_size(84);
    macro_rules! body {
        ($chart:ident) => {{
            let cats = &p.x_categories;
            let x_fmt = |x: &f64| fmt_num(*x);
            let y_fmt = |y: &f64| fmt_num(*y);
            let mut mesh = $chart.configure_mesh();
            mesh.x_desc(p.x_desc.clone())
                .y_desc(p.y_desc.clone())
                .label_style(font(TICK))
                .axis_desc_style(font(AXIS))
                .x_label_formatter(&x_fmt)
                .y_label_formatter(&y_fmt)
                .bold_line_style(RGBColor(215, 215, 215).stroke_width(1))
                .max_light_lines(1)
                .light_line_style(RGBColor(246, 246, 246).stroke_width(1))
                .axis_style(MUTED.stroke_width(1))
                .x_labels(8)
                .y_labels(6);
            if !cats.is_empty() {
                mesh.x_labels(0).disable_x_mesh();
            }
            mesh.draw().map_err(de)?;
            if !cats.is_empty() {
                let (_, ya) = if p.log_y { (0.0, y0) } else { (0.0, y0) };
                for (i, c) in cats.iter().enumerate() {
                    let (px, py) = $chart.backend_coord(&(i as f64, ya));
                    body.draw(&Text::new(
                        c.clone(),
                        (
                            px - body.get_base_pixel().0,
                            py - body.get_base_pixel().1
                                + 8
                                + if stagger && i % 2 == 1 { 22 } else { 0 },
                        ),
                        font(TICK).pos(Pos::new(HPos::Center, VPos::Top)),
                    ))
                    .map_err(de)?;
                }
            }
            let yok = |y: f64| y.is_finite() && (!p.log_y || y > 0.0);
            for s in &p.series {
                if s.band.len() >= 2 {
                    let mut poly: Vec<(f64, f64)> = s
                        .band
                        .iter()
                        .filter(|b| yok(b.1) && yok(b.2))
                        .map(|b| (b.0, b.2))
                        .collect();
                    poly.extend(
                        s.band
                            .iter()
                            .rev()
                            .filter(|b| yok(b.1) && yok(b.2))
                            .map(|b| (b.0, b.1)),
                    );
                    $chart
                        .draw_series(std::iter::once(Polygon::new(
                            poly,
                            s.color.mix(0.18).filled(),
                        )))
                        .map_err(de)?;
                }
                for b in s.band.iter().filter(|b| yok(b.1) && yok(b.2)) {
                    $chart
                        .draw_series(std::iter::once(PathElement::new(
                            vec![(b.0, b.1), (b.0, b.2)],
                            s.color.mix(0.6).stroke_width(2),
                        )))
                        .map_err(de)?;
                }
            }
            for s in &p.series {
                let style = s.color.stroke_width(s.width);
                // Split the line where a point is missing (an empty cell), so no gap is bridged.
                let mut runs: Vec<Vec<(f64, f64)>> = vec![vec![]];
                for &(x, y) in &s.points {
                    if yok(y) {
                        runs.last_mut().expect("a run").push((x, y));
                    } else if !runs.last().is_some_and(Vec::is_empty) {
                        runs.push(vec![]);
                    }
                }
                for run in runs.into_iter().filter(|r| !r.is_empty()) {
                    if s.dashed {
                        $chart
                            .draw_series(DashedLineSeries::new(run.clone(), 9, 6, style))
                            .map_err(de)?;
                    } else {
                        $chart
                            .draw_series(LineSeries::new(run.clone(), style))
                            .map_err(de)?;
                    }
                    if s.markers || run.len() == 1 {
                        $chart
                            .draw_series(run.iter().map(|&pt| Circle::new(pt, 5, s.color.filled())))
                            .map_err(de)?;
                    }
                }
            }
            for h in &p.hlines {
                $chart
                    .draw_series(DashedLineSeries::new(
                        vec![(x0, h.y), (x1, h.y)],
                        10,
                        6,
                        h.color.stroke_width(2),
                    ))
                    .map_err(de)?;
                let (px, py) = $chart.backend_coord(&(x1, h.y));
                let base = body.get_base_pixel();
                body.draw(&Text::new(
                    h.label.clone(),
                    (px - base.0 - 6, py - base.1 - 4),
                    font(LEGEND)
                        .color(&h.color)
                        .pos(Pos::new(HPos::Right, VPos::Bottom)),
                ))
                .map_err(de)?;
            }
            if let Some(note) = &p.note {
                let mid = (
                    (x0 + x1) / 2.0,
                    if p.log_y {
                        (y0 * y1).sqrt()
                    } else {
                        (y0 + y1) / 2.0
                    },
                );
                let (px, py) = $chart.backend_coord(&mid);
                let base = body.get_base_pixel();
                body.draw(&Text::new(
                    note.clone(),
                    (px - base.0, py - base.1),
                    font(LEGEND)
                        .color(&MUTED)
                        .pos(Pos::new(HPos::Center, VPos::Center)),
                ))
                .map_err(de)?;
            }
        }};
    }
    if p.log_y {
        let mut chart = cb
            .build_cartesian_2d(x0..x1, (y0..y1).log_scale())
            .map_err(de)?;
        body!(chart);
    } else {
        let mut chart = cb.build_cartesian_2d(x0..x1, y0..y1).map_err(de)?;
        body!(chart);
    }
    Ok(())
}

/// Draws a figure title centred at the top of `area`; returns the area below it.
pub(crate) fn titled<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
) -> Result<DrawingArea<DB, Shift>, String> {
    let (w, _) = area.dim_in_pixel();
    area.draw(&Text::new(
        title.to_string(),
        (w as i32 / 2, 14),
        font(28).pos(Pos::new(HPos::Center, VPos::Top)),
    ))
    .map_err(de)?;
    Ok(area.split_vertically(56).1)
}
